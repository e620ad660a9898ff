package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	search "github.com/hotpath-apm/hotpath/examples/search"
)

// The demo's load generator: open loop, one search per tick whatever the service's latency, as users
// arrive, with a bound on the searches waiting for an answer.
const (
	// loadMaxInFlight bounds the searches waiting for an answer; a tick that finds this many is skipped
	// (and counted), so that a stalled service does not pile up goroutines.
	loadMaxInFlight = 64
	// loadTimeout bounds one search.
	loadTimeout = 30 * time.Second
	// loadDrain is how long, once stopped, the load waits for its searches in flight before cancelling
	// them (a cancelled search would be an error in the traces).
	loadDrain = 5 * time.Second
)

// searchLoad sends the search service search.QueryMix's traffic at a steady rate and measures what the
// client sees.
type searchLoad struct {
	bases     []string // the service's instances (versions), sent to in turn, the k-th search to bases[k % len]
	sent      int      // used by run's goroutine only
	interval  time.Duration
	mix       *search.QueryMix // used by run's goroutine only
	slow      time.Duration
	transport *http.Transport
	client    *http.Client

	mu        sync.Mutex // guards the figures below
	latencies *hdrhistogram.Histogram
	figures   loadFigures
}

// loadFigures are the load's counts and latency percentiles so far.
type loadFigures struct {
	Requests int64         // answered, successfully or not
	Failed   int64         // answered with a status other than 200, or not answered
	Skipped  int64         // not sent: loadMaxInFlight searches were waiting
	Slow     int64         // answered 200 after the slow threshold or more
	P50, P99 time.Duration // of the searches answered 200
}

// newSearchLoad returns a load of rate searches a second drawn from mix, which it then owns; searches
// answered after slow count as slow.
func newSearchLoad(bases []string, rate float64, mix *search.QueryMix, slow time.Duration) *searchLoad {
	t := &http.Transport{MaxIdleConnsPerHost: loadMaxInFlight, IdleConnTimeout: 30 * time.Second}
	return &searchLoad{
		bases:     bases,
		interval:  time.Duration(float64(time.Second) / rate),
		mix:       mix,
		slow:      slow,
		transport: t,
		client:    &http.Client{Transport: t, Timeout: loadTimeout},
		// 1 µs to 1 min, 2 significant digits: a percentile within 1 %.
		latencies: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2),
	}
}

// run sends searches until ctx is done, then waits for those in flight (at most loadDrain, then cancels
// them) and releases its connections.
func (l *searchLoad) run(ctx context.Context) {
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	defer l.transport.CloseIdleConnections()
	slots := make(chan struct{}, loadMaxInFlight)
	var wg sync.WaitGroup
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			drained := make(chan struct{})
			go func() {
				wg.Wait()
				close(drained)
			}()
			timer := time.NewTimer(loadDrain)
			defer timer.Stop()
			select {
			case <-drained:
			case <-timer.C:
				cancelReqs()
				<-drained
			}
			return
		}
		path := l.mix.Next().Path()
		l.sent++
		base := l.bases[l.sent%len(l.bases)] // the k-th search (from 1) to bases[k mod len(bases)]
		select {
		case slots <- struct{}{}:
		default:
			l.mu.Lock()
			l.figures.Skipped++
			l.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			l.search(reqCtx, base+path)
		}()
	}
}

// search sends one search to url.
func (l *searchLoad) search(ctx context.Context, url string) {
	begin := time.Now()
	ok := false
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = l.client.Do(req); err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = err == nil && resp.StatusCode == http.StatusOK
		}
	}
	took := time.Since(begin)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.figures.Requests++
	if !ok {
		l.figures.Failed++
		return
	}
	_ = l.latencies.RecordValue(int64(took / time.Microsecond)) // past a minute, the client gave up
	if took >= l.slow {
		l.figures.Slow++
	}
}

// snapshot returns the figures so far.
func (l *searchLoad) snapshot() loadFigures {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.figures
	if l.latencies.TotalCount() > 0 {
		f.P50 = time.Duration(l.latencies.ValueAtQuantile(50)) * time.Microsecond
		f.P99 = time.Duration(l.latencies.ValueAtQuantile(99)) * time.Microsecond
	}
	return f
}
