//go:build querybench

package main

// The query API's floors, measured over a store of 1M transactions and 5M spans (26 hours of
// simulated ingest, 4 services × 6 endpoints): a separate command, as building the store takes minutes.
//
//	go test -tags querybench -run '^$' -bench Query -benchtime 2000x -timeout 60m ./cmd/hotpath/
//
// HOTPATH_QUERYBENCH_TX sets the number of transactions (default 1,000,000; each has 5 spans), and
// HOTPATH_QUERYBENCH_DIR where the store is built (default a directory under the system's temporary
// directory named for the size); a store built by an earlier run is reused. Each benchmark is a pair:
// the API (handler, store and JSON, no network) against the way without the index or aggregate it uses,
// or against the bare store call. p50-ms and p99-ms are the latencies of the iterations.

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/query"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

var (
	benchServices  = []string{"search", "segmenter", "indexer", "gateway"}
	benchEndpoints = []string{"GET /search", "GET /suggest", "POST /index", "GET /health", "GET /products/{id}", "POST /cart"}
	benchStart     = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
)

const benchSpan = 26 * time.Hour // simulated ingest time of the whole store

// benchStore is a built store, open, with the API over it and a sample of trace ids.
type benchStore struct {
	s      *pebble.Store
	api    http.Handler
	now    time.Time // the end of the simulated ingest: "now" for the queries
	traces []string
}

func benchTransactions() int {
	if v := os.Getenv("HOTPATH_QUERYBENCH_TX"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 1_000_000
}

// openBenchStore builds the store (or reuses one built before) and opens it.
func openBenchStore(b *testing.B) *benchStore {
	b.Helper()
	n := benchTransactions()
	dir := os.Getenv("HOTPATH_QUERYBENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("hotpath-querybench-%d", n))
	}
	bs := openBuiltStore(b, dir, n, benchTrace)
	s := bs.s
	// A sample of trace ids: the first trace of every 20,000th transaction's batch, read back by time.
	r := rand.New(rand.NewPCG(7, 7))
	for range 2000 {
		svc, name := benchServices[r.IntN(len(benchServices))], benchEndpoints[r.IntN(len(benchEndpoints))]
		at := benchStart.Add(time.Duration(r.Int64N(int64(benchSpan))))
		p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: svc, Name: name, To: at, Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Transactions) == 1 {
			bs.traces = append(bs.traces, p.Transactions[0].TraceID)
		}
	}
	return bs
}

