//go:build querybench

package main

// The comparison floors of issue 15, measured through the query API over a store of one service with 50
// endpoints, two versions and a label, 1M transactions over 26 hours of simulated ingest:
//
//	go test -tags querybench -run '^$' -bench Compare -benchtime 20x -timeout 60m ./cmd/hotpath/
//
// HOTPATH_COMPAREBENCH_DIR sets where the store is built (default a directory under the system's
// temporary directory); a store built by an earlier run is reused.

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

const (
	compareBenchTransactions = 1_000_000
	compareBenchEndpoints    = 50
)

// compareBenchTrace appends one transaction of the service "search": one of 50 endpoints, version
// 1.4.2 or 1.5.0 and label es_cluster es2 or es7 (each half the traffic, independently), a long-tailed
// duration, 2% failures; 1.5.0 is 20% faster on the first 10 endpoints, es7 on the next 10.
func compareBenchTrace(r *rand.Rand, now time.Time, out collector.Batch) collector.Batch {
	ep := r.IntN(compareBenchEndpoints)
	version, cluster := "1.4.2", "es2"
	if r.IntN(2) == 1 {
		version = "1.5.0"
	}
	if r.IntN(2) == 1 {
		cluster = "es7"
	}
	d := time.Duration((2 + r.ExpFloat64()*40) * float64(time.Millisecond))
	if r.IntN(100) == 0 {
		d *= 30
	}
	if version == "1.5.0" && ep < 10 || cluster == "es7" && ep >= 10 && ep < 20 {
		d = d * 8 / 10
	}
	outcome, result := "success", "HTTP 2xx"
	if r.IntN(50) == 0 {
		outcome, result = "failure", "HTTP 5xx"
	}
	return append(out, collector.Event{Kind: collector.KindTransaction, Timestamp: now.Add(-time.Duration(r.Int64N(int64(time.Second)))),
		TraceID: benchID(r, 16),
		Agent:   collector.Agent{Name: "go", Version: "2.7.12"},
		Service: collector.Service{Name: "search", Version: version, Environment: "production", Language: collector.NameVersion{Name: "go", Version: "go1.26"}},
		Host:    collector.Host{Hostname: "web-1", Name: "web-1", Architecture: "amd64", OS: collector.OS{Platform: "linux"}},
		Event:   collector.EventInfo{Outcome: outcome, Duration: d},
		Transaction: &collector.Transaction{ID: benchID(r, 8), Name: fmt.Sprintf("GET /api/e%02d", ep), Type: "request", Result: result,
			Sampled: true, Root: true, RepresentativeCount: 1},
		Labels: []collector.Label{{Key: "es_cluster", Value: cluster}},
	})
}

func openCompareBenchStore(b *testing.B) *benchStore {
	dir := os.Getenv("HOTPATH_COMPAREBENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("hotpath-comparebench-%d", compareBenchTransactions))
	}
	return openBuiltStore(b, dir, compareBenchTransactions, compareBenchTrace)
}

// compareAPI answers one comparison and checks that it compared every endpoint, with enough
// transactions on both sides.
func compareAPI(b *testing.B, bs *benchStore, q url.Values, wantScanned bool) {
	rec := httptest.NewRecorder()
	bs.api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/compare?"+q.Encode(), nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", q.Encode(), rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	for _, want := range []string{`"name":"GET /api/e00"`, `"name":"GET /api/e49"`, `"verdict":"faster"`, `"verdict":"no_change"`} {
		if !strings.Contains(body, want) {
			b.Fatalf("%s: the answer lacks %s: %.2000s", q.Encode(), want, body)
		}
	}
	if wantScanned != strings.Contains(body, `"scanned":`) {
		b.Fatalf("%s: scanned reported: %v", q.Encode(), !wantScanned)
	}
}

// BenchmarkCompareVersions24h: 1.4.2 against 1.5.0 over the last 24 h, all 50 endpoints, from the
// per-version aggregates. Floor: < 200 ms.
func BenchmarkCompareVersions24h(b *testing.B) {
	bs := openCompareBenchStore(b)
	q := url.Values{"service": {"search"}, "by": {"version"}, "a": {"1.4.2"}, "b": {"1.5.0"},
		"from": {bs.now.Add(-24 * time.Hour).Format(time.RFC3339)}, "to": {bs.now.Format(time.RFC3339)}}
	timed(b, func(int) { compareAPI(b, bs, q, false) })
}

// BenchmarkCompareLabel1M: es_cluster es2 against es7 over the whole store (1M transactions), from one
// pass over the service's transactions. Floor: < 2 s.
func BenchmarkCompareLabel1M(b *testing.B) {
	bs := openCompareBenchStore(b)
	q := url.Values{"service": {"search"}, "by": {"label:es_cluster"}, "a": {"es2"}, "b": {"es7"},
		"from": {benchStart.Add(-time.Hour).Format(time.RFC3339)}, "to": {bs.now.Format(time.RFC3339)}}
	timed(b, func(int) { compareAPI(b, bs, q, true) })
}

// BenchmarkCompareTimeWindows: the last hour against the same hour a day before, all 50 endpoints,
// from the per-endpoint aggregates.
func BenchmarkCompareTimeWindows(b *testing.B) {
	bs := openCompareBenchStore(b)
	q := url.Values{"service": {"search"}, "by": {"time"},
		"a_from": {bs.now.Add(-25 * time.Hour).Format(time.RFC3339)}, "a_to": {bs.now.Add(-24 * time.Hour).Format(time.RFC3339)},
		"b_from": {bs.now.Add(-time.Hour).Format(time.RFC3339)}, "b_to": {bs.now.Format(time.RFC3339)}}
	timed(b, func(int) {
		rec := httptest.NewRecorder()
		bs.api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/compare?"+q.Encode(), nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"name":"GET /api/e49"`) {
			b.Fatalf("%d %.1000s", rec.Code, rec.Body.String())
		}
	})
}
