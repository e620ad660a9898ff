package agent

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.elastic.co/apm/module/apmhttp/v2"
	"go.elastic.co/apm/v2"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	hotpath "github.com/hotpath-apm/hotpath/agent"
)

// discardTransport is an apm transport that reads what the tracer sends and drops it: the tracer still
// encodes every transaction, as it would for a real APM server.
type discardTransport struct{}

func (discardTransport) SendStream(_ context.Context, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// discardWriter is a ResponseWriter that allocates nothing, so that what is counted is the middleware.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkMiddleware serves GET /items/42 through a ServeMux route "GET /items/{id}", with each
// middleware around the mux. Every middleware records every request and its exporter encodes it: the
// Elastic tracer to intake JSON, OpenTelemetry's batch span processor to stdouttrace JSON, both
// discarded, on their own goroutines (which drop what they cannot keep up with). agent_ignored serves a
// path given to WithIgnorePaths, against bare_healthz.
func BenchmarkMiddleware(b *testing.B) { benchmarkMiddleware(b, false) }

// BenchmarkMiddlewareSettled is BenchmarkMiddleware with each request's export finished before the next
// (tracer.Flush, TracerProvider.ForceFlush): every request's whole cost is counted, nothing is dropped,
// and the instruction count of a request does not depend on scheduling; and with settleWarmup requests
// served before the counted ones (for callgrind: callgrind.sh).
func BenchmarkMiddlewareSettled(b *testing.B) { benchmarkMiddleware(b, true) }

// settleWarmup is how many requests the Settled benchmark serves before the counted ones, outside
// countedServe. The Go runtime caches a type assertion's answer at its call site only one time in
// 1,024 (runtime.typeAssert, at random), and until it has, each assertion costs a lookup of about 100
// instructions more: a middleware's dozen-odd sites, filled after a random number of requests (1,024
// on average, each), made callgrind's counts per request differ by 1-2 % between runs of the same code.
// After 20,000 requests a site is still unfilled with probability e^-19.5.
const settleWarmup = 20000

// countedServe serves one request of a benchmark's loop: the function callgrind counts in
// (--toggle-collect), so that the warm-up, the loop and the flushes between requests are not counted.
//
//go:noinline
func countedServe(h http.Handler, w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }

func benchmarkMiddleware(b *testing.B, settled bool) {
	tracer, err := apm.NewTracerOptions(apm.TracerOptions{ServiceName: "bench", Transport: discardTransport{}})
	if err != nil {
		b.Fatal(err)
	}
	defer tracer.Close()
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(exporter))
	defer provider.Shutdown(context.Background())
	nothing := func() {}
	flushAPM := func() { tracer.Flush(nil) }
	flushOTel := func() { provider.ForceFlush(context.Background()) }

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

	for _, c := range []struct {
		name    string
		handler http.Handler
		target  string
		settle  func()
	}{
		{"bare", mux, "/items/42", nothing},
		{"apmhttp", apmhttp.Wrap(mux, apmhttp.WithTracer(tracer)), "/items/42", flushAPM},
		{"agent", hotpath.Wrap(mux, hotpath.WithTracer(tracer)), "/items/42", flushAPM},
		{"otelhttp", otelhttp.NewHandler(mux, "server", otelhttp.WithTracerProvider(provider),
			otelhttp.WithPropagators(propagation.TraceContext{})), "/items/42", flushOTel},
		{"bare_healthz", mux, "/healthz", nothing},
		{"agent_ignored", hotpath.Wrap(mux, hotpath.WithTracer(tracer), hotpath.WithIgnorePaths("/healthz")), "/healthz", nothing},
	} {
		b.Run("mw="+c.name, func(b *testing.B) {
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
			c.settle()
			for b.Loop() {
				// A request as the server gives it, every time: the ServeMux and the agent set its
				// pattern and path values, which the next request must not find set.
				*req = fresh
				countedServe(c.handler, w, req)
				if settled {
					c.settle()
				}
			}
		})
	}
}