// openBuiltStore opens the store in dir, first building it of n traces made by gen unless an earlier
// run did, with the API over it.
func openBuiltStore(b *testing.B, dir string, n int, gen func(r *rand.Rand, now time.Time, out collector.Batch) collector.Batch) *benchStore {
	b.Helper()
	done := filepath.Join(dir, "built")
	end := benchStart.Add(benchSpan)
	if _, err := os.Stat(done); err != nil {
		_ = os.RemoveAll(dir)
		start := time.Now()
		buildBenchStore(b, filepath.Join(dir, "store"), n, gen)
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("built a store of %d traces in %v", n, time.Since(start).Round(time.Second))
	}
	s, err := pebble.Open(pebble.Config{Dir: filepath.Join(dir, "store"), MaxAge: -1, Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	api, err := query.New(query.Config{Store: s, Compare: s, Logger: zap.NewNop(), Now: func() time.Time { return end }, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	return &benchStore{s: s, api: api, now: end}
}

// buildBenchStore writes n traces made by gen (benchTrace: a transaction and 5 spans, shaped as the Go
// agent sends them) from 8 concurrent writers, 20 traces a batch, with the store's clock moving over
// benchSpan.
func buildBenchStore(b *testing.B, dir string, n int, gen func(r *rand.Rand, now time.Time, out collector.Batch) collector.Batch) {
	var written atomic.Int64
	now := func() time.Time {
		return benchStart.Add(time.Duration(float64(benchSpan) * float64(written.Load()) / float64(n)))
	}
	s, err := pebble.Open(pebble.Config{Dir: dir, Now: now, MaxAge: -1, QueueBytes: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 11))
			batch := make(collector.Batch, 0, 126)
			for written.Load() < int64(n) && failed.Load() == nil {
				batch = batch[:0]
				t := now()
				for range 20 {
					batch = gen(r, t, batch)
				}
				if err := s.ProcessBatch(context.Background(), &batch); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				if k := written.Add(20); k%100_000 < 20 {
					fmt.Fprintf(os.Stderr, "querybench: %d transactions written\n", k)
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}

func benchID(r *rand.Rand, n int) string {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(buf)
}

// benchTrace appends a transaction of a random service and endpoint, with a long-tailed duration, and
// its 5 spans.
func benchTrace(r *rand.Rand, now time.Time, out collector.Batch) collector.Batch {
	traceID, txID := benchID(r, 16), benchID(r, 8)
	svc, name := benchServices[r.IntN(len(benchServices))], benchEndpoints[r.IntN(len(benchEndpoints))]
	ts := now.Add(-time.Duration(r.Int64N(int64(time.Second))))
	d := time.Duration((2 + r.ExpFloat64()*40) * float64(time.Millisecond))
	if r.IntN(100) == 0 {
		d *= 30
	}
	base := func(kind collector.Kind, t time.Time) collector.Event {
		return collector.Event{Kind: kind, Timestamp: t, TraceID: traceID,
			Agent:   collector.Agent{Name: "go", Version: "2.7.12"},
			Service: collector.Service{Name: svc, Version: "1.4.0", Environment: "production", Language: collector.NameVersion{Name: "go", Version: "go1.26"}},
			Host:    collector.Host{Hostname: "web-1", Name: "web-1", Architecture: "amd64", OS: collector.OS{Platform: "linux"}},
			Process: collector.Process{PID: 4242, Title: svc},
		}
	}
	tx := base(collector.KindTransaction, ts)
	outcome, result := "success", "HTTP 2xx"
	if r.IntN(50) == 0 {
		outcome, result = "failure", "HTTP 5xx"
	}
	tx.Event = collector.EventInfo{Outcome: outcome, Duration: d}
	tx.Transaction = &collector.Transaction{ID: txID, Name: name, Type: "request", Result: result, Sampled: true, Root: true, RepresentativeCount: 1}
	tx.HTTP = &collector.HTTP{Version: "1.1", Request: collector.HTTPRequest{Method: "GET"}, Response: collector.HTTPResponse{StatusCode: 200}}
	tx.URL = collector.URL{Full: "http://localhost:8080/search?q=shoes", Path: "/search", Scheme: "http", Domain: "localhost", Port: 8080}
	if d > 500*time.Millisecond {
		tx.Labels = []collector.Label{{Key: "slow", Value: "true", Bool: true}}
	}
	out = append(out, tx)
	spans := [...][3]string{{"build query", "app", "internal"}, {"POST segmenter", "external", "http"},
		{"Elasticsearch: POST products/_search", "db", "elasticsearch"}, {"GET cache", "db", "redis"}, {"rank results", "app", "internal"}}
	for i, sp := range spans {
		e := base(collector.KindSpan, ts.Add(time.Duration(i)*d/6))
		e.ParentID = txID
		e.Event = collector.EventInfo{Outcome: "success", Duration: d / 6}
		e.Transaction = &collector.Transaction{ID: txID}
		e.Span = &collector.Span{ID: benchID(r, 8), Name: sp[0], Type: sp[1], Subtype: sp[2]}
		if sp[2] == "elasticsearch" {
			e.Span.DB = &collector.DB{Type: "elasticsearch", Statement: `{"query":{"match":{"title":"shoes"}},"size":20}`}
			e.NumericLabels = []collector.NumericLabel{{Key: "es_took_ms", Value: float64(d / 8 / time.Millisecond)}}
		}
		out = append(out, e)
	}
	return out
}

// timed runs op b.Loop() times and reports the p50 and p99 of its latency.
func timed(b *testing.B, op func(i int)) {
	b.ReportAllocs()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		op(i)
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

func serveAPI(b *testing.B, h http.Handler, target string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", target, rec.Code, rec.Body.String())
	}
}

// BenchmarkQueryTrace: GET /api/v1/traces/{id} of random traces, and the store's GetTrace alone.
func BenchmarkQueryTrace(b *testing.B) {
	bs := openBenchStore(b)
	b.Run("api", func(b *testing.B) {
		timed(b, func(i int) { serveAPI(b, bs.api, "/api/v1/traces/"+bs.traces[i%len(bs.traces)]) })
	})
	b.Run("store", func(b *testing.B) {
		timed(b, func(i int) {
			recs, err := bs.s.GetTrace(context.Background(), bs.traces[i%len(bs.traces)], 0)
			if err != nil || len(recs) != 6 {
				b.Fatal(err, len(recs))
			}
		})
	})
}

// BenchmarkQueryEndpointStats24h: an endpoint's figures over 24 h with its series and histogram, from the
// per-minute aggregates (api), and the same percentiles computed by reading every transaction of the
// range from the index (scan): what the aggregates save.
func BenchmarkQueryEndpointStats24h(b *testing.B) {
	bs := openBenchStore(b)
	from := bs.now.Add(-24 * time.Hour)
	b.Run("api", func(b *testing.B) {
		timed(b, func(i int) {
			serveAPI(b, bs.api, "/api/v1/endpoint?"+bs.endpointQuery(i, from).Encode())
		})
	})
	b.Run("scan", func(b *testing.B) {
		timed(b, func(i int) {
			h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 2)
			err := bs.scanEndpoint(i, from, func(t *collector.TransactionSummary) {
				_ = h.RecordValue(max(int64(t.Duration/time.Microsecond), 1))
			})
			if err != nil || h.TotalCount() == 0 {
				b.Fatal(err, h.TotalCount())
			}
			_ = h.ValueAtPercentiles([]float64{50, 95, 99})
		})
	})
}

// benchEndpoint is the service and endpoint of a benchmark's i-th query: the queries go round them.
func benchEndpoint(i int) (service, name string) {
	return benchServices[i%len(benchServices)], benchEndpoints[i%len(benchEndpoints)]
}

// endpointQuery is the query string of the i-th query's endpoint over [from, the store's now].
func (bs *benchStore) endpointQuery(i int, from time.Time) url.Values {
	service, name := benchEndpoint(i)
	return url.Values{"service": {service}, "name": {name}, "from": {from.Format(time.RFC3339)}, "to": {bs.now.Format(time.RFC3339)}}
}

// scanEndpoint calls fn for every transaction of the i-th query's endpoint in [from, the store's now),
// oldest first, reading the time index a page of pebble.MaxLimit at a time: the scans the aggregates and
// the duration index save.
func (bs *benchStore) scanEndpoint(i int, from time.Time, fn func(*collector.TransactionSummary)) error {
	service, name := benchEndpoint(i)
	q := collector.TransactionQuery{Service: service, Name: name, From: from, To: bs.now, Order: collector.OldestFirst, Limit: pebble.MaxLimit}
	for {
		page, err := bs.s.Transactions(context.Background(), q)
		if err != nil {
			return err
		}
		for i := range page.Transactions {
			fn(&page.Transactions[i])
		}
		if page.Next == "" {
			return nil
		}
		q.Cursor = page.Next
	}
}

// BenchmarkQuerySlowest50In24h: the 50 slowest transactions of an endpoint in 24 h, from the duration
// index (api), and by reading the time index and keeping the 50 longest (scan).
func BenchmarkQuerySlowest50In24h(b *testing.B) {
	bs := openBenchStore(b)
	from := bs.now.Add(-24 * time.Hour)
	b.Run("api", func(b *testing.B) {
		timed(b, func(i int) {
			q := bs.endpointQuery(i, from)
			q.Set("sort", "duration")
			q.Set("limit", "50")
			serveAPI(b, bs.api, "/api/v1/transactions?"+q.Encode())
		})
	})
	b.Run("scan", func(b *testing.B) {
		timed(b, func(i int) {
			var top []time.Duration
			err := bs.scanEndpoint(i, from, func(t *collector.TransactionSummary) {
				if len(top) < 50 || t.Duration > top[0] {
					top = append(top, t.Duration)
					slices.Sort(top)
					if len(top) > 50 {
						top = top[1:]
					}
				}
			})
			if err != nil || len(top) != 50 {
				b.Fatal(err, len(top))
			}
		})
	})
}
