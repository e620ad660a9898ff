//go:build race

package agent_test

// poolNoise is how many allocations per request the race detector's random sync.Pool drops may add to
// one case and not another (measured: up to 0.6). The floors are exact without -race.
const poolNoise = 1.0
