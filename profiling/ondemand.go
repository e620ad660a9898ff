package profiling

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"path"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the on-demand handler.
const (
	DefaultOnDemandMaxSeconds = 60
	defaultCPUSeconds         = 30 // as net/http/pprof
	defaultTraceSeconds       = 1  // as net/http/pprof
	maxOnDemandConcurrent     = 4  // requests being served at once; more get 429
)

// onDemand is the on-demand http.Handler (Profiler.Handler).
type onDemand struct {
	p         *Profiler
	tokenHash [sha256.Size]byte
	slots     chan struct{} // capacity maxOnDemandConcurrent

	traceMu    sync.Mutex // held while an execution trace of our own (trace.Start) runs
	traceUntil time.Time  // when it ends; guarded by traceMu's holder, read under traceEndMu
	traceEndMu sync.Mutex
}

// Handler returns the on-demand profiling handler, to mount on an admin listener (never on the
// service's public one, nor on http.DefaultServeMux):
//
//	admin := http.NewServeMux()
//	admin.Handle("/debug/hotpath/", p.Handler(os.Getenv("HOTPATH_PROFILING_TOKEN")))
//	go http.ListenAndServe("127.0.0.1:6060", admin)
//
// It answers GET requests whose path ends with one of:
//
//	cpu        CPU profile (pprof) of the next `seconds` (default 30), served from the profiler's CPU
//	           sampler: concurrent requests, and captures, share it
//	heap       heap profile (pprof); gc=1 runs a garbage collection first
//	goroutine  goroutine profile (pprof, with each goroutine's labels); debug=1 or 2 for text
//	trace      execution trace (go tool trace) of the last `seconds` (default 1): a snapshot of the flight
//	           recorder taken `seconds` from now, or without one a trace of the next `seconds`
//
// Every request must carry "Authorization: Bearer <token>" (compared in constant time): else 401. Other
// methods get 405, other paths 404, a `seconds` that is not a positive integer 400; `seconds` is capped at
// WithOnDemandMaxSeconds (and, for trace with a flight recorder, at its MinAge), and the header
// X-Hotpath-Seconds says the duration served. When what a request needs is held by someone else (the CPU
// profiler by code outside this Profiler; the execution tracer by another trace request when there is
// no flight recorder), the answer is 409 with Retry-After, never a 500. At most 4 requests are served at
// once (429 with Retry-After beyond), and a `seconds` longer than the server's WriteTimeout is refused
// (400), as net/http/pprof does. token must not be empty.
func (p *Profiler) Handler(token string) http.Handler {
	if token == "" {
		panic("profiling: Handler needs a token")
	}
	return &onDemand{p: p, tokenHash: sha256.Sum256([]byte(token)), slots: make(chan struct{}, maxOnDemandConcurrent)}
}

// authorized compares the request's bearer token with the handler's in constant time (both hashed, so
// that the comparison does not depend on the token's length either).
func (e *onDemand) authorized(r *http.Request) bool {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(h[len(prefix):]))
	return subtle.ConstantTimeCompare(got[:], e.tokenHash[:]) == 1
}

