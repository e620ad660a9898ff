package agent

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.elastic.co/apm/module/apmhttp/v2"
	"go.elastic.co/apm/v2"
)

// Wrap returns h traced: each request is an Elastic APM transaction, as apmhttp.Wrap records it (trace
// context from traceparent, request/response context, status-code result and outcome, recovery of
// panics as errors answered with 500; apmhttp's own functions do each part), named by its route before
// the handler can see it (see WithRouteName), labelled slow=true when it took longer than its slow
// threshold, with the request's credentials redacted. Options are described with each With* function.
func Wrap(h http.Handler, opts ...Option) http.Handler {
	if h == nil {
		panic("agent: Wrap(nil)")
	}
	hd := &handler{cfg: newConfig(opts), next: h}
	hd.mux, _ = h.(*http.ServeMux)
	hd.dispatch = hd.mux != nil && muxSetsPattern()
	hd.lazy = hd.dispatch && hd.cfg.routeName == nil
	if !hd.cfg.noTxKey {
		hd.txKey = transactionKey()
	}
	hd.ignorer = apmhttp.NewDynamicServerRequestIgnorer(hd.cfg.tracer)
	hd.recovery = apmhttp.NewTraceRecovery(hd.cfg.tracer)
	return hd
}

// muxSetsPattern reports whether this process's http.ServeMux routes with Go 1.22's patterns, setting
// Request.Pattern and the path values (it does not with GODEBUG=httpmuxgo121=1): only then does the agent
// dispatch a request to the handler ServeMux.Handler found for it, giving the handler what the ServeMux
// would have, or name the transaction from the pattern the ServeMux set (lazyName).
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
	cfg      config
	next     http.Handler
	mux      *http.ServeMux // next, when it is one: names the transaction before the handler runs
	dispatch bool           // mux's routing is Go 1.22's: serve with the handler mux.Handler found
	lazy     bool           // dispatch, and no WithRouteName: name when the handler first looks (lazyName)
	txKey    any            // apm's context key of the transaction, if learned (transactionKey)
	ignorer  apmhttp.RequestIgnorerFunc
	recovery apmhttp.RecoveryFunc
	names    patternNames
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.ignore != nil {
		if _, ok := h.cfg.ignore[r.URL.Path]; ok {
			h.next.ServeHTTP(w, r)
			return
		}
	}
	if !h.cfg.tracer.Recording() || h.ignorer(r) { // ELASTIC_APM_TRANSACTION_IGNORE_URLS
		h.next.ServeHTTP(w, r)
		return
	}
	h.serveTraced(w, r)
}

// served is what finish needs to know about a request.
type served struct {
	tx        *apm.Transaction
	r         *http.Request // what the tracer records: hr, or a redacted copy of the request
	hr        *http.Request // the request given to the handler
	body      *apm.BodyCapturer
	w         http.ResponseWriter // apmhttp's, which records the response in resp
	resp      *apmhttp.Response
	start     time.Time
	req       *Request  // non-nil when a listener is told about the request
	lazy      *lazyName // non-nil when the transaction is named when first looked at (see lazyName)
	pattern   string    // the ServeMux pattern the transaction was named by before the handler, if any
	completed bool      // the handler returned without panicking
}

