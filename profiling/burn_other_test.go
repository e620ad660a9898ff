//go:build !linux

package profiling_test

import "time"

// burnCPU spins for d of wall time, in arithmetic on locals: its CPU samples are all in it.
//
//go:noinline
func burnCPU(d time.Duration) uint64 {
	end := time.Now().Add(d)
	x := uint64(88172645463325252)
	for {
		for i := 0; i < 1<<15; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		if time.Now().After(end) {
			return x
		}
	}
}
