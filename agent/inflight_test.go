package agent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/agent/agenttest"
)

// listener is an agent.Listener made of functions; nil ones do the minimum.
type listener struct {
	serveRequest func(ctx context.Context, r *agent.Request)
	requestSlow  func(r *agent.Request)
}

func (l *listener) ServeRequest(ctx context.Context, r *agent.Request) {
	if l.serveRequest == nil {
		r.Serve(ctx)
		return
	}
	l.serveRequest(ctx, r)
}

func (l *listener) RequestSlow(r *agent.Request) {
	if l.requestSlow != nil {
		l.requestSlow(r)
	}
}

func listen(t *testing.T, f *agent.InFlight, l agent.Listener) {
	t.Helper()
	stop, err := f.Listen(l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
}

// waitFor is agenttest.Receive: what ch delivers, or the test fails.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	return agenttest.Receive(t, ch, what)
}

func hexID(b []byte) string { return fmt.Sprintf("%x", b) }

// TestListenerToldWhileRequestRuns is the profiler's use: labels on the request's goroutine and context
// from ServeRequest, RequestSlow from the watchdog while the handler is still running (the handler waits
// for it: if it were called from the handler's goroutine, or only at the end, the handler would never
// see it), a label added from the watchdog goroutine, and the end seen before the transaction ends.
func TestListenerToldWhileRequestRuns(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	slow := make(chan *agent.Request, 1)
	var served *agent.Request
	listen(t, f, &listener{
		serveRequest: func(ctx context.Context, r *agent.Request) {
			served = r
			pprof.Do(ctx, pprof.Labels("route", r.Route, "trace.id", r.TraceIDString(),
				"transaction.id", r.TransactionIDString()), r.Serve)
			if !r.SetLabel("ended_seen", true) {
				t.Error("SetLabel after serve returned false")
			}
		},
		requestSlow: func(r *agent.Request) {
			if !r.SetLabel("profile.id", "prof-1") {
				t.Error("SetLabel from RequestSlow returned false")
			}
			slow <- r
		},
	})

	var inHandler *agent.Request
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search/{q}", func(w http.ResponseWriter, r *http.Request) {
		tx := apm.TransactionFromContext(r.Context())
		if got, _ := pprof.Label(r.Context(), "transaction.id"); got != tx.TraceContext().Span.String() {
			t.Errorf("handler context label transaction.id = %q, want %s", got, tx.TraceContext().Span)
		}
		if got, _ := pprof.Label(r.Context(), "route"); got != "GET /search/{q}" {
			t.Errorf("handler context label route = %q", got)
		}
		if r.PathValue("q") != "shoes" {
			t.Errorf("path value %q", r.PathValue("q"))
		}
		inHandler = waitFor(t, slow, "RequestSlow while the handler runs")
		io.WriteString(w, "found")
	})
	h := agent.Wrap(mux, agent.WithTracer(rt.Tracer), agent.WithInFlight(f),
		agent.WithSlowThreshold(time.Hour), agent.WithRouteSlowThreshold("GET /search/{q}", 20*time.Millisecond))

	before := time.Now()
	w := do(h, "GET", "/search/shoes")
	after := time.Now()
	if w.Body.String() != "found" {
		t.Fatalf("body %q", w.Body)
	}
	if inHandler != served {
		t.Fatalf("RequestSlow got %p, ServeRequest %p", inHandler, served)
	}
	r := served
	if r.Route != "GET /search/{q}" || r.Method != "GET" || r.Threshold != 20*time.Millisecond || !r.Sampled {
		t.Errorf("request %+v", r)
	}
	if r.Start.Before(before) || r.Start.After(after) {
		t.Errorf("start %v not within the request (%v, %v)", r.Start, before, after)
	}
	if r.TraceIDString() != r.TraceID.String() || r.TransactionIDString() != r.TransactionID.String() {
		t.Errorf("hex ids %s %s, want %s %s", r.TraceIDString(), r.TransactionIDString(), r.TraceID, r.TransactionID)
	}
	if n := testing.AllocsPerRun(10, func() { _, _ = r.TraceIDString(), r.TransactionIDString() }); n != 0 {
		t.Errorf("hex ids cost %v allocations", n)
	}
	if r.SetLabel("late", 1) {
		t.Error("SetLabel after the request ended returned true")
	}

	txs := transactions(rt)
	if len(txs) != 1 {
		t.Fatalf("%d transactions", len(txs))
	}
	tx := txs[0]
	if hexID(tx.TraceID[:]) != r.TraceID.String() || hexID(tx.ID[:]) != r.TransactionID.String() {
		t.Errorf("listener ids %s/%s, transaction %x/%x", r.TraceID, r.TransactionID, tx.TraceID, tx.ID)
	}
	for key, want := range map[string]any{"slow": true, "profile_id": "prof-1", "ended_seen": true} {
		if got, ok := label(tx.Context, key); !ok || got != want {
			t.Errorf("label %s = %v (%v), want %v", key, got, ok, want)
		}
	}
	if _, ok := label(tx.Context, "late"); ok {
		t.Error("a label set after the end reached the transaction")
	}
}

