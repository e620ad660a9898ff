package agent_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"testing"
	"time"

	"go.elastic.co/apm/module/apmhttp/v2"
	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/apmtest"

	"github.com/hotpath-apm/hotpath/agent"
)

// The request-path benchmarks, paired: each case serves the same request through the same ServeMux, with
// nothing around it (bare), apmhttp.Wrap, or agent.Wrap in its configurations. The tracer records every
// transaction and sends it nowhere. The comparison with OpenTelemetry's otelhttp is in ../bench/agent.
//
//	go test -run '^$' -bench BenchmarkRequestPath -count 10 ./agent/ | tee /tmp/path.txt
//	benchstat -col /handler /tmp/path.txt

// discardWriter is a ResponseWriter that allocates nothing, so that allocations counted are the
// middleware's.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

type pathCase struct {
	name    string
	handler http.Handler
	target  string
}

// nopListener attaches nothing and never hears of a slow request (threshold 1 h): what a listener costs
// the request path by being registered.
type nopListener struct{}

func (nopListener) ServeRequest(ctx context.Context, r *agent.Request) {
	r.Serve(ctx)
}
func (nopListener) RequestSlow(*agent.Request) {}

// labelListener attaches the pprof labels a profiler would (route, trace.id, transaction.id: one
// pprof.Do-equivalent without its closure): what the hook costs a profiler, for its allocation budget.
type labelListener struct{ nopListener }

func (labelListener) ServeRequest(ctx context.Context, r *agent.Request) {
	labelled := pprof.WithLabels(ctx, pprof.Labels("route", r.Route, "trace.id", r.TraceIDString(),
		"transaction.id", r.TransactionIDString()))
	pprof.SetGoroutineLabels(labelled)
	defer pprof.SetGoroutineLabels(ctx)
	r.Serve(labelled)
}

func pathCases(tb testing.TB, tracer *apm.Tracer) []pathCase {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	idle := agent.NewInFlight()
	listening := agent.NewInFlight()
	stop, err := listening.Listen(nopListener{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	labelling := agent.NewInFlight()
	if stop, err = labelling.Listen(labelListener{}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return []pathCase{
		{"bare", mux, "/items/42"},
		{"apmhttp", apmhttp.Wrap(mux, apmhttp.WithTracer(tracer)), "/items/42"},
		{"agent", agent.Wrap(mux, agent.WithTracer(tracer)), "/items/42"},
		// As if apm's context key of the transaction could not be learned (the fallback).
		{"agent_nokey", agent.Wrap(mux, agent.WithTracer(tracer), agent.WithoutTransactionKey()), "/items/42"},
		{"agent_inflight_idle", agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(idle)), "/items/42"},
		{"agent_listening", agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(listening),
			agent.WithSlowThreshold(time.Hour)), "/items/42"},
		{"agent_listening_labels", agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(labelling),
			agent.WithSlowThreshold(time.Hour)), "/items/42"},
		{"bare_healthz", mux, "/healthz"},
		{"agent_ignored_healthz", agent.Wrap(mux, agent.WithTracer(tracer), agent.WithIgnorePaths("/healthz")), "/healthz"},
		// A route without wildcards, traced: the ServeMux's match allocates nothing for it.
		{"apmhttp_static", apmhttp.Wrap(mux, apmhttp.WithTracer(tracer)), "/healthz"},
		{"agent_static", agent.Wrap(mux, agent.WithTracer(tracer)), "/healthz"},
	}
}

func BenchmarkRequestPath(b *testing.B) { benchmarkRequestPath(b, false) }

// BenchmarkRequestPathSettled finishes each request's export (tracer.Flush) before the next, so that
// nothing is dropped and a request's instruction count does not depend on scheduling, and serves
// settleWarmup requests before the counted ones (for callgrind: ../bench/agent/callgrind.sh).
func BenchmarkRequestPathSettled(b *testing.B) { benchmarkRequestPath(b, true) }

// settleWarmup is how many requests the Settled benchmarks serve before the counted ones, outside
// countedServe. The Go runtime caches a type assertion's answer at its call site only one time in
// 1,024 (runtime.typeAssert, at random), and until it has, each assertion costs a lookup of about 100
// instructions more: the middleware's dozen-odd sites, filled after a random number of requests (1,024
// on average, each), made callgrind's counts per request differ by 1-2 % between runs of the same code.
// After 20,000 requests a site is still unfilled with probability e^-19.5.
const settleWarmup = 20000

// countedServe serves one request of a benchmark's loop: the function callgrind counts in
// (--toggle-collect), so that the warm-up, the loop and the flushes between requests are not counted.
//
//go:noinline
func countedServe(h http.Handler, w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }

