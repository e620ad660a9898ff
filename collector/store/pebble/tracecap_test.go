package pebble

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestTraceCap at its boundary: a trace keeps its first MaxTraceEvents events of the day, in one batch
// or over several; the rest are dropped and counted, other traces and events without a trace id are
// not touched, and the next ingest day the trace may take the cap again.
func TestTraceCap(t *testing.T) {
	const limit = 10
	reg := prometheus.NewRegistry()
	clk := newClock(t0)
	s := openTest(t, Config{MaxTraceEvents: limit, Registerer: reg, Now: clk.Now})
	g := newGen(1, t0)
	events := func(trace string, n int) collector.Batch {
		var b collector.Batch
		for i := range n {
			e := g.base(collector.KindSpan, trace, "svc", t0.Add(time.Duration(i)*time.Millisecond))
			e.Span = &collector.Span{ID: fmt.Sprintf("%s-%d", trace, i), Name: "work", Type: "app"}
			b = append(b, e)
		}
		return b
	}
	dropped := func() float64 {
		return testutil.ToFloat64(s.metrics.traceDropped)
	}
	count := func(trace string) int {
		t.Helper()
		recs, err := s.GetTrace(context.Background(), trace, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	const a, b, c = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc"

	mustProcess(t, s, append(events(a, limit-1), events(b, 3)...))
	mustProcess(t, s, append(events(a, 1), events("", 2)...)) // a reaches the cap exactly
	if count(a) != limit || dropped() != 0 {
		t.Fatalf("at the cap: %d events of the trace, %v dropped", count(a), dropped())
	}
	mustProcess(t, s, append(events(a, 3), events(b, 1)...))
	if count(a) != limit || count(b) != 4 || dropped() != 3 {
		t.Errorf("past the cap: %d events of the capped trace, %d of the other, %v dropped; want %d, 4, 3", count(a), count(b), dropped(), limit)
	}
	mustProcess(t, s, events(a, 2)) // a batch of nothing but a capped trace
	mustProcess(t, s, events(c, limit+5))
	if count(c) != limit || dropped() != 10 {
		t.Errorf("one batch past the cap: %d kept, %v dropped; want %d, 10", count(c), dropped(), limit)
	}
	if got := s.LastSeq(); got != 2*limit+4+2 {
		t.Errorf("%d events stored, want %d", got, 2*limit+4+2)
	}
	if got := testutil.ToFloat64(s.metrics.events); got != float64(s.LastSeq()) {
		t.Errorf("events_total %v", got)
	}

	clk.Add(24 * time.Hour) // the next ingest day: the counts start over
	mustProcess(t, s, events(a, limit+1))
	if count(a) != 2*limit || dropped() != 11 {
		t.Errorf("the next day: %d events of the trace, %v dropped; want %d, 11", count(a), dropped(), 2*limit)
	}
	if n, err := testutil.GatherAndCount(reg, "hotpath_store_trace_events_dropped_total"); err != nil || n != 1 {
		t.Errorf("metric registered: %d %v", n, err)
	}
}

// TestTraceCapRefund: the counts of a batch the queue refuses are given back, so an agent's retry of it
// is not dropped.
func TestTraceCapRefund(t *testing.T) {
	c := newTraceCap(3, func() time.Time { return t0 }, zap.NewNop())
	b := collector.Batch{{TraceID: "x"}, {TraceID: "x"}, {TraceID: "x"}}
	keep, slots, dropped := c.admit(b, nil, nil)
	if dropped != 0 || len(slots) != 3 || fmt.Sprint(keep) != "[true true true]" {
		t.Fatalf("first: %v %d", keep, dropped)
	}
	c.refund(slots)
	if keep, _, dropped := c.admit(b[:1], nil, nil); dropped != 0 || !keep[0] {
		t.Errorf("after the refund: %v %d", keep, dropped)
	}
}

// BenchmarkTraceCapAdmit: the cap's decision for a batch of the load generator's shape (traces of one
// transaction and five spans, in order).
func BenchmarkTraceCapAdmit(b *testing.B) {
	batch := newGen(5, t0).batch(600, 5)
	c := newTraceCap(MaxTraceEvents, func() time.Time { return t0 }, zap.NewNop())
	var keep []bool
	var slots []traceSlot
	b.ReportAllocs()
	for b.Loop() {
		keep, slots, _ = c.admit(batch, keep[:0], slots[:0])
		c.refund(slots)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}
