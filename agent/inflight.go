package agent

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"go.elastic.co/apm/v2"
)

// ErrListening is returned by InFlight.Listen when the InFlight already has a listener.
var ErrListening = errors.New("agent: InFlight already has a listener")

// InFlight is the registry of the requests being served by the handlers it is given to (WithInFlight), and
// the one Listener told about them. Until Listen is called it does nothing and costs nothing: the
// middleware checks one atomic pointer. While a listener is registered, one watchdog goroutine keeps the
// running requests in a heap ordered by when they cross their slow threshold. The zero value is not
// usable; call NewInFlight.
type InFlight struct {
	current atomic.Pointer[watchdog] // nil: no listener
	mu      sync.Mutex               // serializes Listen and stop
}

// NewInFlight returns an InFlight with no listener.
func NewInFlight() *InFlight {
	return &InFlight{}
}

// Listen registers l and starts the watchdog goroutine. It returns ErrListening if a listener is already
// registered. stop unregisters l and returns once the watchdog goroutine has exited; after it returns,
// RequestSlow is not called again. Requests that had already started when stop was called finish normally
// (a request that loaded the listener just before stop may still enter l.ServeRequest, so a listener that
// has been shut down should just call r.Serve). stop may be called more than once.
func (f *InFlight) Listen(l Listener) (stop func(), err error) {
	if l == nil {
		return nil, errors.New("agent: Listen(nil)")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.current.Load() != nil {
		return nil, ErrListening
	}
	wd := newWatchdog(l)
	f.current.Store(wd)
	go wd.run()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.current.CompareAndSwap(wd, nil)
			f.mu.Unlock()
			wd.stop()
		})
	}, nil
}

// Listener is told about every traced request served by the handlers sharing an InFlight. Requests that
// are not traced (ignored paths, tracer not recording) are not seen.
type Listener interface {
	// ServeRequest is called on the request's goroutine, after its transaction has started and before
	// the handler runs. It must call r.Serve exactly once, on the same goroutine, with ctx or a context
	// derived from it: Serve runs the handler with that context as the request's context, and returns
	// when the handler has returned. The request has ended when ServeRequest returns.
	//
	// This is where a profiler attaches pprof labels, in one call whose labels are sorted by key:
	//
	//	pprof.Do(ctx, pprof.Labels("route", r.Route, "trace.id", r.TraceIDString(),
	//		"transaction.id", r.TransactionIDString()), r.Serve)
	//
	// Serve panics if the handler panics (the middleware recovers it above ServeRequest, answers 500 and
	// records the error): clean up with defer. If ServeRequest returns without calling Serve, the
	// handler is run after it returns, without the listener.
	ServeRequest(ctx context.Context, r *Request)

	// RequestSlow is called from the watchdog goroutine, never from the request's, when the request has
	// been running for r.Threshold and its handler has not returned yet. It is called at most once per
	// request, only for requests with a positive Threshold, and for one request at a time. Serve does not
	// return until a RequestSlow call for its request has returned (so the handler's request waits for
	// it): RequestSlow must be quick, starting any long work (a capture) elsewhere. Labels it sets with
	// r.SetLabel are on the transaction.
	RequestSlow(r *Request)
}

// Request describes a request in flight to a Listener. Its exported fields are set before ServeRequest
// is called and never change; read them from any goroutine. The same *Request is passed to ServeRequest
// and RequestSlow, so a listener can use it as a map key.
type Request struct {
	// TraceID and TransactionID identify the request's transaction; TraceIDString and
	// TransactionIDString give them in hex, as trace.id and transaction.id.
	TraceID       apm.TraceID
	TransactionID apm.SpanID
	// Sampled tells whether the transaction is sampled, i.e. whether it and its labels will be sent.
	Sampled bool
	// Method is the request's HTTP method.
	Method string
	// Route is the transaction name as known before the handler runs: the http.ServeMux pattern when
	// the wrapped handler is a ServeMux, or WithRouteName's result, else "METHOD unknown route". The
	// final transaction name is decided when the handler returns and differs only for routers that
	// learn the route while dispatching.
	Route string
	// Start is when the middleware started serving the request.
	Start time.Time
	// Threshold is the request's slow threshold (WithSlowThreshold, WithRouteSlowThreshold for Route);
	// <= 0 when slow detection is off for it, and then RequestSlow is never called.
	Threshold time.Duration

	wd       *watchdog
	deadline time.Time // Start + Threshold
	ids      [48]byte  // TraceID then TransactionID in hex; never modified once set

	// Guarded by wd.mu.
	index  int      // position in wd.queue; -1 when not in it
	state  reqState // where the request is in its life
	fired  bool     // RequestSlow was called for it
	labels []label  // set by SetLabel, applied to the transaction by close

	// Used only on the request's goroutine.
	ctx    txContext // the request's context with the transaction, if apm's key is known (handler.txKey)
	next   http.Handler
	w      http.ResponseWriter
	hr     *http.Request // the request the handler was given
	served bool          // Serve was called
}

type reqState uint8

const (
	running  reqState = iota // handler running; in the queue if Threshold > 0
	firing                   // RequestSlow being called
	returned                 // handler returned; out of the queue
	closed                   // ServeRequest returned; labels applied
)

type label struct {
	key   string
	value any
}

// SetLabel records a label (string, number or bool value, as apm.Context.SetLabel takes) to put on the
// request's transaction, and reports whether it will be: it returns false once the request has ended
// (ServeRequest has returned). It is safe to call from any goroutine, including RequestSlow's; the labels
// are applied on the request's goroutine just before the transaction ends, because an apm.Transaction may
// not be modified from two goroutines. A profiler sets "profile.id" here.
func (r *Request) SetLabel(key string, value any) bool {
	r.wd.mu.Lock()
	defer r.wd.mu.Unlock()
	if r.state == closed {
		return false
	}
	r.labels = append(r.labels, label{key, value})
	return true
}

// TraceIDString returns TraceID in hex, as TraceID.String does, without allocating: the string shares
// r's memory, which never changes.
func (r *Request) TraceIDString() string { return unsafe.String(&r.ids[0], 32) }

// TransactionIDString returns TransactionID in hex, as TransactionID.String does, without allocating.
func (r *Request) TransactionIDString() string { return unsafe.String(&r.ids[32], 16) }

// Serve runs the handler with ctx as the request's context; see Listener.ServeRequest. It panics if
// called twice.
func (r *Request) Serve(ctx context.Context) {
	if r.served {
		panic("agent: Request.Serve called twice")
	}
	r.served = true
	if ctx != r.hr.Context() {
		r.hr = r.hr.WithContext(ctx)
	}
	defer r.wd.unwatch(r)
	r.next.ServeHTTP(r.w, r.hr)
}

// close ends the request: takes it out of the watchdog's queue if Serve did not (the listener panicked
// before calling it), applies its labels to tx and reports whether RequestSlow was called for it. Called
// on the request's goroutine before tx ends.
func (r *Request) close(tx *apm.Transaction) (fired bool) {
	r.wd.unwatch(r)
	r.wd.mu.Lock()
	r.state = closed
	labels := r.labels
	r.labels = nil
	fired = r.fired
	r.wd.mu.Unlock()
	for _, l := range labels {
		tx.Context.SetLabel(l.key, l.value)
	}
	return fired
}
