//go:build !linux

package profilingtest

import "time"

// Burn spins for d of wall time. The result is only there so that the work cannot be optimized away.
//
//go:noinline
func Burn(d time.Duration) uint64 {
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
