package agent

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"go.elastic.co/apm/module/apmhttp/v2"
	"go.elastic.co/apm/v2"
)

// Wrap returns h traced: each request is an Elastic APM transaction, started by apmhttp.Wrap (trace
// context from traceparent, request/response context, status-code result and outcome, recovery of
// panics as errors answered with 500), named by its route before the handler runs (see WithRouteName),
// labelled slow=true when it took longer than its slow threshold, with the request's credentials
// redacted. Options are described with each With* function.
func Wrap(h http.Handler, opts ...Option) http.Handler {
	if h == nil {
		panic("agent: Wrap(nil)")
	}
	hd := &handler{cfg: newConfig(opts), next: h}
	hd.mux, _ = h.(*http.ServeMux)
	hd.dispatch = hd.mux != nil && muxSetsPattern()
	hd.traced = apmhttp.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd.serveTraced(w, r, r)
	}), apmhttp.WithTracer(hd.cfg.tracer), apmhttp.WithServerRequestName(provisionalName))
	hd.tracedCopy = apmhttp.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd.serveTraced(w, r, handlerRequest(r))
	}), apmhttp.WithTracer(hd.cfg.tracer), apmhttp.WithServerRequestName(provisionalName))
	return hd
}

// muxSetsPattern reports whether this process's http.ServeMux routes with Go 1.22's patterns, setting
// Request.Pattern and the path values (it does not with GODEBUG=httpmuxgo121=1): only then does the agent
// dispatch a request to the handler ServeMux.Handler found for it, giving the handler what the ServeMux
// would have.
func muxSetsPattern() bool {
	m := http.NewServeMux()
	m.HandleFunc("/{x}", func(http.ResponseWriter, *http.Request) {})
	_, pattern := m.Handler(&http.Request{Method: http.MethodGet, Host: "h", URL: &url.URL{Path: "/a"}})
	return pattern == "/{x}"
}

// Middleware returns Wrap as a middleware, for routers that take func(http.Handler) http.Handler.
func Middleware(opts ...Option) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler { return Wrap(h, opts...) }
}

type handler struct {
	cfg        config
	next       http.Handler
	mux        *http.ServeMux // next, when it is one: names the transaction before the handler runs
	dispatch   bool           // mux's routing is Go 1.22's: serve with the handler mux.Handler found
	traced     http.Handler   // apmhttp.Wrap of serveTraced, for a request as it came
	tracedCopy http.Handler   // the same, for a redacted copy (redactedCopy) of a request
	names      patternNames
}

// provisionalName is the name apmhttp starts the transaction with; serveTraced names the transaction by
// its route before the handler runs (there, inside apmhttp's recovery of panics, rather than in apmhttp's
// naming function, so that a WithRouteName function that panics is recorded and answered 500 like a
// handler). It does not allocate, unlike apmhttp's default "METHOD /raw/path".
func provisionalName(r *http.Request) string { return unknownRoute(r.Method) }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.ignore != nil {
		if _, ok := h.cfg.ignore[r.URL.Path]; ok {
			h.next.ServeHTTP(w, r)
			return
		}
	}
	if !h.cfg.tracer.Recording() {
		h.next.ServeHTTP(w, r)
		return
	}
	if rr := h.cfg.names.redactedCopy(r); rr != nil {
		h.tracedCopy.ServeHTTP(w, rr)
		return
	}
	h.traced.ServeHTTP(w, r)
}

// served is what finish needs to know about a request.
type served struct {
	tx        *apm.Transaction
	r         *http.Request // apmhttp's copy of the request, which it records from
	hr        *http.Request // the request given to the handler (r, or the original of a redacted r)
	start     time.Time
	req       *Request // non-nil when a listener is told about the request
	pattern   string   // the ServeMux pattern the transaction was named by before the handler, if any
	completed bool     // the handler returned without panicking
}

// serveTraced runs inside apmhttp's handler, with the transaction in r's context; hr is the request the
// handler is given (r, or the original of a redacted r, with r's context). The transaction is named
// before the handler runs, so that what is recorded during the handler (errors captured, the error of a
// panic) carries the route: apm copies the transaction's name into an error when the error is created.
func (h *handler) serveTraced(w http.ResponseWriter, r, hr *http.Request) {
	tx := apm.TransactionFromContext(r.Context())
	if tx == nil { // apmhttp ignored it (ELASTIC_APM_TRANSACTION_IGNORE_URLS)
		h.next.ServeHTTP(w, hr)
		return
	}
	s := served{tx: tx, r: r, hr: hr, start: time.Now()}
	defer h.finish(&s)
	var next http.Handler
	tx.Name, s.pattern, next = h.startName(hr)
	if f := h.cfg.inflight; f != nil {
		if wd := f.current.Load(); wd != nil {
			h.serveListened(wd, next, w, &s)
			s.completed = true
			return
		}
	}
	next.ServeHTTP(w, hr)
	s.completed = true
}