func benchmarkRequestPath(b *testing.B, settled bool) {
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	for _, c := range pathCases(b, tracer) {
		b.Run("handler="+c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", c.target, nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			fresh := *req
			// Requests first: the tracer's first send does one-time work (the process and system
			// metadata) on its own goroutine, which callgrind could count in the request that waits;
			// settled, the runtime's type-assertion caches are filled (settleWarmup).
			warmup := 1
			if settled {
				warmup = settleWarmup
			}
			for range warmup {
				*req = fresh
				c.handler.ServeHTTP(w, req)
			}
			tracer.Flush(nil)
			for b.Loop() {
				// A request as the server gives it, every time: the ServeMux and the agent set its
				// pattern and path values, which the next request must not find set.
				*req = fresh
				countedServe(c.handler, w, req)
				if settled {
					tracer.Flush(nil)
				}
			}
		})
	}
}

// TestRequestPathAllocations holds the allocation floors the benchmarks report: agent.Wrap allocates
// one fewer than apmhttp.Wrap (one more without apm's context key), an ignored path adds none to the
// bare handler, an InFlight without a listener adds none to agent.Wrap, and a listener at most 1 (6
// with a profiler's pprof labels).
func TestRequestPathAllocations(t *testing.T) {
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	allocs := map[string]float64{}
	for _, c := range pathCases(t, tracer) {
		req := httptest.NewRequest("GET", c.target, nil)
		fresh := *req // each request as the server gives it (see benchmarkRequestPath)
		w := &discardWriter{h: http.Header{}}
		for range 100 { // warm up: route name caches, pools
			*req = fresh
			c.handler.ServeHTTP(w, req)
		}
		tracer.Flush(nil)
		// The tracer encodes transactions on its own goroutine, and drops them when its queue is
		// full: flushing after each request makes that work the same for every request, and counted.
		// The process's other goroutines (the tracer's) allocate now and then too, which can only add
		// to a count: the least of three rounds keeps that noise out of the comparisons.
		allocs[c.name] = math.Inf(1)
		for range 3 {
			allocs[c.name] = min(allocs[c.name], averageAllocs(500, func() {
				*req = fresh
				c.handler.ServeHTTP(w, req)
				tracer.Flush(nil)
			}))
		}
	}
	t.Logf("allocations per request: %v", allocs)
	// agent.Wrap's context (lazyName, holding the transaction) takes the place of apmhttp's default name
	// ("GET /items/42"), one copy of the request the place of apmhttp's, and there is no context holding
	// the transaction (apm.ContextWithTransaction's) beside it.
	if d := allocs["agent"] - allocs["apmhttp"]; d > -1+poolNoise {
		t.Errorf("agent.Wrap adds %.2f allocations to apmhttp.Wrap's, want -1", d)
	}
	if d := allocs["agent_static"] - allocs["apmhttp_static"]; d > -1+poolNoise {
		t.Errorf("agent.Wrap adds %.2f allocations to apmhttp.Wrap's on a route without wildcards, want -1", d)
	}
	if d := allocs["agent_nokey"] - allocs["agent"]; d > 1+poolNoise || d < 1-poolNoise {
		t.Errorf("without apm's context key, agent.Wrap allocates %.2f more, want 1 (apm.ContextWithTransaction's)", d)
	}
	if allocs["agent_ignored_healthz"]-allocs["bare_healthz"] > poolNoise {
		t.Errorf("an ignored path costs %.2f allocations, bare %.2f", allocs["agent_ignored_healthz"], allocs["bare_healthz"])
	}
	// sync.Pool (the tracer's) drops objects at random under the race detector: allow that noise there.
	if d := allocs["agent_inflight_idle"] - allocs["agent"]; d > poolNoise {
		t.Errorf("an InFlight without listener adds %.2f allocations", d)
	}
	// A listener: the Request (which holds the context holding the transaction; ServeMux.Handler's
	// allocation takes the naming context's place). With a profiler's labels (issue 6's budget: 6 over
	// agent.Wrap): the label set, its map, its context, the request copy.
	if d := allocs["agent_listening"] - allocs["agent"]; d > 1+poolNoise {
		t.Errorf("a listener adds %.2f allocations, want <= 1", d)
	}
	if d := allocs["agent_listening_labels"] - allocs["agent"]; d > 6+poolNoise {
		t.Errorf("a listener setting pprof labels adds %.2f allocations, want <= 6", d)
	}
}

// averageAllocs is testing.AllocsPerRun without its rounding down, for comparing small differences.
func averageAllocs(runs int, f func()) float64 {
	// No collection during the measurement: it would empty the tracer's pools and make their refills
	// count.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs)
}
