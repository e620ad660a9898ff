//go:build !linux

package main

import "time"

// burnCPU spins for d of wall time (without a per-thread CPU clock, a loaded machine gives it fewer
// samples), in arithmetic on locals: its CPU samples are all in it.
//
//go:noinline
func burnCPU(d time.Duration) uint64 {
	end := time.Now().Add(d)
	x := uint64(88172645463325252)
	for time.Now().Before(end) {
		for i := 0; i < 1<<15; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}
