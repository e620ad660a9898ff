package profiling

import (
	"sync"
	"time"
)

// skipReason says why admission refused a capture.
type skipReason uint8

const (
	admitted       skipReason = iota
	skipCooldown              // the same key was captured less than cooldown ago
	skipRate                  // the rate limit's tokens are spent
	skipConcurrent            // maxActive captures are running
	skipClosed                // the profiler is closing
)

// maxCooldownKeys bounds the keys admission remembers; past it, keys out of their cooldown are forgotten.
const maxCooldownKeys = 1024

// admission decides which captures may start: at most maxActive at a time, at most burst in a row and
// then one per 1/rate on average (a token bucket), and one per key (route, trigger) per cooldown. A
// refusal costs a lock and a map lookup, so that a burst of slow requests costs almost nothing.
type admission struct {
	maxActive int
	burst     float64
	rate      float64 // tokens per second
	cooldown  time.Duration

	mu      sync.Mutex
	active  int
	tokens  float64
	refill  time.Time            // when tokens was last brought up to date
	lastKey map[string]time.Time // when each key was last admitted
	closed  bool
}

func newAdmission(maxActive, burst int, per, cooldown time.Duration) *admission {
	return &admission{
		maxActive: maxActive,
		burst:     float64(burst),
		rate:      float64(burst) / per.Seconds(),
		cooldown:  cooldown,
		tokens:    float64(burst),
		refill:    time.Now(),
		lastKey:   make(map[string]time.Time),
	}
}

// admit reports whether a capture for key may start; if it does, done must be called when it ends. The
// empty key has no cooldown.
func (a *admission) admit(key string) skipReason {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return skipClosed
	}
	if key != "" {
		if last, ok := a.lastKey[key]; ok && now.Sub(last) < a.cooldown {
			return skipCooldown
		}
	}
	if a.active >= a.maxActive {
		return skipConcurrent
	}
	if d := now.Sub(a.refill); d > 0 {
		a.tokens = min(a.burst, a.tokens+d.Seconds()*a.rate)
		a.refill = now
	}
	if a.tokens < 1 {
		return skipRate
	}
	a.tokens--
	a.active++
	if key == "" {
		return admitted
	}
	if len(a.lastKey) >= maxCooldownKeys {
		for k, t := range a.lastKey {
			if now.Sub(t) >= a.cooldown {
				delete(a.lastKey, k)
			}
		}
	}
	a.lastKey[key] = now
	return admitted
}

// done ends an admitted capture.
func (a *admission) done() {
	a.mu.Lock()
	a.active--
	a.mu.Unlock()
}

// close refuses every capture from now on.
func (a *admission) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
}