func TestListenerNotToldAboutFastRequests(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	var mu sync.Mutex
	served, slow := 0, 0
	stop, err := f.Listen(&listener{
		serveRequest: func(ctx context.Context, r *agent.Request) {
			mu.Lock()
			served++
			mu.Unlock()
			r.Serve(ctx)
		},
		requestSlow: func(*agent.Request) { mu.Lock(); slow++; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Listen(&listener{}); !errors.Is(err, agent.ErrListening) {
		t.Fatalf("second Listen: %v, want ErrListening", err)
	}
	h := agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer), agent.WithInFlight(f), agent.WithSlowThreshold(time.Hour),
		agent.WithIgnorePaths("/items/ignored"))
	for range 10 {
		do(h, "GET", "/items/1")
	}
	do(h, "GET", "/items/ignored")
	stop()
	stop()                   // idempotent
	do(h, "GET", "/items/2") // after stop: not told
	mu.Lock()
	defer mu.Unlock()
	if served != 10 || slow != 0 {
		t.Fatalf("served %d slow %d, want 10 0", served, slow)
	}
	// Listening again works once stopped.
	stop2, err := f.Listen(&listener{})
	if err != nil {
		t.Fatal(err)
	}
	stop2()
}

// TestRequestSlowHoldsTheRequest: serve does not return while RequestSlow runs for its request, so a
// label set at the end of RequestSlow is on the transaction even if the handler has returned meanwhile.
//
// It runs in a synctest bubble: "serve has not returned" is checked once every goroutine of the test is
// blocked (synctest.Wait), when a wrong implementation would have returned, not after a while.
func TestRequestSlowHoldsTheRequest(t *testing.T) {
	synctest.Test(t, testRequestSlowHoldsTheRequest)
}

func testRequestSlowHoldsTheRequest(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	entered, release := make(chan struct{}), make(chan struct{})
	handlerReturned, serveReturned := make(chan struct{}), make(chan struct{})
	labelled := make(chan bool, 1)
	listen(t, f, &listener{
		serveRequest: func(ctx context.Context, r *agent.Request) {
			r.Serve(ctx)
			close(serveReturned)
		},
		requestSlow: func(r *agent.Request) {
			close(entered)
			<-release
			labelled <- r.SetLabel("captured", true)
		},
	})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	defer releaseOnce() // on failure, let the watchdog go so that stop returns
	h := agent.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		waitFor(t, entered, "RequestSlow")
		close(handlerReturned)
	}), agent.WithTracer(rt.Tracer), agent.WithInFlight(f), agent.WithSlowThreshold(time.Millisecond))

	done := make(chan struct{})
	go func() {
		defer close(done)
		do(h, "GET", "/x")
	}()
	waitFor(t, handlerReturned, "the handler")
	synctest.Wait() // serve returns now, or not until RequestSlow does
	select {
	case <-serveReturned:
		t.Fatal("serve returned while RequestSlow was running")
	default:
	}
	releaseOnce()
	waitFor(t, done, "the request")
	if !<-labelled {
		t.Fatal("SetLabel at the end of RequestSlow returned false")
	}
	txs := transactions(rt)
	if len(txs) != 1 {
		t.Fatal(len(txs))
	}
	if v, ok := label(txs[0].Context, "captured"); !ok || v != true {
		t.Errorf("label captured = %v %v", v, ok)
	}
}

// TestWatchdogManyRequests: concurrent requests with different thresholds each hear about exactly their
// own crossing while running, in deadline order rather than start order; requests under their threshold
// are never reported.
func TestWatchdogManyRequests(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	var mu sync.Mutex
	slowCh := map[string]chan struct{}{}
	ch := func(id string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if slowCh[id] == nil {
			slowCh[id] = make(chan struct{})
		}
		return slowCh[id]
	}
	var fired []string
	listen(t, f, &listener{requestSlow: func(r *agent.Request) {
		mu.Lock()
		fired = append(fired, r.Route)
		mu.Unlock()
		close(ch(r.TransactionID.String()))
	}})
	releasePatient := make(chan struct{})
	patientStarted := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /patient", func(w http.ResponseWriter, r *http.Request) {
		close(patientStarted)
		waitFor(t, releasePatient, "release")
	})
	mux.HandleFunc("GET /impatient/{i}", func(w http.ResponseWriter, r *http.Request) {
		waitFor(t, ch(apm.TransactionFromContext(r.Context()).TraceContext().Span.String()), "own RequestSlow")
	})
	h := agent.Wrap(mux, agent.WithTracer(rt.Tracer), agent.WithInFlight(f),
		agent.WithRouteSlowThreshold("GET /patient", time.Hour), agent.WithSlowThreshold(time.Millisecond))

	patientDone := make(chan struct{})
	go func() {
		defer close(patientDone)
		do(h, "GET", "/patient")
	}()
	waitFor(t, patientStarted, "the patient request")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { do(h, "GET", fmt.Sprintf("/impatient/%d", i)) })
	}
	wg.Wait()
	close(releasePatient)
	waitFor(t, patientDone, "the patient request")

	mu.Lock()
	defer mu.Unlock()
	if len(fired) != 50 {
		t.Fatalf("%d RequestSlow calls, want 50", len(fired))
	}
	for _, route := range fired {
		if route != "GET /impatient/{i}" {
			t.Errorf("RequestSlow for %s", route)
		}
	}
	if n := len(transactions(rt)); n != 51 {
		t.Errorf("%d transactions, want 51", n)
	}
}

