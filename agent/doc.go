// Package agent traces a Go HTTP service with the Elastic APM Go agent in one line, and tells other
// packages (the profiler) about requests while they run. It owns the middleware, route naming, the span
// helpers for the three things a search service waits on, a zap logger with trace ids, and the in-flight
// registry with its slow-request hook.
//
// # The middleware
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /search", search)
//	http.ListenAndServe(":8080", agent.Wrap(mux))
//
// Wrap (or Middleware, for routers that take func(http.Handler) http.Handler) builds on apmhttp.Wrap, so
// each request is a transaction with apmhttp's behaviour: W3C traceparent continued, request and
// response recorded, result "HTTP 2xx".."HTTP 5xx", outcome failure on 5xx, a panic recorded as an error
// and answered 500 without crashing the server. The tracer is apm.DefaultTracer(), configured by the
// ELASTIC_APM_* environment variables (ELASTIC_APM_SERVER_URL, ELASTIC_APM_SERVICE_NAME,
// ELASTIC_APM_SECRET_TOKEN, ELASTIC_APM_TRANSACTION_SAMPLE_RATE...), unless WithTracer says otherwise.
// What agent adds:
//
//   - Names: a transaction is named by its route, never its raw path: the pattern http.ServeMux matched
//     ("GET /items/{id}"; a pattern registered without a method gets the request's method in front),
//     "METHOD unknown route" when nothing matched, or what WithRouteName says for other routers. The
//     name is given before anything in the handler can see the transaction, so the errors captured
//     during the handler (apm.CaptureError(ctx, err).Send()) and the error of a panic carry it, as the
//     UI groups errors by endpoint with it. When Wrap's handler is the *http.ServeMux itself, the
//     ServeMux matches each request once, as it dispatches it, and the transaction is named from the
//     pattern it set (Request.Pattern) the first time anything looks a value up in the request's
//     context (apm.CaptureError, apm.StartSpan, apm.TransactionFromContext, any ctx.Value, from any
//     goroutine): the transaction can only be reached through that context, so it is never seen
//     unnamed, and the path is matched once (BENCHMARKS.md, "The agent"). That context holds the
//     transaction itself, under apm's own context key, which Wrap learns by asking
//     apm.TransactionFromContext what it looks up (if apm, or a package replacing its context
//     functions, keeps the transaction otherwise, the context wraps apm.ContextWithTransaction's, at
//     one allocation more). With a listener (see
//     below), which is told the route before the handler, the agent asks the ServeMux first
//     (ServeMux.Handler) and serves a route without wildcards, a 404 or a 405 with the handler it
//     found, setting Request.Pattern as the mux would; a route with path values is dispatched by the
//     mux, which alone can give the handler its values without a map, and matches the path a second
//     time. Redirects, CONNECT and "*" requests are always left to the mux. A router that learns its
//     route only while dispatching (chi, or a ServeMux inside other middleware) names the transaction
//     when the handler returns, before the error of a panic is recorded; errors captured earlier in
//     its handler carry "METHOD unknown route" unless WithRouteName can answer before the handler.
//   - Everything else apmhttp.Wrap records, recorded by apmhttp's own functions: the trace continued
//     from traceparent (or elastic-apm-traceparent) and tracestate, the request and response
//     (apmhttp.SetTransactionContext), the request body when ELASTIC_APM_CAPTURE_BODY asks for it,
//     the error of a panic (apmhttp.NewTraceRecovery), ELASTIC_APM_TRANSACTION_IGNORE_URLS. The
//     transaction's duration is the one the slow label is decided on: it ends when the handler has
//     returned, before the request is recorded.
//   - Ignored paths (WithIgnorePaths): served without a transaction and without allocating.
//   - Slow requests: a transaction that took longer than its threshold (WithSlowThreshold, 500 ms by
//     default; WithRouteSlowThreshold per route) carries the label slow=true.
//   - Redaction, before the tracer sees the request (so also in the errors captured during the handler,
//     which record the request as the tracer received it): Authorization, Proxy-Authorization, X-Api-Key
//     and every cookie value are "[REDACTED]", and so are the values of query parameters whose names
//     match the sanitizer's names (the Elastic agent's defaults, such as password, *token*, *key,
//     *session*, *auth*, plus ELASTIC_APM_SANITIZE_FIELD_NAMES), whatever the tracer's own sanitizer
//     settings; a form body is never given to the tracer's body capture (ELASTIC_APM_CAPTURE_BODY). The
//     tracer's sanitizer redacts the rest (other headers by name, Set-Cookie). The handler sees the
//     request unchanged. WrapClient's spans record the called URL with the same query parameters and
//     any password redacted.
//
// # Spans
//
//   - Calls to other services: WrapClient (apmhttp's client wrapper) makes each request a span of the
//     transaction in its context and propagates the trace; WithTargetService("segmenter") names the spans
//     and the service-map node after the service rather than its address.
//   - Elasticsearch: ElasticsearchTransport is a round-tripper for go-elasticsearch built on
//     apmelasticsearch, which adds Elasticsearch's own "took", the index, hit count, timed_out and shard
//     failures as span labels, read from the start of the response as it streams by, and the shape of
//     each search's query (es_query_shape, es_query_summary: package queryshape), so that spans group by
//     the kind of query. It works with any client that takes an http.RoundTripper: the agent's module
//     does not require go-elasticsearch.
//   - Code blocks such as building a query need no helper: apm.StartSpan(ctx, "build query", "app")
//     and defer span.End().
//
// Logger(ctx, base) adds trace.id, transaction.id and span.id to a zap logger (apmzap); ReportErrors makes
// the errors logged through it APM errors attached to the trace.
//
// # Circuit breakers
//
// A Breaker is a small hook that makes any circuit-breaker library visible on traces, without the agent
// knowing the library (it adds no dependency). An adapter calls it; examples/search/breaker is the one
// for github.com/sony/gobreaker/v2:
//
//	hook := agent.NewBreaker("elasticsearch")
//	hook.Decide(ctx, agent.DecisionAllowed)             // or DecisionProbe (half-open), DecisionRejected
//	hook.Done(err == nil)                               // the outcome of a call let through
//	hook.Changed(agent.BreakerClosed, agent.BreakerOpen, time.Now()) // from the library's callback
//	agent.ServedBy(ctx, "emergency_cache")              // who answered the request
//
// Per call, Decide labels the request's transaction, and the span in ctx if there is one, with
// breaker=<name>, breaker_decision=allowed|rejected|probe and breaker_state=closed|open|half-open;
// ServedBy labels the transaction served_by=<who>: the backend ("elasticsearch"), a fallback
// ("emergency_cache"), or "rejected" (ServedRejected) when nobody answered. Per breaker, each Changed is
// sent at once as a transaction of type "breaker" named "<name>: <from> -> <to>", timestamped at the
// change, of no duration, with result <to> and labels breaker, breaker_from, breaker_to, breaker_from_ms
// (time spent in <from>) and the counts of <from> as the hook saw them (breaker_requests,
// breaker_successes, breaker_failures, breaker_rejected, breaker_consecutive_successes,
// breaker_consecutive_failures): gobreaker's own OnStateChange cannot give them, as it clears its counts
// before calling it (sony/gobreaker#72). These transactions are always sampled (they carry a trace id
// and the recorded flag, which the agent honours instead of its sampler), so no state change is lost
// to sampling, and an open period of a few milliseconds is as visible as a long one; a gauge polled
// every few seconds misses them. Everything travels over the standard intake as labels and
// transactions, so Kibana APM shows them as well as hotpath: filter on labels.breaker_decision, or pick
// the transaction type "breaker".
//
// # The in-flight hook (for the profiler)
//
// An InFlight is a registry of running requests and the one Listener told about them. Give it to the
// middleware, then listen:
//
//	inflight := agent.NewInFlight()
//	handler := agent.Wrap(mux, agent.WithInFlight(inflight))
//	stop, err := inflight.Listen(profiler) // starts the watchdog goroutine
//	...
//	stop() // stops it; no more RequestSlow calls after it returns
//
// For every traced request (not ignored, tracer recording), on the request's goroutine, after the
// transaction started:
//
//  1. Start: Listener.ServeRequest(ctx, r) is called before the handler. ctx is the request's context
//     (it holds the transaction); r describes the request: TraceID and TransactionID (in hex, without
//     allocating: r.TraceIDString(), r.TransactionIDString()), Sampled, Method, Route (the transaction
//     name as known before the handler: the ServeMux pattern, found with ServeMux.Handler, or
//     WithRouteName's result), Start and Threshold (the route's slow threshold). The listener must call
//     r.Serve(ctx2) once, on that goroutine, with ctx2 derived from ctx: Serve runs the handler with ctx2
//     as the request's context.
//  2. Slow: if the handler is still running at r.Start+r.Threshold, Listener.RequestSlow(r) is called
//     from the watchdog goroutine (never the request's), at most once per request, one request at a time.
//     Serve does not return before a RequestSlow call for its request has returned, so RequestSlow must be
//     quick: start the capture elsewhere. Requests with Threshold <= 0 are never reported.
//  3. End: Serve returns when the handler has returned (or panicked: Serve panics then, and the
//     middleware recovers above ServeRequest), and the request has ended when ServeRequest returns. Then
//     the transaction is renamed if the router learned its route while dispatching, labelled and ended.
//
// So a profiler sets the labels of one pprof.Do, keys sorted, around Serve; they cover the handler's
// goroutine, the goroutines it starts, and nested pprof.Do calls that start from r.Context(). They are
// also how a CPU sample or a goroutine in a goroutine profile is tied to the request: a goroutine's
// identity is its labels.
//
//	func (p *Profiler) ServeRequest(ctx context.Context, r *agent.Request) {
//		pprof.Do(ctx, pprof.Labels("route", r.Route, "trace.id", r.TraceIDString(),
//			"transaction.id", r.TransactionIDString()), r.Serve)
//	}
//
//	func (p *Profiler) RequestSlow(r *agent.Request) {
//		id := p.startCapture(r) // asynchronous
//		r.SetLabel("profile.id", id)
//	}
//
// pprof.Do costs the closure of r.Serve; a listener counting allocations can do the same without it:
// labelled := pprof.WithLabels(ctx, labels); pprof.SetGoroutineLabels(labelled); defer
// pprof.SetGoroutineLabels(ctx); r.Serve(labelled).
//
// r.SetLabel(key, value) adds a label to the transaction from any goroutine, RequestSlow's included
// ("profile.id" links the trace to the profile; dots become underscores in label keys, as in all
// Elastic APM labels). The labels are applied on the request's goroutine before the transaction ends,
// since an apm.Transaction must not be modified from two goroutines; SetLabel reports false once the
// request has ended. The same *Request is passed to both methods and can be a map key.
//
// Cost: with no listener (or no InFlight) the middleware does no registry work: one atomic load, no
// goroutine, no allocation (TestRequestPathAllocations, BenchmarkRequestPath). With a listener: one
// watchdog goroutine in all, a min-heap of deadlines with one timer (a push when a request starts, a
// removal when it ends, O(log n) under one mutex), and per request one allocation (the Request, which
// holds the request's context with the transaction) and the request copy that carries the listener's
// context if it derives one. The route it is told is the
// pattern ServeMux.Handler matched before the handler: the ServeMux matches a route with path values a
// second time when it dispatches (BENCHMARKS.md, "The agent", has what a listener costs).
package agent
