// Command profiling is a small service showing the profiler: GET /work burns CPU in a known function,
// GET /wait waits on a slow "backend", GET /fast answers at once. Requests slower than -slow are
// captured while they run, and each capture is uploaded to the collector (ELASTIC_APM_SERVER_URL, as the
// Elastic agent) or, with -dir, written there as files that go tool pprof and go tool trace open. The
// on-demand handler listens on -admin (loopback) when HOTPATH_PROFILING_TOKEN is set:
//
//	go run ./examples/profiling -dir /tmp/captures &
//	curl localhost:8080/work; curl localhost:8080/wait
//	go tool pprof -top /tmp/captures/*-cpu.pprof
//	curl -H "Authorization: Bearer $HOTPATH_PROFILING_TOKEN" -o cpu.pprof 'localhost:6060/debug/hotpath/cpu?seconds=5'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/trace"
	"time"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/internal/wait"
	"github.com/hotpath-apm/hotpath/profiling"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the service's address")
	admin := flag.String("admin", "127.0.0.1:6060", "the on-demand handler's address (needs HOTPATH_PROFILING_TOKEN)")
	dir := flag.String("dir", "", "write captures to this directory instead of uploading them")
	slow := flag.Duration("slow", 200*time.Millisecond, "slow-request threshold")
	flag.Parse()
	if err := run(*addr, *admin, *dir, *slow); err != nil {
		log.Fatal(err)
	}
}

func run(addr, adminAddr, dir string, slow time.Duration) error {
	inflight := agent.NewInFlight()
	// The flight recorder is opt-in (execution tracing cost a CPU-bound service 3.4 % of its CPU):
	// this example shows captures with their execution trace.
	opts := []profiling.Option{profiling.WithInFlight(inflight), profiling.WithFlightRecorder(trace.FlightRecorderConfig{})}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		opts = append(opts, profiling.WithUploader(dirUploader(dir)))
	}
	p, err := profiling.New(opts...)
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Shutdown(ctx)
	}()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if token := os.Getenv("HOTPATH_PROFILING_TOKEN"); token != "" {
		mux := http.NewServeMux()
		mux.Handle("/debug/hotpath/", p.Handler(token))
		srv := &http.Server{Addr: adminAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.ListenAndServe()
		defer srv.Close()
		log.Printf("on-demand handler on http://%s/debug/hotpath/{cpu,heap,goroutine,trace}", adminAddr)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, work(500*time.Millisecond))
	})
	mux.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
		if err := backend(r.Context(), time.Second); err != nil {
			http.Error(w, err.Error(), http.StatusGatewayTimeout)
			return
		}
		fmt.Fprintln(w, "waited")
	})
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "fast") })
	srv := &http.Server{Addr: addr, Handler: agent.Wrap(mux, agent.WithInFlight(inflight), agent.WithSlowThreshold(slow)),
		ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Printf("service on http://%s: /work, /wait, /fast", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// work burns CPU for d: its capture's CPU profile has it on top.
func work(d time.Duration) uint64 {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1 << 14 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}

// backend waits for d, as a call to a slow dependency: its capture's goroutine profile has it on top.
func backend(ctx context.Context, d time.Duration) error { return wait.For(ctx, d) }

// dirUploader writes each capture's parts to files named by the capture's ID.
type dirUploader string

func (d dirUploader) Upload(ctx context.Context, c *profiling.Capture) error {
	for name, data := range map[string][]byte{"cpu.pprof": c.CPU, "goroutine.pprof": c.Goroutine,
		"heap.pprof": c.Heap, "trace.out": c.Trace} {
		if data == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(string(d), c.ID+"-"+name), data, 0o644); err != nil {
			return fmt.Errorf("write capture: %w", err)
		}
	}
	route := ""
	if c.Request != nil {
		route = c.Request.Route + " transaction.id=" + c.Request.TransactionID
	}
	log.Printf("capture %s (%s %s): %d CPU samples, errors %q", c.ID, c.Trigger, route, c.CPUSamples, c.Errors)
	return nil
}
