package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
	"github.com/hotpath-apm/hotpath/profiling/profilingtest"
)

// profiledService is the service of the profile tests.
const profiledService = "profiled"

// burnFor is how much CPU the /burn handler burns in profilingtest.Burn.
const burnFor = 400 * time.Millisecond

// runProfiledService runs a service with agent.Wrap and the profiler, the real Elastic agent sending its
// transactions to the collector at collectorURL and the profiler uploading its captures there (both
// with the secret token), and sends it two requests slower than their 100 ms threshold: GET /burn, which
// burns burnFor of CPU in profilingtest.Burn, and GET /block/{id}, which waits on a channel in waitForRelease until
// the profiler has started its capture. It returns once the profiler has uploaded both captures and the
// agent has sent both transactions, each acknowledged by the collector (it answers once stored).
func runProfiledService(t *testing.T, collectorURL, secretToken string) {
	t.Helper()
	tracer := newTestTracer(t, collectorURL, secretToken, profiledService, "1.0.0")
	defer tracer.Close()

	inflight := agent.NewInFlight()
	uploads := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer uploads.CloseIdleConnections()
	p, err := profiling.New(profiling.WithInFlight(inflight), profiling.WithServerURL(collectorURL),
		profiling.WithSecretToken(secretToken), profiling.WithService(profiledService, "1.0.0", "test"),
		profiling.WithHTTPClient(uploads), profiling.WithFlightRecorder(trace.FlightRecorderConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()

	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /burn", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, profilingtest.Burn(burnFor))
	})
	mux.HandleFunc("GET /block/{id}", func(w http.ResponseWriter, r *http.Request) {
		waitForRelease(release)
	})
	svc := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(inflight),
		agent.WithSlowThreshold(100*time.Millisecond)))
	defer svc.Close()
	getOK := func(path string) error {
		resp, err := svc.Client().Get(svc.URL + path)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", path, resp.Status)
		}
		return nil
	}

	if err := getOK("/burn"); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() { blocked <- getOK("/block/7") }()
	// The capture of /block starts (its first goroutine snapshot taken) while the handler waits.
	waitForCond(t, func() bool { return p.Stats().Captures == 2 })
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	waitForCond(t, func() bool { s := p.Stats(); return s.Uploaded+s.UploadFailures+s.Dropped == 2 })
	if s := p.Stats(); s.Uploaded != 2 {
		t.Fatalf("profiler stats %+v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tracer.Flush(ctx.Done())
	if s := tracer.Stats(); s.Errors.SendStream != 0 || s.TransactionsSent != 2 {
		t.Fatalf("agent stats %+v", s)
	}
}

// waitForRelease blocks on ch: the blocking call the goroutine profile of /block shows.
//
//go:noinline
func waitForRelease(ch <-chan struct{}) {
	<-ch
}
