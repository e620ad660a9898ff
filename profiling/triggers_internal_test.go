package profiling

import (
	"math"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/profiling/profilingtest"
)

// TestRuleAbs: the absolute rule fires at Abs, not below, whatever the history.
func TestRuleAbs(t *testing.T) {
	now := time.Unix(0, 0)
	s := &ruleState{resource: ResourceGoroutines, rule: Rule{Abs: 100}}
	if ev := s.check(now, 99.999); ev != nil {
		t.Fatalf("below Abs: %+v", ev)
	}
	ev := s.check(now, 100)
	if ev == nil || ev.Rule != "abs" || ev.Threshold != 100 || ev.Value != 100 {
		t.Fatalf("at Abs: %+v", ev)
	}
}

// TestRuleDiff: the diff rule needs minTriggerHistory previous checks, Min, and (1+Diff) times their
// average.
func TestRuleDiff(t *testing.T) {
	now := time.Unix(0, 0)
	s := &ruleState{resource: ResourceHeap, rule: Rule{Min: 150, Diff: 0.5}}
	for range minTriggerHistory - 1 {
		s.check(now, 100)
	}
	if ev := s.check(now, 1000); ev != nil {
		t.Fatalf("with %d previous checks: %+v", minTriggerHistory-1, ev)
	}
	s = &ruleState{resource: ResourceHeap, rule: Rule{Min: 150, Diff: 0.5}}
	for range minTriggerHistory {
		s.check(now, 100)
	}
	if ev := s.check(now, 149.9); ev != nil {
		t.Fatalf("below 1.5x the average: %+v", ev)
	}
	// The history is now 100, 100, 100, 149.9: average 112.475, threshold 168.7125.
	if ev := s.check(now, 168.7); ev != nil {
		t.Fatalf("just below the threshold: %+v", ev)
	}
	// History 100, 100, 100, 149.9, 168.7: average 123.72, threshold 185.58.
	ev := s.check(now, 186)
	if ev == nil || ev.Rule != "diff" || math.Abs(ev.Average-123.72) > 1e-9 || math.Abs(ev.Threshold-185.58) > 1e-9 {
		t.Fatalf("above the threshold: %+v", ev)
	}
	// Min: a low baseline's jump that stays under Min does not fire.
	s = &ruleState{resource: ResourceHeap, rule: Rule{Min: 150, Diff: 0.5}}
	for range minTriggerHistory {
		s.check(now, 10)
	}
	if ev := s.check(now, 149); ev != nil {
		t.Fatalf("under Min: %+v", ev)
	}
	if ev := s.check(now, math.NaN()); ev != nil || s.n != minTriggerHistory+1 {
		t.Fatalf("NaN: %+v, history %d", ev, s.n)
	}
}

// TestRuleCooldown: a rule that fired is quiet for exactly Cooldown; one that was not admitted (fire not
// called) fires again at the next check.
func TestRuleCooldown(t *testing.T) {
	now := time.Unix(0, 0)
	s := &ruleState{resource: ResourceCPU, rule: Rule{Abs: 90, Cooldown: time.Minute}}
	if s.check(now, 95) == nil {
		t.Fatal("no fire")
	}
	if s.check(now.Add(time.Second), 95) == nil {
		t.Fatal("not admitted, then no fire")
	}
	s.fire(now.Add(time.Second))
	if ev := s.check(now.Add(time.Minute+time.Second-time.Nanosecond), 95); ev != nil {
		t.Fatalf("in the cooldown: %+v", ev)
	}
	if s.check(now.Add(time.Minute+time.Second), 95) == nil {
		t.Fatal("no fire after the cooldown")
	}
	s = &ruleState{resource: ResourceCPU, rule: Rule{Abs: 90}}
	s.fire(now)
	if s.check(now.Add(DefaultTriggerCooldown-time.Nanosecond), 95) != nil ||
		s.check(now.Add(DefaultTriggerCooldown), 95) == nil {
		t.Fatal("the default cooldown is not DefaultTriggerCooldown")
	}
}

// TestResourceReader reads the real runtime: the first reading has no CPU or latency (they are deltas),
// the second has CPU use after spinning, and the heap and goroutine counts are those of the runtime.
func TestResourceReader(t *testing.T) {
	rr := newResourceReader()
	v := rr.read()
	if !math.IsNaN(v[0]) || !math.IsNaN(v[3]) {
		t.Errorf("first reading: CPU %v, latency %v; want NaN", v[0], v[3])
	}
	if v[1] <= 0 || v[2] < 1 {
		t.Errorf("heap %v, goroutines %v", v[1], v[2])
	}
	profilingtest.Burn(100 * time.Millisecond) // CPU time, however loaded the machine
	runtime.GC()
	v = rr.read()
	s := []metrics.Sample{{Name: metricHeapLive}, {Name: metricGoroutines}}
	metrics.Read(s)
	if v[0] <= 0 || v[0] > 100*float64(runtime.NumCPU())/float64(runtime.GOMAXPROCS(0))+1 {
		t.Errorf("CPU after spinning: %v%%", v[0])
	}
	if math.IsNaN(v[3]) || v[3] < 0 {
		t.Errorf("latency %v", v[3])
	}
	if v[1] != float64(s[0].Value.Uint64()) {
		t.Errorf("heap %v, runtime says %v", v[1], s[0].Value.Uint64())
	}
	if v[2] != float64(s[1].Value.Uint64()) || v[2] < float64(runtime.NumGoroutine()) {
		t.Errorf("goroutines %v, runtime says %v (%v without its own)", v[2], s[1].Value.Uint64(),
			runtime.NumGoroutine())
	}
}

// TestHistogramQuantile: the bucket's upper bound, over the observations since prev.
func TestHistogramQuantile(t *testing.T) {
	h := &metrics.Float64Histogram{
		Counts:  []uint64{5, 100, 10, 1},
		Buckets: []float64{0, 0.001, 0.01, 0.1, math.Inf(1)},
	}
	prev := []uint64{5, 10, 0, 0} // since prev: 90 in [0.001, 0.01), 10 in [0.01, 0.1), 1 above
	for _, c := range []struct {
		q, want float64
	}{{0.5, 0.01}, {0.89, 0.01}, {0.9, 0.1}, {0.99, 0.1}, {1, 0.1}} {
		if got := histogramQuantile(h, prev, c.q); got != c.want {
			t.Errorf("q%v = %v, want %v", c.q, got, c.want)
		}
	}
	if got := histogramQuantile(h, h.Counts, 0.99); got != 0 {
		t.Errorf("no new observations: %v", got)
	}
}
