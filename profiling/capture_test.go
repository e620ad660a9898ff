package profiling_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.elastic.co/apm/v2/apmtest"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/profiling"
	"github.com/hotpath-apm/hotpath/profiling/profilingtest"
)

// collected is an Uploader that hands captures to the test.
type collected chan *profiling.Capture

func (c collected) Upload(ctx context.Context, cp *profiling.Capture) error {
	select {
	case c <- cp:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slowCaptures is a profiler on an in-flight registry, whose captures are collected (got) and whose
// decisions on slow requests are reported (decided: the capture's id, "" for a refusal), with the
// services it profiles traced by a recording tracer.
type slowCaptures struct {
	*profiling.Profiler
	rt      *apmtest.RecordingTracer
	f       *agent.InFlight
	got     collected
	decided chan string
}

// newSlowCaptures starts a profiler with opts, room for n captures and decisions.
func newSlowCaptures(t *testing.T, n int, opts ...profiling.Option) *slowCaptures {
	t.Helper()
	sc := &slowCaptures{rt: recordingTracer(t), f: agent.NewInFlight(), got: make(collected, n), decided: make(chan string, n)}
	sc.Profiler = newProfiler(t, append(opts, profiling.WithInFlight(sc.f), profiling.WithUploader(sc.got),
		profiling.WithSlowHook(func(id string) { sc.decided <- id }))...)
	return sc
}

// wrap traces h with the agent on the profiler's registry, slow from threshold.
func (sc *slowCaptures) wrap(h http.Handler, threshold time.Duration) http.Handler {
	return agent.Wrap(h, agent.WithTracer(sc.rt.Tracer), agent.WithInFlight(sc.f), agent.WithSlowThreshold(threshold))
}

// waitFor is agenttest.Receive: what ch delivers, or the test fails.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	return agenttest.Receive(t, ch, what)
}

// burnAndBlock is the service the capture tests profile: GET /burn burns the CPU for 300 ms in
// profilingtest.Burn; a request to block waits in waitForRelease until release is closed.
func burnAndBlock(block string, release <-chan struct{}) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /burn", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, profilingtest.Burn(300*time.Millisecond))
	})
	mux.HandleFunc(block, func(w http.ResponseWriter, r *http.Request) {
		waitForRelease(release)
	})
	return mux
}

// waitForRelease blocks on ch: the goroutine profile shows it under runtime.chanrecv1.
//
//go:noinline
func waitForRelease(ch <-chan struct{}) {
	<-ch
}

// parseProfile parses a capture's profile part.
func parseProfile(t *testing.T, data []byte) *profile.Profile {
	t.Helper()
	if data == nil {
		t.Fatal("no profile")
	}
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// topFrame returns the function that is most often the top frame of the samples (by their first
// value), leaving out the runtime's frames above it: a sample taken while the goroutine was in the
// runtime on its behalf (asyncPreempt when it is preempted for a stop-the-world, the race detector's
// calls, a stack growth) is the goroutine's code as much as one taken in it.
func topFrame(p *profile.Profile) (string, int64) {
	flat := map[string]int64{}
	for _, s := range p.Sample {
		for _, f := range stackFuncs(s) {
			if !strings.HasPrefix(f, "runtime.") {
				flat[f] += s.Value[0]
				break
			}
		}
	}
	var top string
	var n int64
	for f, v := range flat {
		if v > n {
			top, n = f, v
		}
	}
	return top, n
}

// checkBlockedInWaitForRelease checks that the heaviest sample of the goroutine profile g (by its first
// value) is blocked in waitForRelease's channel receive: runtime.chanrecv1 under waitForRelease.
func checkBlockedInWaitForRelease(t *testing.T, what string, g *profile.Profile) {
	t.Helper()
	var best *profile.Sample
	for _, s := range g.Sample {
		if best == nil || s.Value[0] > best.Value[0] {
			best = s
		}
	}
	if best == nil {
		t.Errorf("%s: no goroutine samples", what)
		return
	}
	fs := stackFuncs(best)
	i := 0
	for i < len(fs) && strings.HasPrefix(fs[i], "runtime.") {
		i++
	}
	if i == 0 || i == len(fs) || fs[i-1] != "runtime.chanrecv1" || !strings.HasSuffix(fs[i], ".waitForRelease") {
		t.Errorf("%s stack %q, want runtime.chanrecv1 under waitForRelease", what, fs)
	}
}

// stackFuncs lists a sample's functions, leaf first (inlined frames included).
func stackFuncs(s *profile.Sample) []string {
	var fs []string
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			fs = append(fs, line.Function.Name)
		}
	}
	return fs
}

