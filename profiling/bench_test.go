package profiling_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.elastic.co/apm/v2/apmtest"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
)

// BenchmarkRequestPath is the cost the profiler adds to a request: agent.Wrap alone ("agent") against
// agent.Wrap with an InFlight whose listener is the profiler ("agent+profiling": the registry, one
// pprof.Do with the three labels, the request copy carrying the labelled context). The handler does
// nothing, so the difference is all overhead. The profiler runs with its CPU ring and flight recorder
// off, so that only the request path allocates (b.ReportAllocs counts every goroutine's allocations).
func BenchmarkRequestPath(b *testing.B) {
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {})

	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		req := httptest.NewRequest("GET", "/items/7", nil)
		w := httptest.NewRecorder()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
	}
	b.Run("agent", func(b *testing.B) {
		run(b, agent.Wrap(mux, agent.WithTracer(tracer)))
	})
	b.Run("agent+profiling", func(b *testing.B) {
		f := agent.NewInFlight()
		p, err := profiling.New(append(quietOptions(), profiling.WithInFlight(f))...)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		run(b, agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(f)))
	})
}

// quietOptions turn off the profiler's background work (CPU ring, flight recorder).
func quietOptions() []profiling.Option { return nil }
