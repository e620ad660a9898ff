package profiling_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/profiling"
)

// TestBurstOfSlowRequests: 1000 requests that are all slow at once start as many captures as the
// concurrency cap allows (2), not 1000; every other one is refused and counted, and the requests all
// complete.
func TestBurstOfSlowRequests(t *testing.T) {
	const n = 1000
	sc := newSlowCaptures(t, n, profiling.WithRouteCooldown(0), profiling.WithoutFlightRecorder())
	release := make(chan struct{})
	h := sc.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}), time.Millisecond)

	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/search", nil))
			if w.Code != 200 {
				t.Errorf("status %d", w.Code)
			}
		})
	}
	started := 0
	for range n {
		if waitFor(t, sc.decided, "RequestSlow") != "" {
			started++
		}
	}
	close(release)
	wg.Wait()
	if started != profiling.DefaultMaxConcurrentCaptures {
		t.Errorf("%d captures started, want %d", started, profiling.DefaultMaxConcurrentCaptures)
	}
	for range started {
		waitFor(t, sc.got, "a capture")
	}
	st := sc.Stats()
	if st.Captures != uint64(started) || st.SkippedConcurrency != uint64(n-started) ||
		st.SkippedRateLimit != 0 || st.SkippedCooldown != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestRouteCooldown: a route that keeps being slow is captured once per cooldown.
func TestRouteCooldown(t *testing.T) {
	sc := newSlowCaptures(t, 10, profiling.WithoutFlightRecorder(), profiling.WithoutCPURing())
	h := sc.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		waitFor(t, sc.decided, "RequestSlow") // the handler returns once the profiler has decided
	}), time.Nanosecond)
	for range 5 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/search", nil))
	}
	waitFor(t, sc.got, "the capture")
	if st := sc.Stats(); st.Captures != 1 || st.SkippedCooldown != 4 {
		t.Errorf("stats %+v", st)
	}
}
