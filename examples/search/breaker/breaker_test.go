package breaker_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/model"
	"go.elastic.co/apm/v2/transport/transporttest"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/examples/search/breaker"
)

var errDown = errors.New("elasticsearch: overloaded")

func labels(ctx *model.Context) map[string]any {
	m := map[string]any{}
	if ctx != nil {
		for _, l := range ctx.Tags {
			m[l.Key] = l.Value
		}
	}
	return m
}

type change struct {
	from, to string
	at       time.Duration // after the start
	inFrom   time.Duration
	counts   agent.BreakerCounts
}

// TestStateChangesRealGobreaker drives a real gobreaker through two open periods of 30 ms (shorter than
// any polling interval: a gauge read every 100 ms would see at most one of them), a lazily noticed end of
// an open period, a failed probe and a call refused while a probe runs, in synctest's fake time. Every
// change must be sent once, in order, dated exactly, with the counts of the state it leaves; and every
// call's transaction labelled with its decision.
func TestStateChangesRealGobreaker(t *testing.T) {
	tracer, rec := transporttest.NewRecorderTracer()
	defer tracer.Close()

	var start time.Time
	var libraryChanges []string // what gobreaker's own callback saw, in order
	type call struct {
		at       time.Duration
		decision string
	}
	var calls []call
	synctest.Test(t, func(t *testing.T) {
		start = time.Now()
		var mu sync.Mutex
		cb := breaker.New[int](gobreaker.Settings{
			Name:        "elasticsearch",
			MaxRequests: 1,
			Timeout:     30 * time.Millisecond,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
			OnStateChange: func(_ string, from, to gobreaker.State) {
				libraryChanges = append(libraryChanges, from.String()+">"+to.String())
			},
		}, agent.WithBreakerTracer(tracer))

		// do makes one call in a transaction of its own, which must come back labelled.
		do := func(fail bool, work time.Duration) error {
			tx := tracer.StartTransaction("GET /search", "request")
			defer tx.End()
			ctx := apm.ContextWithTransaction(context.Background(), tx)
			at := time.Since(start)
			_, err := cb.Execute(ctx, func() (int, error) {
				time.Sleep(work)
				if fail {
					return 0, errDown
				}
				return 1, nil
			})
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{at, decisionOf(err)})
			return err
		}
		sleepUntil := func(d time.Duration) { time.Sleep(d - time.Since(start)) }

		for range 3 {
			do(true, 0) // closed: three failures trip it at 0
		}
		sleepUntil(10 * time.Millisecond)
		if err := do(false, 0); !breaker.Rejected(err) {
			t.Fatalf("open breaker let a call through: %v", err)
		}
		sleepUntil(50 * time.Millisecond)
		do(true, 0) // half-open since 30 ms (noticed now); the probe fails: open again at 50
		sleepUntil(120 * time.Millisecond)
		if s := cb.State(); s != agent.BreakerHalfOpen { // noticed at 120, dated 80
			t.Fatalf("state at 120 ms = %s", s)
		}
		do(false, 0) // the probe succeeds: closed at 120
		sleepUntil(200 * time.Millisecond)
		for range 3 {
			do(true, 0) // open at 200
		}
		sleepUntil(240 * time.Millisecond)
		var wg sync.WaitGroup
		wg.Go(func() { do(false, 20*time.Millisecond) }) // a probe from 240 to 260: closed at 260
		sleepUntil(245 * time.Millisecond)
		if err := do(false, 0); !errors.Is(err, gobreaker.ErrTooManyRequests) {
			t.Fatalf("second call while the probe runs: %v", err)
		}
		wg.Wait()
	})

	ms := time.Millisecond
	want := []change{
		{"closed", "open", 0, 0, agent.BreakerCounts{Requests: 3, Failures: 3, ConsecutiveFailures: 3}},
		{"open", "half-open", 30 * ms, 30 * ms, agent.BreakerCounts{Rejected: 1}},
		{"half-open", "open", 50 * ms, 20 * ms, agent.BreakerCounts{Requests: 1, Failures: 1, ConsecutiveFailures: 1}},
		{"open", "half-open", 80 * ms, 30 * ms, agent.BreakerCounts{}},
		{"half-open", "closed", 120 * ms, 40 * ms, agent.BreakerCounts{Requests: 1, Successes: 1, ConsecutiveSuccesses: 1}},
		{"closed", "open", 200 * ms, 80 * ms, agent.BreakerCounts{Requests: 3, Failures: 3, ConsecutiveFailures: 3}},
		{"open", "half-open", 230 * ms, 30 * ms, agent.BreakerCounts{}},
		{"half-open", "closed", 260 * ms, 30 * ms, agent.BreakerCounts{Requests: 1, Successes: 1, ConsecutiveSuccesses: 1, Rejected: 1}},
	}
	if len(libraryChanges) != len(want) {
		t.Fatalf("gobreaker changed state %d times (%v), the test expects %d", len(libraryChanges), libraryChanges, len(want))
	}

	tracer.Flush(nil)
	var got []change
	var callTx []model.Transaction
	for _, tx := range rec.Payloads().Transactions {
		if tx.Type != agent.BreakerTransactionType {
			callTx = append(callTx, tx)
			continue
		}
		l := labels(tx.Context)
		n := func(k string) uint32 { f, _ := l[k].(float64); return uint32(f) }
		fromMS, _ := l["breaker_from_ms"].(float64)
		got = append(got, change{
			from: l["breaker_from"].(string), to: l["breaker_to"].(string),
			at:     time.Time(tx.Timestamp).Sub(start),
			inFrom: time.Duration(fromMS * float64(time.Millisecond)),
			counts: agent.BreakerCounts{Requests: n("breaker_requests"), Successes: n("breaker_successes"),
				Failures: n("breaker_failures"), Rejected: n("breaker_rejected"),
				ConsecutiveSuccesses: n("breaker_consecutive_successes"), ConsecutiveFailures: n("breaker_consecutive_failures")},
		})
		if l["breaker"] != "elasticsearch" || tx.Name != "elasticsearch: "+got[len(got)-1].from+" -> "+got[len(got)-1].to {
			t.Errorf("change transaction %q labels %v", tx.Name, l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("sent %d changes, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}

	// Each call's transaction says what the breaker decided.
	if len(callTx) != len(calls) {
		t.Fatalf("%d call transactions for %d calls", len(callTx), len(calls))
	}
	byStart := map[time.Duration][]string{}
	for _, tx := range callTx {
		l := labels(tx.Context)
		d, _ := l["breaker_decision"].(string)
		byStart[time.Time(tx.Timestamp).Sub(start)] = append(byStart[time.Time(tx.Timestamp).Sub(start)], d)
	}
	wantDecisions := map[time.Duration][]string{
		0: {"allowed", "allowed", "allowed"}, 10 * ms: {"rejected"}, 50 * ms: {"probe"}, 120 * ms: {"probe"},
		200 * ms: {"allowed", "allowed", "allowed"}, 240 * ms: {"probe"}, 245 * ms: {"rejected"},
	}
	for at, w := range wantDecisions {
		if g := byStart[at]; !slices.Equal(g, w) {
			t.Errorf("calls at %v decided %v, want %v", at, g, w)
		}
	}
}

func decisionOf(err error) string {
	if breaker.Rejected(err) {
		return "rejected"
	}
	return "ran"
}
