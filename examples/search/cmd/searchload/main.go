// Command searchload sends the search example a shop's traffic (search.QueryMix: popular queries, a long
// tail, a few pathological ones) at a steady rate, and prints latency percentiles per kind of query.
//
//	go run ./examples/search/cmd/searchload -url http://127.0.0.1:8080 -rate 20 -duration 30s
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/internal/command"
)

func main() {
	command.Main("searchload", func(ctx context.Context, args []string, _ *zap.Logger) error {
		return run(ctx, args, os.Stdout)
	})
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := command.Flags("searchload", stdout)
	base := fs.String("url", "http://127.0.0.1:8080", "the search service")
	rate := fs.Float64("rate", 10, "requests per second")
	duration := fs.Duration("duration", 30*time.Second, "how long to send")
	seed := fs.Uint64("seed", 1, "query mix seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate <= 0 || *rate > 10000 {
		return fmt.Errorf("-rate must be in (0, 10000]")
	}
	// Sending stops after the duration; the requests in flight then finish (or ctx, Ctrl-C, ends them).
	sending, stopSending := context.WithTimeout(ctx, *duration)
	defer stopSending()
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	mix := search.NewQueryMix(*seed)

	var mu sync.Mutex
	latencies := map[search.QueryKind][]time.Duration{}
	failures := 0
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
loop:
	for {
		select {
		case <-sending.Done():
			break loop
		case <-tick.C:
		}
		q := mix.Next()
		wg.Add(1)
		go func() {
			defer wg.Done()
			begin := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, *base+q.Path(), nil)
			resp, err := client.Do(req)
			ok := err == nil && resp.StatusCode == http.StatusOK
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				if ctx.Err() == nil {
					failures++
				}
				return
			}
			latencies[q.Kind] = append(latencies[q.Kind], time.Since(begin))
		}()
	}
	wg.Wait()
	for _, kind := range []search.QueryKind{search.Popular, search.Tail, search.Pathological} {
		l := latencies[kind]
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		p := func(q float64) time.Duration { return l[int(q*float64(len(l)-1))].Round(time.Millisecond) }
		fmt.Fprintf(stdout, "%-12s %5d requests  p50 %8v  p90 %8v  p99 %8v  max %8v\n", kind, len(l), p(0.5), p(0.9), p(0.99), l[len(l)-1].Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "%d failed\n", failures)
	return nil
}
