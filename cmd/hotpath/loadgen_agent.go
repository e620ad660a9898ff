package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport"
)

// agentReport is what the Elastic Go agent says it did.
type agentReport struct {
	took         time.Duration
	rate         float64 // asked, transactions/s
	started      uint64  // transactions started
	spansStarted uint64
	stats        apm.TracerStats
	requests     requestTimes
}

// ok reports whether every transaction and span started was sent, none dropped, no request failed.
func (r agentReport) ok() bool {
	s := r.stats
	return s.TransactionsDropped == 0 && s.SpansDropped == 0 && s.ErrorsDropped == 0 && s.Errors.SendStream == 0 &&
		s.TransactionsSent == r.started && s.SpansSent == r.spansStarted
}

func (r agentReport) print(w io.Writer) {
	s := r.stats
	secs := r.took.Seconds()
	fmt.Fprintf(w, "loadgen: the Elastic Go agent, paced at %.0f transactions/s, %.1fs\n", r.rate, secs)
	fmt.Fprintf(w, "  started:  %d transactions (%.0f/s), %d spans\n", r.started, float64(r.started)/secs, r.spansStarted)
	fmt.Fprintf(w, "  sent:     %d transactions, %d spans (%.0f events/s)\n", s.TransactionsSent, s.SpansSent,
		float64(s.TransactionsSent+s.SpansSent)/secs)
	fmt.Fprintf(w, "  dropped:  %d transactions, %d spans, %d errors; failed requests: %d\n",
		s.TransactionsDropped, s.SpansDropped, s.ErrorsDropped, s.Errors.SendStream)
	r.requests.print(w)
}

// runAgentLoad runs the real Elastic Go agent against cfg.url until ctx is done: transactions of a search
// request with cfg.spans spans each, started at cfg.rate per second by one goroutine per CPU. The spans
// are long enough (and of different names) that the agent neither drops them as too short nor
// compresses them. Then it flushes the agent and returns its statistics.
func runAgentLoad(ctx context.Context, cfg loadgenConfig) (agentReport, error) {
	u, err := url.Parse(cfg.url)
	if err != nil {
		return agentReport{}, fmt.Errorf("loadgen: -url: %w", err)
	}
	tp, err := transport.NewHTTPTransport(transport.HTTPTransportOptions{
		ServerURLs: []*url.URL{u}, SecretToken: cfg.secretToken, APIKey: cfg.apiKey,
	})
	if err != nil {
		return agentReport{}, fmt.Errorf("loadgen: agent transport: %w", err)
	}
	timed := &timedTransport{HTTPTransport: tp}
	tracer, err := apm.NewTracerOptions(apm.TracerOptions{
		ServiceName: cfg.service, ServiceVersion: "1.4.2", ServiceEnvironment: "bench", Transport: timed,
	})
	if err != nil {
		return agentReport{}, fmt.Errorf("loadgen: agent: %w", err)
	}
	defer tracer.Close()

	req, _ := http.NewRequest(http.MethodGet, "http://search:8080/search?q=running+shoes", nil) // a valid URL
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
	req.RemoteAddr = "10.0.3.17:51234"

	rep := agentReport{rate: cfg.rate}
	var started, spans atomic.Uint64
	workers := runtime.GOMAXPROCS(0)
	begin := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker starts its share of the transactions due since begin, every millisecond.
			share := cfg.rate / float64(workers)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			var done uint64
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-tick.C:
					due := uint64(now.Sub(begin).Seconds()*share) + uint64(w%2) // spread rounding
					for ; done < due && ctx.Err() == nil; done++ {
						agentTransaction(tracer, req, cfg.spans)
						started.Add(1)
						spans.Add(uint64(cfg.spans))
					}
				}
			}
		}()
	}
	wg.Wait()
	rep.took = time.Since(begin)
	rep.started, rep.spansStarted = started.Load(), spans.Load()

	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tracer.Flush(fctx.Done())
	rep.stats = tracer.Stats()
	rep.requests = timed.times()
	return rep, nil
}

// agentSpans are the spans of a transaction, cycled: name and type.
var agentSpans = [][2]string{
	{"build query", "app.internal"},
	{"POST segmenter", "external.http"},
	{"Elasticsearch: POST /products/_search", "db.elasticsearch.request"},
	{"GET cache", "db.redis.query"},
	{"rank results", "app.internal"},
}

// agentTransaction records one search request of 25 ms with n spans.
func agentTransaction(tracer *apm.Tracer, req *http.Request, n int) {
	end := time.Now()
	start := end.Add(-25 * time.Millisecond)
	tx := tracer.StartTransactionOptions("GET /search", "request", apm.TransactionOptions{Start: start})
	tx.Context.SetHTTPRequest(req)
	tx.Context.SetHTTPStatusCode(http.StatusOK)
	tx.Context.SetLabel("team", "search")
	for k := range n {
		s := agentSpans[k%len(agentSpans)]
		span := tx.StartSpanOptions(s[0], s[1], apm.SpanOptions{Start: start.Add(time.Duration(k+1) * 4 * time.Millisecond)})
		if k%len(agentSpans) == 2 {
			span.Context.SetDatabase(apm.DatabaseSpanContext{Type: "elasticsearch", Statement: `{"query":{"match":{"title":"running shoes"}},"size":20}`})
		}
		span.Duration = 3750 * time.Microsecond
		span.End()
	}
	tx.Result = "HTTP 2xx"
	tx.Duration = 25 * time.Millisecond
	tx.End()
}
