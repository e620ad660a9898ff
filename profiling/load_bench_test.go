//go:build unix

package profiling_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.elastic.co/apm/v2/apmtest"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
)

// processCPU is the CPU time (user + system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadMode is one way of running the service under load.
type loadMode struct {
	name string
	opts []profiling.Option // nil: no profiler at all
	slow time.Duration      // the slow threshold (every request is slow when it is below the handler's time)
}

// BenchmarkCPUBoundLoad is a CPU-bound HTTP service (each request hashes 256 KiB) under load over
// loopback (4 client goroutines, keep-alive), with the profiler:
//
//	off        agent.Wrap only
//	labels     + the profiler with its CPU ring and flight recorder off: labels only
//	ring       + the CPU ring (continuous profiling in 5 s chunks)
//	armed      + the CPU ring and the flight recorder: the default, no request slow
//	capturing  armed, every request slow, limits open: two captures at a time, back to back
//
// The modes take turns, one batch of requests each per round (b.N rounds), so that the machine's noise
// falls on all of them. Each reports the process's CPU time per request (getrusage: user + system,
// every thread, the load generator's included, which is the same in every mode) and its wall time per
// request; the ratios of CPU time to "off" are reported as <mode>/off. CPU time is the measure: on a
// shared machine, wall time says more about the neighbours than about the code. Run with -benchtime=Nx
// for N rounds.
func BenchmarkCPUBoundLoad(b *testing.B) {
	const (
		batch   = 1000
		clients = 4
	)
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	payload := make([]byte, 256<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hash/{id}", func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256(payload)
		w.Write(sum[:4])
	})
	limitsOpen := []profiling.Option{profiling.WithRateLimit(1_000_000, time.Second), profiling.WithRouteCooldown(0),
		profiling.WithMaxCaptureDuration(time.Second)}
	modes := []loadMode{
		{name: "off"},
		{name: "labels", opts: []profiling.Option{profiling.WithoutCPURing(), profiling.WithoutFlightRecorder()}, slow: time.Hour},
		{name: "ring", opts: []profiling.Option{profiling.WithoutFlightRecorder()}, slow: time.Hour},
		{name: "armed", opts: []profiling.Option{}, slow: time.Hour},
		{name: "capturing", opts: limitsOpen, slow: time.Nanosecond},
	}
	wall := make([]time.Duration, len(modes))
	cpu := make([]time.Duration, len(modes))
	captures := make([]uint64, len(modes))

	runBatch := func(m loadMode) (time.Duration, time.Duration, uint64) {
		var h http.Handler = mux
		var p *profiling.Profiler
		if m.opts != nil {
			f := agent.NewInFlight()
			var err error
			p, err = profiling.New(append(m.opts, profiling.WithInFlight(f), profiling.WithUploader(discard{}))...)
			if err != nil {
				b.Fatal(err)
			}
			h = agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(f), agent.WithSlowThreshold(m.slow))
		} else {
			h = agent.Wrap(mux, agent.WithTracer(tracer))
		}
		srv := httptest.NewServer(h)
		client := srv.Client()
		client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
		get := func(i int) {
			resp, err := client.Get(fmt.Sprintf("%s/hash/%d", srv.URL, i))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		for i := range clients { // warm the connections
			get(i)
		}
		start, startCPU := time.Now(), processCPU()
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for i := c; i < batch; i += clients {
					get(i)
				}
			})
		}
		wg.Wait()
		d, dCPU := time.Since(start), processCPU()-startCPU
		srv.Close()
		var n uint64
		if p != nil {
			n = p.Stats().Captures
			p.Close()
		}
		return d, dCPU, n
	}

	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		for i := range modes {
			j := (i + round) % len(modes) // rotate the order, so no mode always follows the same one
			d, dCPU, n := runBatch(modes[j])
			wall[j] += d
			cpu[j] += dCPU
			captures[j] += n
		}
	}
	b.StopTimer()
	perReq := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N*batch) }
	for i, m := range modes {
		b.ReportMetric(perReq(cpu[i]), m.name+"-cpu-ns/req")
		b.ReportMetric(perReq(wall[i]), m.name+"-wall-ns/req")
		if i > 0 {
			b.ReportMetric(perReq(cpu[i])/perReq(cpu[0]), m.name+"/off")
		}
	}
	b.ReportMetric(float64(captures[len(modes)-1])/float64(b.N), "captures/round")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCPURingGap measures what the CPU ring loses between two chunks: the time the runtime's CPU
// profiler is off while pprof.StopCPUProfile writes the finished chunk (Stats.CPUGap), with every P
// busy (the chunk holds as many samples as it can), over b.N chunks of DefaultCPUChunk. It reports the
// gap per chunk and the share of the samples it loses.
func BenchmarkCPURingGap(b *testing.B) {
	p, err := profiling.New(profiling.WithoutFlightRecorder(), profiling.WithUploader(discard{}))
	if err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for {
				select {
				case <-stop:
					return
				default:
					sha256.Sum256(buf)
				}
			}
		})
	}
	b.ResetTimer()
	time.Sleep(time.Duration(b.N)*profiling.DefaultCPUChunk + profiling.DefaultCPUChunk/2) // the measurement is the waiting
	st := p.Stats()
	b.StopTimer()
	close(stop)
	wg.Wait()
	p.Close()
	if st.CPUChunks == 0 {
		b.Fatal("no chunk")
	}
	gap := float64(st.CPUGap.Microseconds()) / float64(st.CPUChunks)
	b.ReportMetric(gap, "gap-µs/chunk")
	b.ReportMetric(float64(st.CPUMaxGap.Microseconds()), "max-gap-µs")
	b.ReportMetric(100*gap/float64(profiling.DefaultCPUChunk.Microseconds()), "%lost")
	b.ReportMetric(0, "ns/op")
}
