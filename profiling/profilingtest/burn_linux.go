package profilingtest

import (
	"runtime"
	"syscall"
	"time"
)

// burnClock measures the calling thread's CPU time, the goroutine locked to its thread until release; spent
// says whether d of it has been used, or a minute of wall time has passed.
func burnClock(d time.Duration) (spent func() bool, release func()) {
	runtime.LockOSThread() // the thread's CPU time is then the goroutine's
	start := threadCPUTime()
	deadline := time.Now().Add(time.Minute)
	return func() bool {
		return threadCPUTime()-start >= d || time.Now().After(deadline)
	}, runtime.UnlockOSThread
}

// threadCPUTime is the calling thread's CPU time.
func threadCPUTime() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	_ = syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