// TestSlowRequestCaptures is the profiler's purpose: a request burning CPU in a known function and one
// blocked on a channel both cross their threshold while running; each transaction gets a profile.id, and
// the capture with that id has, for the first, a CPU profile whose top function is profilingtest.Burn (from the
// request's start: the ring reaches back), and for the second a goroutine profile of that request only
// whose top frames are the channel receive in waitForRelease.
func TestSlowRequestCaptures(t *testing.T) {
	sc := newSlowCaptures(t, 4, profiling.WithCPURing(250*time.Millisecond, 2*time.Second),
		profiling.WithFlightRecorder(trace.FlightRecorderConfig{}))
	release := make(chan struct{})
	h := sc.wrap(burnAndBlock("GET /block", release), 50*time.Millisecond)

	// The CPU-bound request.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/burn", nil))
	burnID := waitFor(t, sc.decided, "the /burn capture to start")
	burn := waitFor(t, sc.got, "the /burn capture")

	// The blocked request: released once its capture has its first goroutine snapshot.
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/block", nil))
	}()
	blockID := waitFor(t, sc.decided, "the /block capture to start")
	close(release)
	<-done
	block := waitFor(t, sc.got, "the /block capture")

	sc.rt.Flush(nil)
	txs := sc.rt.Payloads().Transactions
	if len(txs) != 2 {
		t.Fatalf("%d transactions", len(txs))
	}
	for i, want := range []struct {
		c  *profiling.Capture
		id string
	}{{burn, burnID}, {block, blockID}} {
		tx := txs[i]
		if pid, _ := txLabel(tx, "profile_id"); pid != want.id || want.c.ID != want.id {
			t.Errorf("%s: transaction profile.id %v, capture %s, started %s", tx.Name, pid, want.c.ID, want.id)
		}
		r := want.c.Request
		if r == nil || r.TransactionID != hexOf(tx.ID[:]) || r.TraceID != hexOf(tx.TraceID[:]) || !r.Ended {
			t.Errorf("%s: capture request %+v", tx.Name, r)
		}
		if want.c.Trace == nil || !strings.HasPrefix(string(want.c.Trace), "go 1.") {
			t.Errorf("%s: no execution trace (errors %q)", tx.Name, want.c.Errors)
		}
	}

	// CPU: profilingtest.Burn on top, samples from the request's start.
	cpu := parseProfile(t, burn.CPU)
	top, n := topFrame(cpu)
	if !strings.HasSuffix(top, "/profilingtest.Burn") {
		t.Errorf("CPU top function %s (%d samples), want profilingtest.Burn; errors %q", top, n, burn.Errors)
	}
	if burn.CPUSamples < 10 || !burn.CPUStart.Equal(burn.Request.Start) {
		t.Errorf("CPU: %d samples from %v, request started %v (errors %q); %+v", burn.CPUSamples,
			burn.CPUStart, burn.Request.Start, burn.Errors, sc.Stats())
	}
	for _, s := range cpu.Sample {
		if s.Label["transaction.id"][0] != burn.Request.TransactionID {
			t.Fatalf("CPU sample of another request: %v", s.Label)
		}
	}

	// Goroutines: the blocked request's goroutine, in waitForRelease's channel receive.
	g := parseProfile(t, block.Goroutine)
	if len(g.Sample) == 0 {
		t.Fatalf("empty goroutine profile; errors %q", block.Errors)
	}
	for _, s := range g.Sample {
		if s.Label["transaction.id"][0] != block.Request.TransactionID {
			t.Fatalf("goroutine of another request: %v", s.Label)
		}
	}
	checkBlockedInWaitForRelease(t, "blocked goroutine's", g)
}