func TestListenerAndPanickingHandler(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	ended := false
	listen(t, f, &listener{serveRequest: func(ctx context.Context, r *agent.Request) {
		defer func() { ended = true }()
		pprof.Do(ctx, pprof.Labels("transaction.id", r.TransactionIDString()), r.Serve)
	}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	w := do(agent.Wrap(mux, agent.WithTracer(rt.Tracer), agent.WithInFlight(f), agent.WithSlowThreshold(time.Hour)), "GET", "/boom")
	if w.Code != http.StatusInternalServerError || !ended {
		t.Fatalf("status %d, listener saw the end: %v", w.Code, ended)
	}
	rt.Flush(nil)
	p := rt.Payloads()
	if len(p.Transactions) != 1 || p.Transactions[0].Name != "GET /boom" || len(p.Errors) != 1 {
		t.Fatalf("%d transactions (%+v), %d errors", len(p.Transactions), p.Transactions, len(p.Errors))
	}
}

func TestListenerThatForgetsServe(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	listen(t, f, &listener{serveRequest: func(context.Context, *agent.Request) {}})
	w := do(agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer), agent.WithInFlight(f)), "GET", "/items/9")
	if w.Body.String() != "item 9" {
		t.Fatalf("body %q", w.Body)
	}
	if txs := transactions(rt); len(txs) != 1 || txs[0].Name != "GET /items/{id}" {
		t.Fatalf("%+v", txs)
	}
}

// TestRouteBeforeTheHandler: the listener learns the route before the handler runs, from the ServeMux or
// from WithRouteName; an unmatched request is "METHOD unknown route".
func TestRouteBeforeTheHandler(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	routes := make(chan string, 10)
	listen(t, f, &listener{serveRequest: func(ctx context.Context, r *agent.Request) {
		routes <- r.Route
		r.Serve(ctx)
	}})
	h := agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer), agent.WithInFlight(f))
	do(h, "GET", "/items/1")
	do(h, "POST", "/legacy/z")
	do(h, "GET", "/nope")
	named := agent.Wrap(http.NotFoundHandler(), agent.WithTracer(rt.Tracer), agent.WithInFlight(f),
		agent.WithRouteName(func(r *http.Request) string { return "custom " + r.URL.Path }))
	do(named, "GET", "/c")
	for _, want := range []string{"GET /items/{id}", "POST /legacy/{rest...}", "GET unknown route", "custom /c"} {
		if got := <-routes; got != want {
			t.Errorf("route %q, want %q", got, want)
		}
	}
}

var _ agent.Listener = (*listener)(nil)

func TestListenNil(t *testing.T) {
	if _, err := agent.NewInFlight().Listen(nil); err == nil {
		t.Fatal("Listen(nil) succeeded")
	}
}

// TestStopWhileRequestsRun: stop returns without waiting for requests, which then end normally, and
// RequestSlow is not called once stop has returned, even for a request that passes its deadline after.
// In a synctest bubble, the clock moves only when every goroutine waits: the deadline passes after stop,
// while the handler sleeps, however loaded the machine.
func TestStopWhileRequestsRun(t *testing.T) {
	synctest.Test(t, testStopWhileRequestsRun)
}

func testStopWhileRequestsRun(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	var stopped, lateCall, early atomic.Bool
	stop, err := f.Listen(&listener{requestSlow: func(*agent.Request) {
		lateCall.Store(stopped.Load())
		early.Store(!stopped.Load())
	}})
	if err != nil {
		t.Fatal(err)
	}
	const threshold = 20 * time.Millisecond
	started, release := make(chan struct{}), make(chan struct{})
	h := agent.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		time.Sleep(3 * threshold) // outlive the deadline, after stop (the bubble's clock)
	}), agent.WithTracer(rt.Tracer), agent.WithInFlight(f), agent.WithSlowThreshold(threshold))
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(h, "GET", "/long")
	}()
	waitFor(t, started, "the request")
	stop() // the request is in the watchdog's queue
	stopped.Store(true)
	close(release)
	waitFor(t, done, "the request")
	if lateCall.Load() {
		t.Error("RequestSlow called after stop returned")
	}
	if early.Load() {
		t.Error("the request passed its deadline before stop: the test did not test anything")
	}
	if txs := transactions(rt); len(txs) != 1 {
		t.Fatalf("%d transactions", len(txs))
	}
}
