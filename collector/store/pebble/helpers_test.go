package pebble

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// gen makes traces shaped like the example search service's: one transaction with spans (query
// building, a segmenter call, Elasticsearch round-trips), sometimes an error, from a few services and
// endpoints, with the metadata an Elastic Go agent sends.
type gen struct {
	r   *rand.Rand
	now time.Time
	n   int
}

func newGen(seed uint64, now time.Time) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, 42)), now: now}
}

var (
	services  = []string{"search", "segmenter", "indexer"}
	endpoints = []string{"GET /search", "GET /suggest", "POST /index", "GET /health"}
)

func (g *gen) id(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return hex.EncodeToString(b)
}

func (g *gen) base(kind collector.Kind, traceID, service string, ts time.Time) collector.Event {
	return collector.Event{
		Kind: kind, Timestamp: ts, TraceID: traceID,
		Agent:   collector.Agent{Name: "go", Version: "2.7.2"},
		Service: collector.Service{Name: service, Version: "1.4.0", Environment: "production", Language: collector.NameVersion{Name: "go", Version: "go1.26"}},
		Host:    collector.Host{Hostname: "web-1", Name: "web-1", Architecture: "amd64", OS: collector.OS{Platform: "linux"}, IP: []netip.Addr{netip.MustParseAddr("10.1.2.3")}},
		Process: collector.Process{PID: 4242, Title: "search", Argv: []string{"/srv/search", "-listen", ":8080"}},
		Labels:  []collector.Label{{Key: "region", Value: "eu-west-1", Global: true}},
	}
}

// trace returns a transaction, spans spans and maybe an error, all of one trace.
func (g *gen) trace(spans int) []collector.Event {
	g.n++
	traceID := g.id(16)
	txID := g.id(8)
	service := services[g.r.IntN(len(services))]
	name := endpoints[g.r.IntN(len(endpoints))]
	ts := g.now.Add(-time.Duration(g.r.Int64N(int64(time.Hour))))
	dur := time.Duration(1+g.r.ExpFloat64()*50) * time.Millisecond
	tx := g.base(collector.KindTransaction, traceID, service, ts)
	tx.Event = collector.EventInfo{Outcome: "success", Duration: dur}
	tx.Transaction = &collector.Transaction{ID: txID, Name: name, Type: "request", Result: "HTTP 2xx", Sampled: true, Root: true, RepresentativeCount: 1,
		SpanCount: collector.SpanCount{Started: collector.Some(int32(spans))}}
	tx.HTTP = &collector.HTTP{Version: "1.1", Request: collector.HTTPRequest{Method: "GET", Headers: []collector.Header{{Key: "User-Agent", Values: []string{"curl/8.0"}}}},
		Response: collector.HTTPResponse{StatusCode: 200}}
	tx.URL = collector.URL{Full: "http://localhost:8080/search?q=shoes", Path: "/search", Query: "q=shoes", Scheme: "http", Domain: "localhost", Port: 8080}
	out := []collector.Event{tx}
	for i := range spans {
		sp := g.base(collector.KindSpan, traceID, service, ts.Add(time.Duration(i)*time.Millisecond))
		sp.ParentID = txID
		sp.Event = collector.EventInfo{Outcome: "success", Duration: dur / time.Duration(spans+1)}
		sp.Transaction = &collector.Transaction{ID: txID}
		sp.Span = &collector.Span{ID: g.id(8), Name: "POST /products/_search", Type: "db", Subtype: "elasticsearch", Action: "request",
			DB:                 &collector.DB{Type: "elasticsearch", Statement: `{"query":{"match":{"title":"shoes"}}}`},
			DestinationService: &collector.DestinationService{Resource: "elasticsearch"}}
		sp.Service.Target = collector.ServiceTarget{Type: "elasticsearch"}
		out = append(out, sp)
	}
	if g.r.IntN(10) == 0 {
		er := g.base(collector.KindError, traceID, service, ts.Add(time.Millisecond))
		er.ParentID = txID
		er.Transaction = &collector.Transaction{ID: txID, Name: name, Type: "request", Sampled: true}
		er.Error = &collector.Error{ID: g.id(16), GroupingKey: g.id(16), Culprit: "main.search",
			Exception: &collector.Exception{Message: "context deadline exceeded", Type: "*errors.errorString", Handled: collector.Some(true)}}
		out = append(out, er)
	}
	return out
}

// batch returns a batch of about n events.
func (g *gen) batch(n, spans int) collector.Batch {
	var b collector.Batch
	for len(b) < n {
		b = append(b, g.trace(spans)...)
	}
	return b
}

// checkReopened runs check on s, closes it, opens the store again as it was opened (its directory, its
// clock) and runs check on that too (subtest "reopened"): what a store answers must not change with a
// restart.
func checkReopened(t *testing.T, s *Store, check func(*testing.T, *Store)) {
	t.Helper()
	check(t, s)
	cfg := s.cfg
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, cfg)
	t.Run("reopened", func(t *testing.T) { check(t, s) })
}

func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func mustProcess(t testing.TB, s *Store, b collector.Batch) {
	t.Helper()
	if err := s.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

// writeRounds writes rounds batches, each made by batch, into s, moving clk on by step after each (so
// that they are ingested into different partitions), and returns the events written.
func writeRounds(t testing.TB, s *Store, clk *clock, rounds int, step time.Duration, batch func() collector.Batch) collector.Batch {
	t.Helper()
	var all collector.Batch
	for range rounds {
		b := batch()
		all = append(all, b...)
		mustProcess(t, s, b)
		clk.Add(step)
	}
	return all
}

// mustRefuse writes a batch of g's that s must refuse as collector.ErrStorageUnavailable, with an error
// saying want, and count as the first rejection for reason (hotpath_store_rejected_batches_total).
func mustRefuse(t *testing.T, s *Store, g *gen, reason, want string) {
	t.Helper()
	b := g.batch(5, 0)
	err := s.ProcessBatch(context.Background(), &b)
	if !errors.Is(err, collector.ErrStorageUnavailable) || !strings.Contains(err.Error(), want) {
		t.Fatalf("a batch: %v, want storage unavailable saying %q", err, want)
	}
	if n := counterValue(t, s.metrics.rejected.WithLabelValues(reason)); n != 1 {
		t.Fatalf("%s rejections %v, want 1", reason, n)
	}
}

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func describe(r collector.Record) string {
	e := r.Event
	return fmt.Sprintf("#%d %s %s", r.Seq, e.Kind, e.TraceID)
}
