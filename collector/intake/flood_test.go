package intake

import (
	"bytes"
	"context"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// concurrencyProbe is a BatchProcessor that records how many batches it held at once, and how many
// events it took.
type concurrencyProbe struct {
	now, max atomic.Int64
	events   atomic.Int64
	delay    time.Duration // how long each batch takes, as a store's commit would
}

func (p *concurrencyProbe) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	n := p.now.Add(1)
	for {
		m := p.max.Load()
		if n <= m || p.max.CompareAndSwap(m, n) {
			break
		}
	}
	defer p.now.Add(-1)
	time.Sleep(p.delay)
	p.events.Add(int64(len(*b)))
	return nil
}

// TestFloodBoundedMemory sends many concurrent streams of large events over real HTTP and checks that
// intake's memory stays bounded by MaxConcurrentStreams, not by the number of clients: the streams
// past the cap wait, then are refused with 503, and their bodies are never read.
func TestFloodBoundedMemory(t *testing.T) {
	const (
		clients   = 64
		streams   = 2
		batch     = 25
		eventSize = 64 << 10
		events    = 40 // per request: 2.5 MiB decoded
	)
	probe := &concurrencyProbe{delay: time.Millisecond}
	api, _, reg := newTestAPI(t, Config{
		Processor: probe, MaxConcurrentStreams: streams, MaxStreamsPerClient: streams, StreamWait: 20 * time.Millisecond, BatchSize: batch,
	})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()

	s := newStream("flood")
	for range events {
		s.sizedTransaction(eventSize)
	}
	body := gzipped(t, s.bytes()) // padding compresses well: one small shared body

	growth := sampleHeap(2 * time.Millisecond)

	var wg sync.WaitGroup
	var ok, refused, acceptedSum atomic.Int64
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, res := postHTTP(t, srv, "/intake/v2/events?verbose", bytes.NewReader(body), map[string]string{"Content-Encoding": "gzip"})
			acceptedSum.Add(int64(res.Accepted))
			switch code {
			case 0:
			case 202:
				ok.Add(1)
			case 503:
				refused.Add(1)
			default:
				t.Errorf("status %d: %+v", code, res)
			}
		}()
	}
	wg.Wait()
	grown := growth()

	if probe.max.Load() > streams {
		t.Errorf("%d batches in the processor at once, cap is %d streams", probe.max.Load(), streams)
	}
	if ok.Load() == 0 || refused.Load() == 0 {
		t.Errorf("%d accepted, %d refused: want both under a flood", ok.Load(), refused.Load())
	}
	if acceptedSum.Load() != probe.events.Load() || acceptedSum.Load() != ok.Load()*events {
		t.Errorf("answered accepted %d, processed %d, %d complete streams", acceptedSum.Load(), probe.events.Load(), ok.Load())
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=stream_limit"); got != float64(refused.Load()) {
		t.Errorf("rejected{stream_limit} %v, refused %d", got, refused.Load())
	}
	// Each active stream holds about one batch of decoded events (1.6 MiB here) plus its buffers; the
	// bound leaves room for GC lag (GOGC=100 lets the heap reach twice the live data) and the test's
	// own clients. Without the cap, 64 streams would hold 100 MiB of batches.
	const bound = 48 << 20
	t.Logf("heap in use grew by %d KiB at peak (bound %d KiB); %d streams accepted, %d refused",
		grown>>10, bound>>10, ok.Load(), refused.Load())
	if grown > bound {
		t.Errorf("heap grew by %d MiB under the flood, bound %d MiB", grown>>20, bound>>20)
	}
}

// TestFloodMemoryBudget: with stream slots for every client and batches of large events, the memory
// budget is what bounds intake. The same flood runs with a small budget and with one too large to
// matter: with the budget, streams that would take the decoded bytes held past it are refused with 503,
// the heap peaks far lower, and the budget is all given back afterwards.
func TestFloodMemoryBudget(t *testing.T) {
	// Collect garbage early, so that the heap's peak follows what is live rather than GC pacing.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	bounded := floodWithBudget(t, 4<<20)
	unbounded := floodWithBudget(t, 1<<40)
	t.Logf("heap growth at peak: %d MiB with a 4 MiB budget (%d streams refused), %d MiB without (%d refused)",
		bounded.growth>>20, bounded.refused, unbounded.growth>>20, unbounded.refused)
	if bounded.refused == 0 || unbounded.refused != 0 {
		t.Errorf("refused %d with the budget, %d without: want some, none", bounded.refused, unbounded.refused)
	}
	if bounded.growth > unbounded.growth/2 {
		t.Errorf("heap grew by %d MiB with the budget, %d MiB without: want less than half", bounded.growth>>20, unbounded.growth>>20)
	}
}

type floodResult struct {
	growth            int64 // of HeapInuse at its peak, bytes
	accepted, refused int64
}

// floodWithBudget sends 32 concurrent streams of one 3.2 MiB batch each (100 events of 32 KiB) to an API
// with the given memory budget and a slot per stream.
func floodWithBudget(t *testing.T, budget int64) floodResult {
	const (
		clients   = 32
		batch     = 100
		eventSize = 32 << 10
	)
	probe := &concurrencyProbe{delay: 5 * time.Millisecond}
	api, _, reg := newTestAPI(t, Config{
		Processor: probe, MaxConcurrentStreams: clients, MaxStreamsPerClient: clients, BatchSize: batch, MemoryBudget: budget, MaxEventSize: 64 << 10,
	})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	s := newStream("flood")
	for range batch {
		s.sizedTransaction(eventSize)
	}
	body := gzipped(t, s.bytes())

	growth := sampleHeap(time.Millisecond)
	var wg sync.WaitGroup
	var res floodResult
	var ok, refused, acceptedSum atomic.Int64
	start := make(chan struct{})
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, sr := postHTTP(t, srv, "/intake/v2/events?verbose", bytes.NewReader(body), nil)
			acceptedSum.Add(int64(sr.Accepted))
			switch {
			case code == 0:
			case code == 202:
				ok.Add(1)
			case code == 503 && sr.Errors[len(sr.Errors)-1].Message == errMemoryBudget.Error():
				refused.Add(1)
			default:
				t.Errorf("status %d: %+v", code, sr)
			}
		}()
	}
	close(start)
	wg.Wait()
	res.growth = growth()

	if acceptedSum.Load() != probe.events.Load() {
		t.Errorf("budget %d: answered accepted %d, processed %d", budget, acceptedSum.Load(), probe.events.Load())
	}
	if got := metric(t, reg, "hotpath_intake_decoded_bytes_in_flight"); got != 0 {
		t.Errorf("budget %d: %v bytes still counted after every stream ended", budget, got)
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=memory_budget"); got != float64(refused.Load()) {
		t.Errorf("budget %d: rejected{memory_budget} %v, refused %d", budget, got, refused.Load())
	}
	res.accepted, res.refused = ok.Load(), refused.Load()
	return res
}

// sampleHeap collects garbage, then samples the heap in use every interval on a goroutine of its own
// until the function it returns is called; that returns how far the heap grew at its peak, in bytes.
func sampleHeap(interval time.Duration) (growth func() int64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-sampled
		return int64(peak.Load()) - int64(before.HeapInuse)
	}
}
