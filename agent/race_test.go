//go:build race

package agent_test

// poolNoise is how many allocations per request the race detector's random sync.Pool drops may add.
const poolNoise = 0.5
