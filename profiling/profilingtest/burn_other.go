//go:build !linux

package profilingtest

import "time"

// burnClock measures wall time: spent says whether d of it has passed.
func burnClock(d time.Duration) (spent func() bool, release func()) {
	end := time.Now().Add(d)
	return func() bool { return time.Now().After(end) }, func() {}
}
