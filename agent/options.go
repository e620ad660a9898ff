package agent

import (
	"net/http"
	"os"
	"time"

	"go.elastic.co/apm/v2"
)

// DefaultSlowThreshold is the slow-request threshold used when WithSlowThreshold is not given.
const DefaultSlowThreshold = 500 * time.Millisecond

// Option configures Wrap and Middleware.
type Option func(*config)

type config struct {
	tracer    *apm.Tracer                // nil: apm.DefaultTracer()
	routeName func(*http.Request) string // nil: the ServeMux pattern
	ignore    map[string]struct{}        // exact URL paths served without tracing
	slow      time.Duration              // <= 0: slow detection off
	routeSlow map[string]time.Duration   // per transaction name; overrides slow
	inflight  *InFlight                  // nil: no in-flight registry
	names     fieldNames                 // the sanitizer's names, applied to query strings
	noTxKey   bool                       // as if apm's transaction key could not be learned (tests only)
}

func newConfig(opts []Option) config {
	c := config{slow: DefaultSlowThreshold}
	for _, o := range opts {
		o(&c)
	}
	if c.tracer == nil {
		c.tracer = apm.DefaultTracer()
	}
	c.names = sanitizedFieldNames(os.Getenv)
	return c
}

// threshold returns the slow threshold of the transaction called name; <= 0 means never slow.
func (c *config) threshold(name string) time.Duration {
	if c.routeSlow != nil {
		if d, ok := c.routeSlow[name]; ok {
			return d
		}
	}
	return c.slow
}

// WithTracer makes the middleware record into t. Default: apm.DefaultTracer(), which is configured by the
// ELASTIC_APM_* environment variables.
func WithTracer(t *apm.Tracer) Option {
	if t == nil {
		panic("agent: WithTracer(nil)")
	}
	return func(c *config) { c.tracer = t }
}

// WithRouteName names transactions with f, for routers other than http.ServeMux; its result is used as
// the transaction name as is. f is called twice per traced request, on the request the router receives:
//
//   - Before the handler runs. If f can answer then (its answer is not ""), the transaction is named
//     with it from the start, so the errors captured during the handler (apm.CaptureError) carry that
//     name: apm copies the transaction's name into an error when the error is created. This answer is
//     also Request.Route for a Listener.
//   - After the handler has returned (or panicked), so that routers that record the matched route while
//     dispatching, such as chi's RouteContext, are supported. A non-empty answer is the final name, and
//     the one the error of a panic carries.
//
// A router that only knows its route after dispatching therefore leaves the errors captured during its
// handler with the name known before it: the ServeMux pattern if the wrapped handler is a ServeMux, else
// "METHOD unknown route". When f returns "" the name falls back to the ServeMux pattern (matched before
// the handler, or http.Request.Pattern after it), then to "METHOD unknown route".
//
// Default: the pattern http.ServeMux matched ("GET /items/{id}"; a pattern registered without a method
// gets the request's method in front), or "METHOD unknown route" when nothing matched (404, 405). The
// pattern is known before the handler can see the transaction when the handler given to Wrap is the
// *http.ServeMux itself; a ServeMux inside other middleware (Wrap(cors(mux))) sets it only while
// dispatching, like chi.
func WithRouteName(f func(*http.Request) string) Option {
	return func(c *config) { c.routeName = f }
}

// WithIgnorePaths serves requests whose URL path is exactly one of paths without tracing them (health
// checks, metrics scrapes): no transaction, no allocation. Repeated options add up. Default: nothing is
// ignored by the middleware itself; ELASTIC_APM_TRANSACTION_IGNORE_URLS still applies through apmhttp.
func WithIgnorePaths(paths ...string) Option {
	return func(c *config) {
		if c.ignore == nil {
			c.ignore = make(map[string]struct{}, len(paths))
		}
		for _, p := range paths {
			c.ignore[p] = struct{}{}
		}
	}
}

// WithSlowThreshold sets how long a request may run before it counts as slow: a slow transaction carries
// the label slow=true, and a Listener registered on the InFlight given with WithInFlight is told when a
// request crosses it while still running. d <= 0 turns slow detection off. Default: DefaultSlowThreshold
// (500 ms).
func WithSlowThreshold(d time.Duration) Option {
	return func(c *config) { c.slow = d }
}

// WithRouteSlowThreshold overrides the slow threshold for the transaction named route (for example
// "GET /search"); d <= 0 turns slow detection off for it. Repeated options add up. Default: every route
// uses WithSlowThreshold's value.
func WithRouteSlowThreshold(route string, d time.Duration) Option {
	return func(c *config) {
		if c.routeSlow == nil {
			c.routeSlow = make(map[string]time.Duration)
		}
		c.routeSlow[route] = d
	}
}

// WithInFlight registers every traced request with f while it runs, so that f's Listener (the profiler) is
// told when requests start, cross their slow threshold and end. Several handlers may share one InFlight.
// Default: none, and then the middleware does no registry work at all.
func WithInFlight(f *InFlight) Option {
	return func(c *config) { c.inflight = f }
}
