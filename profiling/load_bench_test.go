//go:build unix

package profiling_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/trace"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
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

// The service of the load benchmarks: each request hashes 256 KiB; loadClients keep-alive clients.
const (
	loadBatch   = 1000
	loadClients = 4
)

// loadModes are the ways of running the service under load, in the order BenchmarkCPUBoundLoad reports
// them: "off" first, the reference of the ratios.
func loadModes() []loadMode {
	flight := profiling.WithFlightRecorder(trace.FlightRecorderConfig{})
	limitsOpen := []profiling.Option{profiling.WithRateLimit(1_000_000, time.Second), profiling.WithRouteCooldown(0),
		profiling.WithMaxCaptureDuration(time.Second)}
	return []loadMode{
		{name: "off"},
		{name: "labels", opts: []profiling.Option{profiling.WithoutCPURing(), profiling.WithoutFlightRecorder()}, slow: time.Hour},
		{name: "armed", opts: []profiling.Option{}, slow: time.Hour},
		{name: "flight", opts: []profiling.Option{flight}, slow: time.Hour},
		{name: "capturing", opts: limitsOpen, slow: time.Nanosecond},
	}
}

// loadService is the CPU-bound service of the load benchmarks in one mode, served on loopback.
type loadService struct {
	srv    *httptest.Server
	client *http.Client
	p      *profiling.Profiler // nil in mode off
}

func startLoadService(b *testing.B, tracer *apm.Tracer, m loadMode) *loadService {
	payload := make([]byte, 256<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hash/{id}", func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256(payload)
		w.Write(sum[:4])
	})
	s := &loadService{}
	var h http.Handler
	if m.opts != nil {
		f := agent.NewInFlight()
		var err error
		s.p, err = profiling.New(append(m.opts, profiling.WithInFlight(f), profiling.WithUploader(discard{}))...)
		if err != nil {
			b.Fatal(err)
		}
		h = agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(f), agent.WithSlowThreshold(m.slow))
	} else {
		h = agent.Wrap(mux, agent.WithTracer(tracer))
	}
	s.srv = httptest.NewServer(h)
	s.client = s.srv.Client()
	s.client.Transport.(*http.Transport).MaxIdleConnsPerHost = loadClients
	for i := range loadClients { // warm the connections
		s.get(b, i)
	}
	return s
}

func (s *loadService) get(b *testing.B, i int) {
	resp, err := s.client.Get(fmt.Sprintf("%s/hash/%d", s.srv.URL, i))
	if err != nil {
		b.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// run serves n requests from loadClients clients and returns the wall and CPU time it took.
func (s *loadService) run(b *testing.B, n int) (wall, cpu time.Duration) {
	start, startCPU := time.Now(), processCPU()
	var wg sync.WaitGroup
	for c := range loadClients {
		wg.Go(func() {
			for i := c; i < n; i += loadClients {
				s.get(b, i)
			}
		})
	}
	wg.Wait()
	return time.Since(start), processCPU() - startCPU
}

// close stops the service and its profiler, and returns the profiler's captures.
func (s *loadService) close() uint64 {
	s.srv.Close()
	if s.p == nil {
		return 0
	}
	n := s.p.Stats().Captures
	s.p.Close()
	return n
}

// BenchmarkCPUBoundLoad is a CPU-bound HTTP service (each request hashes 256 KiB) under load over
// loopback (4 client goroutines, keep-alive), with the profiler:
//
//	off        agent.Wrap only
//	labels     + the profiler with its CPU ring off: labels only
//	armed      + the CPU ring (continuous profiling in 5 s chunks): the default, no request slow
//	flight     armed + the flight recorder (WithFlightRecorder), no request slow
//	capturing  armed, every request slow, limits open: two captures at a time, back to back
//
// The modes take turns, one batch of requests each per round (b.N rounds), so that the machine's noise
// falls on all of them. Each reports the process's CPU time per request (getrusage: user + system,
// every thread, the load generator's included, which is the same in every mode) and its wall time per
// request; the ratios of CPU time to "off" are reported as <mode>/off. CPU time is the measure: on a
// shared machine, wall time says more about the neighbours than about the code. Run with -benchtime=Nx
// for N rounds.
func BenchmarkCPUBoundLoad(b *testing.B) {
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	modes := loadModes()
	wall := make([]time.Duration, len(modes))
	cpu := make([]time.Duration, len(modes))
	captures := make([]uint64, len(modes))
	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		for i := range modes {
			j := (i + round) % len(modes) // rotate the order, so no mode always follows the same one
			s := startLoadService(b, tracer, modes[j])
			d, dCPU := s.run(b, loadBatch)
			wall[j] += d
			cpu[j] += dCPU
			captures[j] += s.close()
		}
	}
	b.StopTimer()
	perReq := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N*loadBatch) }
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

// BenchmarkCPUBoundLoadMode is BenchmarkCPUBoundLoad's service in one mode (mode=off, labels, armed,
// flight), serving b.N requests with one profiler: for a CPU profile of one mode (perf record), or its
// instructions (callgrind), where BenchmarkCPUBoundLoad compares the modes' CPU times.
func BenchmarkCPUBoundLoadMode(b *testing.B) {
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	for _, m := range loadModes()[:4] {
		b.Run("mode="+m.name, func(b *testing.B) {
			s := startLoadService(b, tracer, m)
			defer s.close()
			b.ResetTimer()
			_, cpu := s.run(b, b.N)
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/req")
		})
	}
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