// serveTraced serves a request as a transaction, as apmhttp.Wrap's handler does and with its functions,
// and names the transaction by its route before anything in the handler can see it, so that what is
// recorded during the handler (errors captured, the error of a panic) carries the route: apm copies the
// transaction's name into an error when the error is created.
//
// Wrapping the *http.ServeMux itself, without a listener or WithRouteName, the ServeMux matches the
// request once, when it dispatches it, and the transaction is named from the pattern it set when the
// handler first looks at the request's context (lazyName). Otherwise the name is known before the
// handler runs (startName): a listener is told the route before the handler, and WithRouteName answers
// from the request.
//
// The tracer records a redacted copy of the request when it carries credentials (redactedCopy), also in
// the errors captured during the handler (the body capturer holds it); the handler is given the request
// as it came, with the transaction's context, reading the body through the capturer.
func (h *handler) serveTraced(w http.ResponseWriter, r *http.Request) {
	s := served{start: time.Now()}
	s.tx = h.cfg.tracer.StartTransactionOptions(unknownRoute(r.Method), "request",
		apm.TransactionOptions{TraceContext: incomingTrace(r.Header), Start: s.start})
	s.w, s.resp = apmhttp.WrapResponseWriter(w)
	defer h.end(&s)
	var wd *watchdog
	if f := h.cfg.inflight; f != nil {
		wd = f.current.Load()
	}
	// The context holding the transaction: the naming context, or the Request a listener is told
	// about, holds it itself when apm's key is known, without an allocation of its own.
	var ctx context.Context
	var req *Request
	switch {
	case wd == nil && h.lazy:
		s.lazy = &lazyName{Context: r.Context(), tx: s.tx, txKey: h.txKey, names: &h.names}
		if h.txKey == nil {
			s.lazy.Context = apm.ContextWithTransaction(s.lazy.Context, s.tx)
		}
		ctx = s.lazy
	case wd != nil && h.txKey != nil:
		req = &Request{ctx: txContext{Context: r.Context(), key: h.txKey, tx: s.tx}}
		ctx = &req.ctx
	default:
		ctx = apm.ContextWithTransaction(r.Context(), s.tx)
	}
	s.hr = r.WithContext(ctx)
	if s.lazy != nil {
		s.hr.Pattern = "" // an outer ServeMux's: this one sets its own before the handler runs
		s.lazy.r = s.hr
	}
	var form bool
	if s.r, form = h.cfg.names.redactedCopy(r); s.r == nil {
		s.r = s.hr
	}
	if s.body = h.cfg.tracer.CaptureHTTPRequestBody(s.r); s.body != nil {
		if s.lazy != nil { // nothing has seen the context yet
			s.lazy.Context = apm.ContextWithBodyCapturer(s.lazy.Context, s.body)
		} else {
			s.hr = s.hr.WithContext(apm.ContextWithBodyCapturer(ctx, s.body))
		}
	}
	if !form {
		s.hr.Body = s.r.Body // through the capturer, if any
	}
	if s.lazy != nil {
		h.next.ServeHTTP(s.w, s.hr)
		s.completed = true
		return
	}
	var next http.Handler
	s.tx.Name, s.pattern, next = h.startName(s.hr)
	if wd != nil {
		if req == nil {
			req = new(Request)
		}
		h.serveListened(wd, next, &s, req)
	} else {
		next.ServeHTTP(s.w, s.hr)
	}
	s.completed = true
}

// incomingTrace is the trace context a request continues, as apmhttp.StartTransaction reads it: the W3C
// traceparent header, else the Elastic agents' older one, with tracestate; the zero value starts a trace.
func incomingTrace(h http.Header) apm.TraceContext {
	tc, ok := traceparent(h[apmhttp.W3CTraceparentHeader])
	if !ok {
		tc, ok = traceparent(h[apmhttp.ElasticTraceparentHeader])
	}
	if ok {
		tc.State, _ = apmhttp.ParseTracestateHeader(h[apmhttp.TracestateHeader]...)
	}
	return tc
}

// traceparent parses a traceparent header given once.
func traceparent(values []string) (apm.TraceContext, bool) {
	if len(values) != 1 || values[0] == "" {
		return apm.TraceContext{}, false
	}
	tc, err := apmhttp.ParseTraceparentHeader(values[0])
	return tc, err == nil
}

// lazyName is the context of a request the ServeMux dispatches before the transaction is named: the
// first time anything looks up a value in it (the transaction, for apm.CaptureError, apm.StartSpan or
// apm.TransactionFromContext; any value, from any goroutine), the ServeMux has set the request's pattern,
// and the transaction is named by it before the value is returned. Nothing can see the transaction but
// through this context until the handler has returned, so the name it is seen with is the route's, as if
// it had been named before the handler ran, with one match of the path instead of two (ServeMux.Handler,
// then ServeMux.ServeHTTP). It holds the transaction itself, answering apm's key (txKey, see
// transactionKey), or, if that key is not known, wraps the context apm.ContextWithTransaction made.
type lazyName struct {
	context.Context // the request's context; holding the transaction if txKey is nil
	tx              *apm.Transaction
	txKey           any           // apm's key of the transaction in a context: Value answers it with tx
	r               *http.Request // the request the ServeMux dispatches: its Pattern names the transaction
	names           *patternNames
	done            atomic.Bool // no more naming here: it happened, or the request is finishing
	mu              sync.Mutex  // serializes naming, from goroutines the handler started
	pattern         string      // the pattern the transaction was named by, if any
}