// httpError is an error with the status it is answered with.
type httpError struct {
	status     int
	retryAfter int // seconds; 0: no Retry-After
	msg        string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

func (e *onDemand) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if !e.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hotpath-profiling"`)
		writeError(w, errorf(http.StatusUnauthorized, "missing or wrong bearer token"))
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, errorf(http.StatusMethodNotAllowed, "only GET is supported"))
		return
	}
	kind := path.Base(r.URL.Path)
	switch kind {
	case "cpu", "heap", "goroutine", "trace":
	default:
		writeError(w, errorf(http.StatusNotFound, "unknown profile %q: want cpu, heap, goroutine or trace", kind))
		return
	}
	if e.p.closed.Load() {
		writeError(w, errorf(http.StatusServiceUnavailable, "the profiler is shut down"))
		return
	}
	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	default:
		writeError(w, &httpError{status: http.StatusTooManyRequests, retryAfter: 1,
			msg: fmt.Sprintf("%d profiling requests are being served already", maxOnDemandConcurrent)})
		return
	}

	var (
		body     []byte
		seconds  int
		err      error
		filename = kind + ".pprof"
	)
	q := r.URL.Query()
	switch kind {
	case "cpu":
		if seconds, err = e.seconds(r, defaultCPUSeconds, 0); err == nil {
			w.Header().Set("X-Hotpath-Seconds", strconv.Itoa(seconds))
			body, err = e.cpu(r.Context(), time.Duration(seconds)*time.Second)
		}
	case "heap":
		if q.Get("gc") == "1" {
			runtime.GC()
		}
		var buf bytes.Buffer
		err = pprof.Lookup("heap").WriteTo(&buf, 0)
		body = buf.Bytes()
	case "goroutine":
		debug, _ := strconv.Atoi(q.Get("debug"))
		if debug < 0 || debug > 2 {
			err = errorf(http.StatusBadRequest, "debug must be 0, 1 or 2")
			break
		}
		var buf bytes.Buffer
		err = pprof.Lookup("goroutine").WriteTo(&buf, debug)
		body = buf.Bytes()
		if debug > 0 {
			filename = "goroutine.txt"
		}
	case "trace":
		filename = "trace.out"
		limit := 0
		if e.p.fr != nil && e.p.cfg.flight.MinAge > 0 {
			limit = int(e.p.cfg.flight.MinAge / time.Second)
		}
		if seconds, err = e.seconds(r, defaultTraceSeconds, limit); err == nil {
			w.Header().Set("X-Hotpath-Seconds", strconv.Itoa(seconds))
			body, err = e.trace(r.Context(), time.Duration(seconds)*time.Second)
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	if filename == "goroutine.txt" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// seconds parses the request's seconds parameter: def when absent, capped at WithOnDemandMaxSeconds and
// at limit (if > 0), and refused if the server's WriteTimeout would cut the answer.
func (e *onDemand) seconds(r *http.Request, def, limit int) (int, error) {
	n := def
	if s := r.URL.Query().Get("seconds"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			return 0, errorf(http.StatusBadRequest, "seconds must be a positive integer, not %q", s)
		}
		n = v
	}
	n = min(n, e.p.cfg.onDemandMaxSeconds)
	if limit > 0 {
		n = min(n, limit)
	}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 &&
		time.Duration(n)*time.Second >= srv.WriteTimeout {
		return 0, errorf(http.StatusBadRequest, "%d seconds exceeds the server's WriteTimeout (%v)", n, srv.WriteTimeout)
	}
	return n, nil
}

// cpu returns the CPU profile of the next d, from the profiler's sampler: the current chunk is cut now
// and at the end, so that the profile covers the d asked for (within the cuts' gaps).
func (e *onDemand) cpu(ctx context.Context, d time.Duration) ([]byte, error) {
	h, err := e.p.cpu.hold(time.Now())
	if errors.Is(err, ErrCPUBusy) {
		return nil, &httpError{status: http.StatusConflict, retryAfter: int(d / time.Second), msg: err.Error()}
	} else if err != nil {
		return nil, errorf(http.StatusServiceUnavailable, "%v", err)
	}
	defer e.p.cpu.release(h)
	if _, err := e.p.cpu.window(ctx, time.Now(), time.Now()); err != nil && !errors.Is(err, ErrCPUBusy) {
		return nil, err
	}
	from := time.Now()
	if err := e.wait(ctx, d); err != nil {
		return nil, err
	}
	to := time.Now()
	chunks, err := e.p.cpu.window(ctx, from, to)
	if errors.Is(err, ErrCPUBusy) {
		return nil, &httpError{status: http.StatusConflict, retryAfter: int(d / time.Second), msg: err.Error()}
	} else if err != nil {
		return nil, err
	}
	c := &Capture{End: to}
	if err := e.p.assembleCPU(c, chunks, from, "", "", "hotpath on-demand CPU profile"); err != nil {
		return nil, err
	}
	return c.CPU, nil
}

// trace returns an execution trace: the flight recorder's window d from now, or else a trace of the
// next d.
func (e *onDemand) trace(ctx context.Context, d time.Duration) ([]byte, error) {
	if e.p.fr != nil {
		if err := e.wait(ctx, d); err != nil {
			return nil, err
		}
		return e.p.fr.snapshot()
	}
	if !e.traceMu.TryLock() {
		e.traceEndMu.Lock()
		left := time.Until(e.traceUntil)
		e.traceEndMu.Unlock()
		return nil, &httpError{status: http.StatusConflict, retryAfter: max(int((left+time.Second-1)/time.Second), 1),
			msg: "an execution trace is being recorded for another request"}
	}
	defer e.traceMu.Unlock()
	e.traceEndMu.Lock()
	e.traceUntil = time.Now().Add(d)
	e.traceEndMu.Unlock()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		return nil, &httpError{status: http.StatusConflict, retryAfter: int(d / time.Second),
			msg: fmt.Sprintf("the execution tracer is in use outside this Profiler: %v", err)}
	}
	err := e.wait(ctx, d)
	trace.Stop()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// wait waits for d, or for the client to go away, or for the profiler to shut down.
func (e *onDemand) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errorf(http.StatusServiceUnavailable, "request cancelled: %v", ctx.Err())
	case <-e.p.quit:
		return errorf(http.StatusServiceUnavailable, "the profiler is shut down")
	}
}

// writeError answers err: its status for an httpError, else 500.
func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = errorf(http.StatusInternalServerError, "%v", err)
	}
	if he.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(he.retryAfter))
	}
	w.Header().Del("Content-Disposition")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(he.status)
	fmt.Fprintln(w, he.msg)
}
