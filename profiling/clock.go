package profiling

import "time"

// clock is the time source of the parts whose behaviour depends on time passing (admission, triggers,
// capture deadlines), so that tests can drive them without sleeping. The CPU-profile chunks use the real
// clock: they follow the runtime's own.
type clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once, d from now, and a function that stops it.
	NewTimer(d time.Duration) (<-chan time.Time, func())
	// NewTicker returns a channel that receives every d, dropping ticks a slow reader misses, and a
	// function that stops it.
	NewTicker(d time.Duration) (<-chan time.Time, func())
}

// realClock is the clock of the time package.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

func (realClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}
