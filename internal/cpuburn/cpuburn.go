// Package cpuburn is the tests' known CPU load: Burn spins in arithmetic on locals (no memory access,
// so the race detector adds no calls), so that a CPU profile of it has Burn on top of every sample. The
// profiling and collector tests look for this frame (github.com/hotpath-apm/hotpath/internal/cpuburn.Burn)
// in the profiles they capture.
package cpuburn