// serveListened serves a request a listener is told about.
func (h *handler) serveListened(wd *watchdog, next http.Handler, w http.ResponseWriter, s *served) {
	tc := s.tx.TraceContext()
	req := &Request{
		TraceID:       tc.Trace,
		TransactionID: tc.Span,
		Sampled:       s.tx.Sampled(),
		Method:        s.hr.Method,
		Route:         s.tx.Name,
		Start:         s.start,
		wd:            wd,
		index:         -1,
		next:          next,
		w:             w,
		hr:            s.hr,
	}
	hex.Encode(req.ids[:32], tc.Trace[:])
	hex.Encode(req.ids[32:], tc.Span[:])
	req.Threshold = h.cfg.threshold(req.Route)
	s.req = req
	if req.Threshold > 0 {
		req.deadline = req.Start.Add(req.Threshold)
		wd.watch(req)
	}
	ctx := s.hr.Context()
	wd.listener.ServeRequest(ctx, req)
	if !req.served {
		req.Serve(ctx)
	}
}

// finish renames the transaction if the router learned its route while dispatching, labels it slow,
// applies a listener's labels and redacts the credentials a handler may have added to the request, on the request's goroutine before apmhttp records
// the request and ends the transaction. It runs even if the handler panicked, before apmhttp records the
// panic's error, which so carries the final name.
func (h *handler) finish(s *served) {
	hr := s.r
	fired := false
	if s.req != nil {
		hr = s.req.hr
		fired = s.req.close(s.tx)
	}
	name := h.endName(hr, s)
	s.tx.Name = name
	if fired {
		s.tx.Context.SetLabel("slow", true)
	} else if d := h.cfg.threshold(name); d > 0 && time.Since(s.start) >= d {
		s.tx.Context.SetLabel("slow", true)
	}
	// apmhttp records the request for a sampled transaction, and for the error of a panic.
	if !s.completed || s.tx.Sampled() {
		redactRequest(s.r)
	}
}

// startName is the transaction name before the handler runs (also Request.Route), the ServeMux pattern
// it is named by if any, and the handler to serve r with: WithRouteName's answer, else the pattern the
// ServeMux matches (ServeMux.Handler), else "METHOD unknown route". Where the ServeMux would only set
// r.Pattern and call the handler it found (a route without named wildcards, a 404, a 405), r is served by
// that handler, and the ServeMux matches r once; otherwise (path values to give, a redirect, a "*" or
// CONNECT request, a request an outer ServeMux routed already) it is served by the ServeMux, which
// matches it again.
func (h *handler) startName(r *http.Request) (name, pattern string, next http.Handler) {
	if h.cfg.routeName != nil {
		if name := h.cfg.routeName(r); name != "" {
			return name, "", h.next
		}
	}
	if h.mux == nil {
		return unknownRoute(r.Method), "", h.next
	}
	mh, pattern := h.mux.Handler(r)
	direct := h.dispatch && r.Pattern == "" && r.Method != http.MethodConnect && r.RequestURI != "*"
	if pattern == "" {
		if direct { // 404 or 405: the ServeMux's handler needs no pattern
			return unknownRoute(r.Method), "", mh
		}
		return unknownRoute(r.Method), "", h.next
	}
	rt := h.names.route(pattern)
	if direct && rt.serves(r) {
		return rt.name(r.Method), pattern, mh
	}
	return rt.name(r.Method), pattern, h.next
}

// endName is the final transaction name, from the request the handler was given: WithRouteName's answer
// (routers such as chi record the route while dispatching), else the pattern a ServeMux set while
// dispatching (http.Request.Pattern: also when the ServeMux is inside the wrapped handler), else the
// name given before the handler.
func (h *handler) endName(r *http.Request, s *served) string {
	if h.cfg.routeName != nil {
		if name := h.cfg.routeName(r); name != "" {
			return name
		}
	}
	if r.Pattern != "" && r.Pattern != s.pattern {
		return h.names.name(r.Method, r.Pattern)
	}
	return s.tx.Name
}
