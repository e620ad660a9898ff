// Package profilingtest holds the profiler's test aids, for its own tests and for services that test
// their profiling: Burn is a known CPU load, spinning in arithmetic on locals (no memory access, so the
// race detector adds no calls), so that a CPU profile of it has Burn on top of every sample. The
// profiling and collector tests look for this frame
// (github.com/hotpath-apm/hotpath/profiling/profilingtest.Burn) in the profiles they capture.
package profilingtest

import "time"

// Burn spins until d has been spent: on Linux d of its thread's CPU time (so that a loaded machine slows
// it down without taking its samples away), giving up after a minute of wall time; elsewhere d of wall
// time. The result is only there so that the work cannot be optimized away.
//
//go:noinline
func Burn(d time.Duration) uint64 {
	spent, release := burnClock(d)
	defer release()
	x := uint64(88172645463325252)
	for {
		for i := 0; i < 1<<15; i++ { // the work is here, in Burn's own frame, and nowhere else
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		if spent() {
			return x
		}
	}
}