// Value names the transaction, the first time, then returns the value of key in the request's context.
func (c *lazyName) Value(key any) any {
	if !c.done.Load() {
		c.mu.Lock()
		if !c.done.Load() {
			if c.pattern = c.r.Pattern; c.pattern != "" {
				c.tx.Name = c.names.name(c.r.Method, c.pattern)
			}
			c.done.Store(true)
		}
		c.mu.Unlock()
	}
	if key == c.txKey && key != nil {
		return c.tx
	}
	return c.Context.Value(key)
}

// txContext is a context holding a transaction under apm's key (transactionKey), as the one
// apm.ContextWithTransaction makes does, inside the Request a listener is told about.
type txContext struct {
	context.Context
	key any // non-nil
	tx  *apm.Transaction
}

func (c *txContext) Value(key any) any {
	if key == c.key {
		return c.tx
	}
	return c.Context.Value(key)
}

// end stops the naming in Value (finish names the transaction now) and returns the pattern the
// transaction was named by there, if any.
func (c *lazyName) end() string {
	if !c.done.Load() {
		c.mu.Lock()
		c.done.Store(true)
		c.mu.Unlock()
	}
	return c.pattern
}

// serveListened serves a request a listener is told about, described by req (whose ctx it keeps).
func (h *handler) serveListened(wd *watchdog, next http.Handler, s *served, req *Request) {
	tc := s.tx.TraceContext()
	*req = Request{
		ctx:           req.ctx,
		TraceID:       tc.Trace,
		TransactionID: tc.Span,
		Sampled:       s.tx.Sampled(),
		Method:        s.hr.Method,
		Route:         s.tx.Name,
		Start:         s.start,
		wd:            wd,
		index:         -1,
		next:          next,
		w:             s.w,
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
// applies a listener's labels and redacts the credentials a handler may have added to the request, on
// the request's goroutine before end records the request and ends the transaction. It runs even if the
// handler panicked, before end records the panic's error, which so carries the final name.
func (h *handler) finish(s *served) {
	hr := s.hr
	if s.lazy != nil {
		s.pattern = s.lazy.end()
	}
	fired := false
	if s.req != nil {
		hr = s.req.hr
		fired = s.req.close(s.tx)
	}
	name := h.endName(hr, s)
	s.tx.Name = name
	if d := h.cfg.threshold(name); d > 0 {
		// One reading of the clock for the label and the transaction's duration (which apm would
		// otherwise take in End, after recording the request): they agree.
		s.tx.Duration = time.Since(s.start)
		fired = fired || s.tx.Duration >= d
	}
	if fired {
		s.tx.Context.SetLabel("slow", true)
	}
	// apmhttp records the request for a sampled transaction, and for the error of a panic.
	if !s.completed || s.tx.Sampled() {
		redactRequest(s.r)
	}
}

// end runs finish, then does what apmhttp.Wrap's handler does when the handler has returned or
// panicked: answers 500 and records the panic's error (apmhttp.NewTraceRecovery) if it panicked, records
// the request and response (apmhttp.SetTransactionContext), ends the transaction. A panic in finish
// (WithRouteName's function) is recovered like the handler's.
func (h *handler) end(s *served) {
	v := recover()
	if h.cfg.routeName != nil {
		v = h.finishRecovering(s, v)
	} else {
		h.finish(s)
	}
	if v != nil {
		if s.resp.StatusCode == 0 {
			s.w.WriteHeader(http.StatusInternalServerError)
		}
		h.recovery(s.w, s.r, s.resp, s.body, s.tx, v)
	} else if s.resp.StatusCode == 0 { // the handler returned without writing
		s.resp.StatusCode = http.StatusOK
	}
	apmhttp.SetTransactionContext(s.tx, s.r, s.resp, s.body)
	s.body.Discard()
	s.tx.End()
}

// finishRecovering runs finish, and returns the panic it ended with, if any, else v.
func (h *handler) finishRecovering(s *served, v any) (panicked any) {
	panicked = v
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	h.finish(s)
	return panicked
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
