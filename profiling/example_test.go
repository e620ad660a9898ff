package profiling_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"runtime/trace"
	"time"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
)

// A service with the agent and the profiler: requests slower than 500 ms are captured while they run
// and uploaded to the collector (ELASTIC_APM_SERVER_URL); the on-demand handler is on an admin port of
// its own, on loopback.
func Example() {
	inflight := agent.NewInFlight()
	p, err := profiling.New(profiling.WithInFlight(inflight))
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Shutdown(ctx) // uploads what was captured
	}()

	admin := http.NewServeMux()
	admin.Handle("/debug/hotpath/", p.Handler(os.Getenv("HOTPATH_PROFILING_TOKEN")))
	go http.ListenAndServe("127.0.0.1:6060", admin)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {})
	http.ListenAndServe(":8080", agent.Wrap(mux, agent.WithInFlight(inflight)))
}

// Resource triggers: capture the process when its CPU use passes 90% of GOMAXPROCS, or when the
// goroutine count jumps 50% above its recent average once past 1000.
func ExampleWithTrigger() {
	p, err := profiling.New(
		profiling.WithTrigger(profiling.ResourceCPU, profiling.Rule{Abs: 90}),
		profiling.WithTrigger(profiling.ResourceGoroutines, profiling.Rule{Min: 1000, Diff: 0.5, Cooldown: 5 * time.Minute}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
}

// Captures can go anywhere: here, to files go tool pprof and go tool trace open (the execution trace with
// the flight recorder on).
func ExampleWithUploader() {
	p, err := profiling.New(profiling.WithUploader(fileUploader{dir: os.TempDir()}),
		profiling.WithFlightRecorder(trace.FlightRecorderConfig{}))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
}

type fileUploader struct{ dir string }

func (u fileUploader) Upload(ctx context.Context, c *profiling.Capture) error {
	for name, data := range map[string][]byte{"cpu.pprof": c.CPU, "goroutine.pprof": c.Goroutine, "trace.out": c.Trace} {
		if data != nil {
			if err := os.WriteFile(u.dir+"/"+c.ID+"-"+name, data, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}
