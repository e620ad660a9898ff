package profiling_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotpath-apm/hotpath/profiling"
)

// TestCaptureOptions: a slow request's capture takes a goroutine snapshot when the request crosses its
// threshold, then one at every WithGoroutineInterval tick while it runs (0: the first only), and says
// how many it merged; it has an execution trace when the flight recorder is on, WithFlightRecorder's
// window or not (the last of WithFlightRecorder and WithoutFlightRecorder counts). The interval is
// counted in a synctest bubble, where the clock moves only when every goroutine waits, so the count is
// exact.
func TestCaptureOptions(t *testing.T) {
	window := profiling.WithFlightRecorder(trace.FlightRecorderConfig{MinAge: 2 * time.Second, MaxBytes: 1 << 20})
	for _, tc := range []struct {
		name      string
		opts      []profiling.Option
		wantTrace bool
	}{
		{"interval 0, no flight recorder by default", nil, false},
		{"default window", []profiling.Option{profiling.WithFlightRecorder(trace.FlightRecorderConfig{})}, true},
		{"flight recorder window", []profiling.Option{profiling.WithoutFlightRecorder(), window}, true},
		{"flight recorder off after a window", []profiling.Option{window, profiling.WithoutFlightRecorder()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := captureSlowRequest(t, append(tc.opts, profiling.WithGoroutineInterval(0)), func() {})
			if c.GoroutineSnapshots != 1 || c.Goroutine == nil {
				t.Errorf("%d goroutine snapshots (profile %d bytes), want 1", c.GoroutineSnapshots, len(c.Goroutine))
			}
			if hasTrace := strings.HasPrefix(string(c.Trace), "go 1."); hasTrace != tc.wantTrace {
				t.Errorf("execution trace %v (%d bytes), want %v; errors %q", hasTrace, len(c.Trace), tc.wantTrace, c.Errors)
			}
		})
	}
	t.Run("interval 100ms", func(t *testing.T) {
		const ticks = 5
		holdCPUProfiler(t)
		synctest.Test(t, func(t *testing.T) {
			c := captureSlowRequest(t, []profiling.Option{profiling.WithoutCPURing(), profiling.WithoutFlightRecorder(),
				profiling.WithGoroutineInterval(100 * time.Millisecond)}, func() {
				synctest.Wait() // the capture's ticker is set
				time.Sleep(ticks*100*time.Millisecond + 50*time.Millisecond)
				synctest.Wait() // and every tick taken
			})
			if c.GoroutineSnapshots != 1+ticks || c.Goroutine == nil {
				t.Errorf("%d goroutine snapshots (profile %d bytes), want %d", c.GoroutineSnapshots, len(c.Goroutine), 1+ticks)
			}
		})
	})
}

// holdCPUProfiler keeps the process's CPU profiler busy until the test ends, for tests in a synctest
// bubble: a capture there would otherwise start the runtime's profile reader in the bubble, whose
// blocking reads the bubble cannot see through. The captures go without a CPU part (ErrCPUBusy).
func holdCPUProfiler(t *testing.T) {
	t.Helper()
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pprof.StopCPUProfile)
}

// captureSlowRequest sends a request past its 1 ms slow threshold to a handler traced by the real agent
// and profiled with opts, calls during while the handler is blocked (after the capture's first goroutine
// snapshot), then lets the request end and returns its capture.
func captureSlowRequest(t *testing.T, opts []profiling.Option, during func()) *profiling.Capture {
	t.Helper()
	sc := newSlowCaptures(t, 1, opts...)
	release := make(chan struct{})
	h := sc.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { waitForRelease(release) }), time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/block", nil))
	}()
	waitFor(t, sc.decided, "the capture to start") // its first snapshot is taken
	during()
	close(release)
	<-done
	return waitFor(t, sc.got, "the capture")
}
