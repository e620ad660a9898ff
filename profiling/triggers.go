package profiling

import (
	"bytes"
	"fmt"
	"math"
	"runtime/pprof"
	"time"

	"go.uber.org/zap"
)

// Defaults of the resource triggers.
const (
	DefaultTriggerInterval = 5 * time.Second
	DefaultTriggerCooldown = time.Minute
)

// triggerHistory is how many previous checks a diff rule averages; minTriggerHistory is how many it
// needs before it may fire.
const (
	triggerHistory    = 10
	minTriggerHistory = 3
)

// Rule says when a resource trigger fires, as holmes's rules do. A check fires when the value is at
// least Abs (if Abs > 0), or when it is at least Min and at least 1+Diff times the average of the
// previous checks (the last 10, once there are 3; if Diff > 0). After firing, a rule does not fire
// again for Cooldown. A rule that fires while admission refuses a capture (concurrency cap, rate limit)
// fires again at the next check that passes it.
type Rule struct {
	// Abs is the value at or above which the rule fires whatever the history; 0: no absolute rule.
	Abs float64
	// Min is the value below which the diff rule does not fire; 0: no minimum.
	Min float64
	// Diff is how far above the average of the previous checks the value must be for the diff rule
	// to fire, as a fraction (0.5: 50% above); 0: no diff rule.
	Diff float64
	// Cooldown is how long the rule stays quiet after firing; 0: DefaultTriggerCooldown (1 min).
	Cooldown time.Duration
}

// ResourceEvent describes what fired a resource trigger.
type ResourceEvent struct {
	Resource Resource
	// Value is the resource's value at the check that fired (in Resource's unit).
	Value float64
	// Rule is "abs" or "diff"; Threshold is the value the rule compared against (Abs, or (1+Diff)
	// times Average); Average is the average of the previous checks (NaN if there were none).
	Rule      string
	Threshold float64
	Average   float64
}

// ruleState is a rule and what it remembers.
type ruleState struct {
	resource Resource
	rule     Rule
	history  [triggerHistory]float64
	n, next  int
	lastFire time.Time
	fired    bool
}

// check compares v with the rule and then adds it to the history; it returns what would fire, or nil.
// The cooldown starts only when fire is called (the capture was admitted).
func (s *ruleState) check(now time.Time, v float64) *ResourceEvent {
	if math.IsNaN(v) {
		return nil
	}
	avg := math.NaN()
	if s.n > 0 {
		sum := 0.0
		for i := range s.n {
			sum += s.history[i]
		}
		avg = sum / float64(s.n)
	}
	s.history[s.next] = v
	s.next = (s.next + 1) % triggerHistory
	s.n = min(s.n+1, triggerHistory)

	cooldown := s.rule.Cooldown
	if cooldown == 0 {
		cooldown = DefaultTriggerCooldown
	}
	if s.fired && now.Sub(s.lastFire) < cooldown {
		return nil
	}
	ev := &ResourceEvent{Resource: s.resource, Value: v, Average: avg}
	switch {
	case s.rule.Abs > 0 && v >= s.rule.Abs:
		ev.Rule, ev.Threshold = "abs", s.rule.Abs
	case s.rule.Diff > 0 && s.n-1 >= minTriggerHistory && v >= s.rule.Min && v >= avg*(1+s.rule.Diff):
		ev.Rule, ev.Threshold = "diff", avg*(1+s.rule.Diff)
	default:
		return nil
	}
	return ev
}

func (s *ruleState) fire(now time.Time) {
	s.fired, s.lastFire = true, now
}

// triggerChecker is the goroutine that checks the resources every interval. It never blocks: reading
// the resources does not, admission is a short lock, and a capture runs on its own goroutine.
type triggerChecker struct {
	p      *Profiler
	rules  []*ruleState
	read   func() resourceValues
	ticker *time.Ticker
	quit   chan struct{}
	done   chan struct{}
}

func (p *Profiler) newTriggerChecker() *triggerChecker {
	var rules []*ruleState
	for _, res := range resources {
		if r, ok := p.cfg.rules[res]; ok {
			rules = append(rules, &ruleState{resource: res, rule: r})
		}
	}
	if len(rules) == 0 {
		return nil
	}
	read := p.cfg.readResources
	if read == nil {
		read = newResourceReader().read
	}
	tc := &triggerChecker{p: p, rules: rules, read: read, quit: make(chan struct{}), done: make(chan struct{})}
	tc.ticker = time.NewTicker(p.cfg.triggerInterval)
	tc.read() // the first reading starts the CPU and latency deltas
	return tc
}

func (tc *triggerChecker) run() {
	defer close(tc.done)
	defer tc.ticker.Stop()
	for {
		select {
		case <-tc.quit:
			return
		case <-tc.ticker.C:
			tc.check()
		}
	}
}

func (tc *triggerChecker) check() {
	p := tc.p
	now := time.Now()
	v := tc.read()
	for _, rs := range tc.rules {
		ev := rs.check(now, v[resourceIndex(rs.resource)])
		if ev == nil {
			continue
		}
		if reason := p.adm.admit(""); reason != admitted {
			p.countSkip(reason)
			continue
		}
		if !p.startTrigger(ev) {
			continue
		}
		rs.fire(now)
	}
}

func (tc *triggerChecker) close() {
	close(tc.quit)
	<-tc.done
}

func resourceIndex(r Resource) int {
	for i, x := range resources {
		if x == r {
			return i
		}
	}
	panic("profiling: unknown resource " + string(r))
}

// startTrigger starts the capture of an admitted resource trigger, and reports whether it did (not
// when the profiler is closing).
func (p *Profiler) startTrigger(ev *ResourceEvent) bool {
	c := &Capture{
		ID:       newProfileID(),
		Trigger:  Trigger(ev.Resource),
		Time:     time.Now(),
		Resource: ev,
	}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		p.adm.done()
		return false
	}
	p.wg.Add(1)
	p.mu.Unlock()
	// The capture's deadline is set here, on the checker's goroutine, so that it follows the trigger in
	// the clock's order.
	after := time.NewTimer(p.cfg.triggerInterval)
	p.stats.captures.Add(1)
	p.stats.triggers.Add(1)
	p.log.Info("profiling: resource trigger", zap.String("profile.id", c.ID), zap.String("resource", string(ev.Resource)),
		zap.Float64("value", ev.Value), zap.String("rule", ev.Rule), zap.Float64("threshold", ev.Threshold))
	go p.runTrigger(c, after)
	return true
}

// runTrigger collects a resource trigger's capture: the goroutine and heap profiles now, the CPU
// profile from one check interval before the trigger to one after it (the ring has the part before),
// and the flight recorder's window at the end if it is on.
func (p *Profiler) runTrigger(c *Capture, after *time.Timer) {
	defer p.wg.Done()
	defer p.adm.done()
	from := c.Time.Add(-p.cfg.triggerInterval)
	hold, err := p.cpu.hold(from)
	if err != nil {
		c.addError("cpu: %v", err)
	}
	var goroutines [][]byte
	if g, err := goroutineProfile(); err != nil {
		c.addError("goroutine: %v", err)
	} else {
		goroutines = [][]byte{g}
	}
	var heap bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&heap, 0); err != nil {
		c.addError("heap: %v", fmt.Errorf("heap profile: %w", err))
	} else {
		c.Heap = heap.Bytes()
	}
	select {
	case <-after.C:
	case <-p.quit:
	}
	after.Stop()
	c.End = time.Now()
	p.assemble(c, hold, from, "", "", goroutines)
	p.submit(c)
}
