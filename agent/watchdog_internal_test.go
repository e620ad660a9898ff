package agent

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.elastic.co/apm/v2/apmtest"
)

func TestDeadlinesHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Now()
	var q deadlines
	var all []*Request
	for range 500 {
		r := &Request{deadline: base.Add(time.Duration(rng.IntN(1000)) * time.Millisecond), index: -1}
		heap.Push(&q, r)
		all = append(all, r)
	}
	// Remove a third, by the index each request keeps.
	removed := map[*Request]bool{}
	for _, r := range all {
		if rng.IntN(3) == 0 {
			heap.Remove(&q, r.index)
			if r.index != -1 {
				t.Fatalf("removed request keeps index %d", r.index)
			}
			removed[r] = true
		}
	}
	for i, r := range q {
		if r.index != i {
			t.Fatalf("request at %d says %d", i, r.index)
		}
	}
	var popped []time.Time
	for q.Len() > 0 {
		r := heap.Pop(&q).(*Request)
		if removed[r] {
			t.Fatal("popped a removed request")
		}
		popped = append(popped, r.deadline)
	}
	if len(popped) != len(all)-len(removed) {
		t.Fatalf("popped %d, want %d", len(popped), len(all)-len(removed))
	}
	if !slices.IsSortedFunc(popped, func(a, b time.Time) int { return a.Compare(b) }) {
		t.Fatal("not popped in deadline order")
	}
}

// watchdogs counts the watchdog goroutines in the process.
func watchdogs() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "agent.(*watchdog).run")
		}
		buf = make([]byte, 2*len(buf))
	}
}

type nopListener struct{}

func (nopListener) ServeRequest(ctx context.Context, r *Request) {
	r.Serve(ctx)
}
func (nopListener) RequestSlow(*Request) {}

// TestWatchdogGoroutineOnlyWhileListening: no listener, no goroutine and no registry; one goroutine while
// listening, whatever the number of requests; none after stop.
func TestWatchdogGoroutineOnlyWhileListening(t *testing.T) {
	tracer := apmtest.NewRecordingTracer()
	defer tracer.Close()
	f := NewInFlight()
	var block chan struct{}
	started := make(chan struct{}, 10)
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-block
	}), WithTracer(tracer.Tracer), WithInFlight(f), WithSlowThreshold(time.Hour))
	// tenInHandler starts 10 requests and returns once all of them are in the handler, where they wait
	// until release, which waits for them to end.
	tenInHandler := func() (release func()) {
		block = make(chan struct{})
		done := make(chan struct{})
		for range 10 {
			go func() {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				done <- struct{}{}
			}()
		}
		for range 10 {
			<-started
		}
		return func() {
			close(block)
			for range 10 {
				<-done
			}
		}
	}

	release := tenInHandler()
	if n := watchdogs(); n != 0 {
		t.Fatalf("%d watchdog goroutines without a listener", n)
	}
	if f.current.Load() != nil {
		t.Fatal("registry active without a listener")
	}
	release()

	stop, err := f.Listen(nopListener{})
	if err != nil {
		t.Fatal(err)
	}
	release = tenInHandler()
	if n := watchdogs(); n != 1 {
		t.Fatalf("%d watchdog goroutines with a listener and 10 requests, want 1", n)
	}
	wd := f.current.Load()
	wd.mu.Lock()
	queued := wd.queue.Len()
	wd.mu.Unlock()
	if queued != 10 {
		t.Fatalf("%d requests queued, want 10", queued)
	}
	release()
	wd.mu.Lock()
	queued = wd.queue.Len()
	wd.mu.Unlock()
	if queued != 0 {
		t.Fatalf("%d requests still queued after they ended", queued)
	}
	stop()
	if n := watchdogs(); n != 0 {
		t.Fatalf("%d watchdog goroutines after stop", n)
	}
}
