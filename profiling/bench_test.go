package profiling_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"testing"

	"go.elastic.co/apm/v2/apmtest"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
)

// discard is an Uploader that drops captures.
type discard struct{}

func (discard) Upload(context.Context, *profiling.Capture) error { return nil }

// noopListener is an agent.Listener that only serves: what the agent's in-flight registry costs by itself.
type noopListener struct{}

func (noopListener) ServeRequest(ctx context.Context, r *agent.Request) { r.Serve(ctx) }

func (noopListener) RequestSlow(*agent.Request) {}

// BenchmarkRequestPath is the cost the profiler adds to a request: agent.Wrap alone ("agent") against
// agent.Wrap with an InFlight whose listener does nothing but serve ("agent+listener": the agent's
// in-flight registry), with the profiler as the listener ("agent+profiling": the registry, one pprof.Do
// with the three labels, the request copy carrying the labelled context), and
// the same with the flight recorder on ("agent+profiling+flight": the request is also a trace region),
// on a route without wildcards (GET /search) and one with (GET /items/{id}: http.ServeMux allocates its
// matches, and matches the path a second time after the agent, which learns the route before the
// handler runs). The handler
// does nothing, so the difference is all overhead. The CPU ring is off, and the flight recorder but in
// the last, so that only the request path allocates (b.ReportAllocs counts every goroutine's
// allocations).
func BenchmarkRequestPath(b *testing.B) { benchmarkRequestPath(b, false) }

// BenchmarkRequestPathSettled is BenchmarkRequestPath with each request's export finished
// (tracer.Flush) before the next, so that the tracer drops nothing and a request's instruction count
// does not depend on scheduling: for valgrind --tool=callgrind.
func BenchmarkRequestPathSettled(b *testing.B) { benchmarkRequestPath(b, true) }

func benchmarkRequestPath(b *testing.B, settled bool) {
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {})

	for _, route := range []struct{ name, target string }{{"static", "/search"}, {"wildcard", "/items/7"}} {
		run := func(b *testing.B, h http.Handler) {
			b.ReportAllocs()
			req := httptest.NewRequest("GET", route.target, nil)
			fresh := *req
			w := httptest.NewRecorder()
			for b.Loop() {
				*req = fresh // as the server gives it: without the pattern the last request was given
				h.ServeHTTP(w, req)
				if settled {
					tracer.Flush(nil)
				}
			}
		}
		profiled := func(b *testing.B, opts ...profiling.Option) {
			f := agent.NewInFlight()
			p, err := profiling.New(append(opts, profiling.WithInFlight(f), profiling.WithUploader(discard{}),
				profiling.WithoutCPURing())...)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			run(b, agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(f)))
		}
		b.Run(route.name+"/agent", func(b *testing.B) {
			run(b, agent.Wrap(mux, agent.WithTracer(tracer)))
		})
		b.Run(route.name+"/agent+listener", func(b *testing.B) {
			f := agent.NewInFlight()
			stop, err := f.Listen(noopListener{})
			if err != nil {
				b.Fatal(err)
			}
			defer stop()
			run(b, agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(f)))
		})
		b.Run(route.name+"/agent+profiling", func(b *testing.B) { profiled(b) })
		b.Run(route.name+"/agent+profiling+flight", func(b *testing.B) {
			profiled(b, profiling.WithFlightRecorder(trace.FlightRecorderConfig{}))
		})
	}
}
