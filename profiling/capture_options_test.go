package profiling_test

import (
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
)

// TestCaptureOptions: a slow request's capture takes a goroutine snapshot when the request crosses its
// threshold, then one at every WithGoroutineInterval tick while it runs (0: the first only), and says
// how many it merged; it has an execution trace when the flight recorder is on, WithFlightRecorder's
// window or not (the last of WithFlightRecorder and WithoutFlightRecorder counts). The profiler's clock
// is moved by hand, each tick waited for until taken, so the count is exact.
func TestCaptureOptions(t *testing.T) {
	const ticks = 5
	window := profiling.WithFlightRecorder(trace.FlightRecorderConfig{MinAge: 2 * time.Second, MaxBytes: 1 << 20})
	for _, tc := range []struct {
		name      string
		every     time.Duration
		flight    []profiling.Option
		want      int
		wantTrace bool
	}{
		{"interval 0", 0, []profiling.Option{profiling.WithoutFlightRecorder()}, 1, false},
		{"interval 100ms", 100 * time.Millisecond, []profiling.Option{profiling.WithoutFlightRecorder()}, 1 + ticks, false},
		{"flight recorder window", 0, []profiling.Option{profiling.WithoutFlightRecorder(), window}, 1, true},
		{"flight recorder off after a window", 0, []profiling.Option{window, profiling.WithoutFlightRecorder()}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := recordingTracer(t)
			clock := profiling.NewFakeClock()
			f := agent.NewInFlight()
			got := make(collected, 1)
			started := make(chan string, 1)
			newProfiler(t, append(tc.flight, profiling.WithInFlight(f), profiling.WithUploader(got), profiling.WithClock(clock),
				profiling.WithGoroutineInterval(tc.every), profiling.WithSlowHook(func(id string) { started <- id }))...)
			release := make(chan struct{})
			h := agent.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { waitForRelease(release) }),
				agent.WithTracer(rt.Tracer), agent.WithInFlight(f), agent.WithSlowThreshold(time.Millisecond))
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/block", nil))
			}()
			waitFor(t, started, "the capture to start") // its first snapshot is taken
			timers := 1                                 // the capture's deadline
			if tc.every > 0 {
				timers++ // and its ticker
			}
			for range timers {
				waitFor(t, clock.Created(), "the capture's timers")
			}
			for range ticks {
				clock.AdvanceUntilTaken(100 * time.Millisecond)
			}
			close(release)
			<-done
			c := waitFor(t, got, "the capture")
			if c.GoroutineSnapshots != tc.want || c.Goroutine == nil {
				t.Errorf("%d goroutine snapshots (profile %d bytes), want %d", c.GoroutineSnapshots, len(c.Goroutine), tc.want)
			}
			if hasTrace := strings.HasPrefix(string(c.Trace), "go 1."); hasTrace != tc.wantTrace {
				t.Errorf("execution trace %v (%d bytes), want %v; errors %q", hasTrace, len(c.Trace), tc.wantTrace, c.Errors)
			}
		})
	}
}
