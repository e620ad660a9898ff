//go:build querybench

package main

// The floor of GET /api/v1/queries (issue 14): 24 hours, 1,000 query shapes, 1M Elasticsearch spans.
//
//	go test -tags querybench -run '^$' -bench QueryShapes24h -benchtime 50x -timeout 60m ./cmd/hotpath/
//
// HOTPATH_QUERYBENCH_SPANS sets the number of spans (default 1,000,000); the store is built under the
// system's temporary directory, named for the size, and reused by later runs.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/query"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

const benchShapes = 1000

func benchShapeSpans() int {
	if v := os.Getenv("HOTPATH_QUERYBENCH_SPANS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 1_000_000
}

// openShapeStore builds (or reuses) a store of n Elasticsearch spans of service "search" over 24 hours,
// spread over benchShapes shapes with a Zipf distribution, labelled as the agent labels them.
func openShapeStore(b *testing.B) (*pebble.Store, time.Time) {
	n := benchShapeSpans()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("hotpath-shapebench-%d", n))
	span := 24 * time.Hour
	end := benchStart.Add(span)
	if _, err := os.Stat(filepath.Join(dir, "built")); err != nil {
		_ = os.RemoveAll(dir)
		started := time.Now()
		written := 0
		s, err := pebble.Open(pebble.Config{Dir: dir, MaxAge: -1, QueueBytes: 256 << 20,
			Now: func() time.Time { return benchStart.Add(time.Duration(float64(span) * float64(written) / float64(n))) }})
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 4))
		zipf := rand.NewZipf(r, 1.2, 1, benchShapes-1)
		batch := make(collector.Batch, 0, 500)
		for written < n {
			batch = batch[:0]
			now := benchStart.Add(time.Duration(float64(span) * float64(written) / float64(n)))
			for range 500 {
				k := zipf.Uint64()
				d := time.Duration((1 + r.ExpFloat64()*float64(1+k%50)) * float64(time.Millisecond))
				e := collector.Event{Kind: collector.KindSpan, Timestamp: now, TraceID: benchID(r, 16),
					Service: collector.Service{Name: "search"}, Event: collector.EventInfo{Outcome: "success", Duration: d},
					Transaction: &collector.Transaction{ID: benchID(r, 8)},
					Span: &collector.Span{ID: benchID(r, 8), Name: "Elasticsearch: POST products/_search", Type: "db", Subtype: "elasticsearch",
						DB: &collector.DB{Type: "elasticsearch", Statement: fmt.Sprintf(`{"query":{"match":{"f%d":"x"}}}`, k)}},
					Labels: []collector.Label{{Key: "es_query_shape", Value: fmt.Sprintf("%016x", k)},
						{Key: "es_query_summary", Value: fmt.Sprintf("match[f%d]", k)}},
					NumericLabels: []collector.NumericLabel{{Key: "es_took_ms", Value: float64(d/2) / float64(time.Millisecond)}},
				}
				batch = append(batch, e)
			}
			if err := s.ProcessBatch(context.Background(), &batch); err != nil {
				b.Fatal(err)
			}
			written += len(batch)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "built"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("built a store of %d spans in %v", n, time.Since(started).Round(time.Second))
	}
	s, err := pebble.Open(pebble.Config{Dir: dir, MaxAge: -1, Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, end
}

// BenchmarkQueryShapes24h: GET /api/v1/queries over the 24 hours of the store (api), over 24 hours
// that start 37 minutes into an hour (api-unaligned: "the last 24 h" at 00:37, widened to 25 whole
// hours), and the store's QueryShapes alone.
func BenchmarkQueryShapes24h(b *testing.B) {
	s, end := openShapeStore(b)
	api, err := query.New(query.Config{Store: s, Queries: s, Logger: zap.NewNop(), Now: func() time.Time { return end }, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	from := end.Add(-24 * time.Hour)
	got, _, _, err := s.QueryShapes(context.Background(), "search", from, end)
	if err != nil || len(got) < benchShapes*9/10 {
		b.Fatalf("%d shapes, %v", len(got), err)
	}
	target := func(from, to time.Time) string {
		return "/api/v1/queries?" + url.Values{"service": {"search"}, "from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}.Encode()
	}
	aligned, unaligned := target(from, end), target(from.Add(37*time.Minute), end.Add(37*time.Minute))
	b.Run("api", func(b *testing.B) { timed(b, func(int) { serveAPI(b, api, aligned) }) })
	b.Run("api-unaligned", func(b *testing.B) { timed(b, func(int) { serveAPI(b, api, unaligned) }) })
	b.Run("store", func(b *testing.B) {
		timed(b, func(int) {
			if _, _, _, err := s.QueryShapes(context.Background(), "search", from, end); err != nil {
				b.Fatal(err)
			}
		})
	})
}
