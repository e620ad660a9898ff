package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	search "github.com/hotpath-apm/hotpath/examples/search"
)

// TestSearchLoadBoundsInFlight: against a service that does not answer, the load holds exactly
// loadMaxInFlight searches; the ticks past that are skipped and counted, and the searches held are
// answered, not cancelled, once the service answers after the load is stopped.
func TestSearchLoadBoundsInFlight(t *testing.T) {
	var received atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		<-release
	}))
	defer srv.Close()

	load := newSearchLoad([]string{srv.URL}, demoMaxRate, search.NewQueryMix(1), time.Hour)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		load.run(ctx)
	}()
	waitForCond(t, func() bool { return received.Load() == loadMaxInFlight && load.snapshot().Skipped > 0 })
	stop() // the load drains: it waits for the searches it holds
	close(release)
	<-done

	f := load.snapshot()
	if n := received.Load(); n != loadMaxInFlight || f.Requests != loadMaxInFlight || f.Failed != 0 || f.Skipped == 0 {
		t.Errorf("the service received %d searches; the load's figures %+v; want %d answered, none failed, some skipped",
			n, f, loadMaxInFlight)
	}
}
