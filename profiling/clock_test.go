package profiling

import (
	"runtime"
	"sync"
	"time"
)

// fakeClock is a clock that moves only when Advance is called; its timers and tickers fire (without
// blocking: a tick the reader has not taken is dropped, as with time.Ticker) when Advance passes them.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created chan struct{} // receives (without blocking, up to its capacity) when a timer or ticker is made
}

type fakeTimer struct {
	when    time.Time
	period  time.Duration // 0: a timer
	ch      chan time.Time
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), created: make(chan struct{}, 1024)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d, period time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{when: c.now.Add(d), period: period, ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	select {
	case c.created <- struct{}{}:
	default:
	}
	return t.ch, func() {
		c.mu.Lock()
		t.stopped = true
		c.mu.Unlock()
	}
}

func (c *fakeClock) NewTimer(d time.Duration) (<-chan time.Time, func()) { return c.add(d, 0) }

func (c *fakeClock) NewTicker(d time.Duration) (<-chan time.Time, func()) { return c.add(d, d) }

// Advance moves the clock by d and fires the timers and tickers it passes.
func (c *fakeClock) Advance(d time.Duration) { c.advance(d) }

// AdvanceUntilTaken moves the clock by d as Advance does, then waits until the value of every timer and
// ticker it fired has been received (yielding, not sleeping): the goroutine that took it is then
// acting on it, and the next tick cannot be dropped for its being late.
func (c *fakeClock) AdvanceUntilTaken(d time.Duration) {
	for _, ch := range c.advance(d) {
		for len(ch) > 0 {
			runtime.Gosched()
		}
	}
}

// advance moves the clock by d, fires the timers and tickers it passes, and returns their channels.
func (c *fakeClock) advance(d time.Duration) (fired []chan time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	live := c.timers[:0]
	for _, t := range c.timers {
		if t.stopped {
			continue
		}
		if !t.when.After(c.now) {
			select {
			case t.ch <- c.now:
			default:
			}
			fired = append(fired, t.ch)
			if t.period == 0 {
				continue
			}
			for !t.when.After(c.now) {
				t.when = t.when.Add(t.period)
			}
		}
		live = append(live, t)
	}
	c.timers = live
	return fired
}

// Created receives once per timer or ticker made: tests wait on it for a goroutine to have set its timer
// before advancing past it.
func (c *fakeClock) Created() <-chan struct{} { return c.created }
