package profilingtest

import (
	"runtime"
	"syscall"
	"time"
)

// Burn spins until its thread has used d of CPU time (so that a loaded machine slows it down without
// taking its samples away). It gives up after a minute of wall time. The result is only there so that
// the work cannot be optimized away.
//
//go:noinline
func Burn(d time.Duration) uint64 {
	runtime.LockOSThread() // the thread's CPU time is then the goroutine's
	defer runtime.UnlockOSThread()
	start := threadCPUTime()
	deadline := time.Now().Add(time.Minute)
	x := uint64(88172645463325252)
	for {
		for i := 0; i < 1<<15; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		if threadCPUTime()-start >= d || time.Now().After(deadline) {
			return x
		}
	}
}

// threadCPUTime is the calling thread's CPU time.
func threadCPUTime() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	_ = syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
