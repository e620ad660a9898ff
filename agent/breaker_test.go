package agent_test

import (
	"context"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/model"
	"go.elastic.co/apm/v2/transport/transporttest"

	"github.com/hotpath-apm/hotpath/agent"
)

// labelMap returns labels as a map.
func labelMap(tags model.IfaceMap) map[string]any {
	m := map[string]any{}
	for _, l := range tags {
		m[l.Key] = l.Value
	}
	return m
}

func TestBreakerCallLabels(t *testing.T) {
	tracer, rec := transporttest.NewRecorderTracer()
	defer tracer.Close()
	b := agent.NewBreaker("elasticsearch", agent.WithBreakerTracer(tracer))

	for _, tc := range []struct {
		decision agent.BreakerDecision
		served   string
	}{
		{agent.DecisionAllowed, "elasticsearch"},
		{agent.DecisionRejected, "emergency_cache"},
		{agent.DecisionRejected, agent.ServedRejected},
		{agent.DecisionProbe, "elasticsearch"},
	} {
		tx := tracer.StartTransaction("GET /search", "request")
		ctx := apm.ContextWithTransaction(context.Background(), tx)
		span, ctx := apm.StartSpan(ctx, "search", "app")
		b.Decide(ctx, tc.decision)
		agent.ServedBy(ctx, tc.served)
		span.End()
		tx.End()
	}
	tracer.Flush(nil)
	p := rec.Payloads()
	if len(p.Transactions) != 4 || len(p.Spans) != 4 {
		t.Fatalf("got %d transactions and %d spans, want 4 each", len(p.Transactions), len(p.Spans))
	}
	wantServed := []string{"elasticsearch", "emergency_cache", "rejected", "elasticsearch"}
	wantDecision := []string{"allowed", "rejected", "rejected", "probe"}
	for i, tx := range p.Transactions {
		l := labelMap(tx.Context.Tags)
		if l["breaker"] != "elasticsearch" || l["breaker_decision"] != wantDecision[i] ||
			l["served_by"] != wantServed[i] || l["breaker_state"] != "closed" {
			t.Errorf("transaction %d labels %v", i, l)
		}
		sl := labelMap(p.Spans[i].Context.Tags)
		if sl["breaker"] != "elasticsearch" || sl["breaker_decision"] != wantDecision[i] {
			t.Errorf("span %d labels %v", i, sl)
		}
		if _, ok := sl["served_by"]; ok {
			t.Errorf("span %d has served_by, a transaction's label", i)
		}
	}
}

// TestBreakerChangedSentAlways: a state change is a transaction of type "breaker" at the time given,
// carrying the counts of the state left, even when the tracer samples nothing else.
func TestBreakerChangedSentAlways(t *testing.T) {
	tracer, rec := transporttest.NewRecorderTracer()
	defer tracer.Close()
	tracer.SetSampler(apm.NewRatioSampler(0))
	b := agent.NewBreaker("es", agent.WithBreakerTracer(tracer))

	_, since := b.State()
	ctx := context.Background()
	b.Decide(ctx, agent.DecisionAllowed)
	b.Done(true)
	for range 3 {
		b.Decide(ctx, agent.DecisionAllowed)
		b.Done(false)
	}
	opened := since.Add(2 * time.Second)
	c := b.Changed(agent.BreakerClosed, agent.BreakerOpen, opened)
	want := agent.BreakerChange{Breaker: "es", From: agent.BreakerClosed, To: agent.BreakerOpen, At: opened,
		InFrom: 2 * time.Second, Counts: agent.BreakerCounts{Requests: 4, Successes: 1, Failures: 3, ConsecutiveFailures: 3}}
	if c != want {
		t.Fatalf("Changed = %+v, want %+v", c, want)
	}
	b.Decide(ctx, agent.DecisionRejected)
	b.Decide(ctx, agent.DecisionRejected)
	if dup := b.Changed(agent.BreakerClosed, agent.BreakerOpen, opened.Add(time.Millisecond)); dup != (agent.BreakerChange{}) {
		t.Errorf("a change to the current state was recorded: %+v", dup)
	}
	// A time before the previous change is taken as that change's time (the interval is never negative).
	c = b.Changed(agent.BreakerOpen, agent.BreakerHalfOpen, opened.Add(-time.Second))
	if !c.At.Equal(opened) || c.InFrom != 0 || c.Counts != (agent.BreakerCounts{Rejected: 2}) {
		t.Errorf("second change = %+v", c)
	}
	if s, at := b.State(); s != agent.BreakerHalfOpen || !at.Equal(opened) {
		t.Errorf("State() = %v, %v", s, at)
	}

	tracer.Flush(nil)
	txs := rec.Payloads().Transactions
	if len(txs) != 2 {
		t.Fatalf("sent %d transactions, want the 2 changes", len(txs))
	}
	tx := txs[0]
	if tx.Type != "breaker" || tx.Name != "es: closed -> open" || tx.Result != "open" || tx.Duration != 0 ||
		!time.Time(tx.Timestamp).Equal(opened.Truncate(time.Microsecond)) || (tx.Sampled != nil && !*tx.Sampled) || tx.ParentID != (model.SpanID{}) {
		t.Errorf("change transaction %+v", tx)
	}
	l := labelMap(tx.Context.Tags)
	for k, v := range map[string]any{"breaker": "es", "breaker_from": "closed", "breaker_to": "open",
		"breaker_from_ms": 2000.0, "breaker_requests": 4.0, "breaker_successes": 1.0, "breaker_failures": 3.0,
		"breaker_rejected": 0.0, "breaker_consecutive_failures": 3.0, "breaker_consecutive_successes": 0.0} {
		if l[k] != v {
			t.Errorf("label %s = %#v, want %#v", k, l[k], v)
		}
	}
	if txs[0].TraceID == txs[1].TraceID {
		t.Error("two changes share a trace id")
	}
}
