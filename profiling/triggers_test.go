package profiling_test

import (
	"context"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotpath-apm/hotpath/profiling"
)

// blockingUploader blocks every upload until the profiler is shut down.
type blockingUploader struct{ started chan struct{} }

func (b blockingUploader) Upload(ctx context.Context, c *profiling.Capture) error {
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestCheckerNeverBlocks: with a rule that fires at every check and an uploader stuck on its first
// capture, the checker still reads the resources at every tick (each tick waits for the reading, so a
// blocked checker fails the test) and starts a capture at each; the captures that cannot be queued for
// upload are dropped and counted, and after Close every capture is accounted for. It runs in a synctest
// bubble: time.Sleep moves the clock past the next check, and the checker's reading is waited for.
func TestCheckerNeverBlocks(t *testing.T) {
	holdCPUProfiler(t)
	synctest.Test(t, testCheckerNeverBlocks)
}

func testCheckerNeverBlocks(t *testing.T) {
	const ticks = 12
	values := make(chan [4]float64, 1)
	reads := make(chan struct{}, 1)
	values <- [4]float64{50, 1, 1, 0} // New's first reading
	up := blockingUploader{started: make(chan struct{}, 1)}
	p := newProfiler(t, profiling.WithUploader(up),
		profiling.WithoutCPURing(), profiling.WithoutFlightRecorder(),
		profiling.WithRateLimit(1000, time.Second), profiling.WithMaxConcurrentCaptures(1000),
		profiling.WithTrigger(profiling.ResourceCPU, profiling.Rule{Abs: 80, Cooldown: time.Nanosecond}),
		profiling.WithTriggerInterval(time.Second),
		profiling.WithResourceReader(func() [4]float64 {
			v := <-values
			reads <- struct{}{}
			return v
		}))
	<-reads
	for i := range ticks {
		values <- [4]float64{90, 1, 1, 0}
		time.Sleep(time.Second)
		waitFor(t, reads, "the checker to read the resources")
		if i == 2 {
			// The capture of check 0 waited one interval, to the time of check 1, and was uploaded
			// then.
			waitFor(t, up.started, "the first upload")
		}
	}
	p.Close()
	st := p.Stats()
	if st.Triggers != ticks || st.Captures != ticks || st.Uploaded != 0 || st.UploadFailures != 1 ||
		st.Dropped != ticks-1 {
		t.Errorf("after Close: %+v", st)
	}
}

// parkGoroutines starts n goroutines blocked in parkedInTrigger until release is closed, and returns
// once they are all running it.
func parkGoroutines(n int, release <-chan struct{}) {
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		go parkedInTrigger(&started, release)
	}
	started.Wait()
}

//go:noinline
func parkedInTrigger(started *sync.WaitGroup, release <-chan struct{}) {
	started.Done()
	<-release
}

// TestGoroutineTrigger reads the real runtime, on the real clock: a goroutine pile-up past the absolute
// rule is captured at the next check, and the goroutine profile shows where the goroutines are (and the
// CPU, heap and trace parts exist). The rule's cooldown (a minute) keeps it to one capture.
func TestGoroutineTrigger(t *testing.T) {
	const pile = 500
	got := make(collected, 1)
	release := make(chan struct{})
	defer close(release)
	threshold := float64(runtime.NumGoroutine() + pile/2)
	parkGoroutines(pile, release)
	p := newProfiler(t, profiling.WithUploader(got), profiling.WithFlightRecorder(trace.FlightRecorderConfig{}),
		profiling.WithTrigger(profiling.ResourceGoroutines, profiling.Rule{Abs: threshold}),
		profiling.WithTriggerInterval(250*time.Millisecond))
	c := waitFor(t, got, "the capture")
	if c.Trigger != profiling.TriggerGoroutines || c.Resource == nil || c.Resource.Rule != "abs" ||
		c.Resource.Value < threshold || c.Request != nil {
		t.Fatalf("capture %+v, event %+v", c, c.Resource)
	}
	g := parseProfile(t, c.Goroutine)
	var parked int64
	for _, s := range g.Sample {
		for _, f := range stackFuncs(s) {
			if strings.HasSuffix(f, ".parkedInTrigger") {
				parked += s.Value[0]
				break
			}
		}
	}
	if parked != pile {
		t.Errorf("%d goroutines in parkedInTrigger, want %d", parked, pile)
	}
	if c.CPU == nil || c.Heap == nil || c.Trace == nil {
		t.Errorf("missing parts: cpu %v heap %v trace %v; errors %q", c.CPU != nil, c.Heap != nil, c.Trace != nil, c.Errors)
	}
	parseProfile(t, c.Heap)
	if p.Stats().Triggers != 1 {
		t.Errorf("stats %+v", p.Stats())
	}
}
