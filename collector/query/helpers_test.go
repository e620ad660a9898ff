package query

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hotpath-apm/hotpath/collector"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeStore answers with what the test put in it and records the queries it was asked, so that tests
// check how the API translates parameters. The real store is exercised through the API by cmd/hotpath's
// tests.
type fakeStore struct {
	mu        sync.Mutex
	services  []string
	aggs      map[string]collector.AggregateResult // by service + "\x00" + name
	endpoints map[string]collector.Aggregate
	breakdown []collector.SpanTypeTime
	txPage    collector.TransactionPage
	errs      []collector.ErrorSummary
	traces    map[string][]collector.Event
	err       error // returned by every method when set
	block     bool  // every method waits for ctx to end

	aggQueries  []collector.AggregateQuery
	txQueries   []collector.TransactionQuery
	errQueries  []collector.ErrorQuery
	traceLimits []int
}

var _ Store = (*fakeStore)(nil)

func (f *fakeStore) wait(ctx context.Context) error {
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.err
}

func (f *fakeStore) Services(ctx context.Context, from, to time.Time) ([]string, error) {
	return f.services, f.wait(ctx)
}

func (f *fakeStore) TransactionAggregate(ctx context.Context, q collector.AggregateQuery) (collector.AggregateResult, error) {
	f.mu.Lock()
	f.aggQueries = append(f.aggQueries, q)
	f.mu.Unlock()
	return f.aggs[q.Service+"\x00"+q.Name], f.wait(ctx)
}

func (f *fakeStore) EndpointAggregates(ctx context.Context, service string, from, to time.Time) (map[string]collector.Aggregate, error) {
	return f.endpoints, f.wait(ctx)
}

func (f *fakeStore) Breakdown(ctx context.Context, service, name string, from, to time.Time) ([]collector.SpanTypeTime, error) {
	return f.breakdown, f.wait(ctx)
}

func (f *fakeStore) Transactions(ctx context.Context, q collector.TransactionQuery) (collector.TransactionPage, error) {
	f.mu.Lock()
	f.txQueries = append(f.txQueries, q)
	f.mu.Unlock()
	if q.Cursor == "bad" {
		return collector.TransactionPage{}, collector.ErrBadCursor
	}
	return f.txPage, f.wait(ctx)
}

// Errors pages through f.errs (which the test gives newest first) with a cursor holding the offset.
func (f *fakeStore) Errors(ctx context.Context, q collector.ErrorQuery) (collector.ErrorPage, error) {
	f.mu.Lock()
	f.errQueries = append(f.errQueries, q)
	f.mu.Unlock()
	if err := f.wait(ctx); err != nil {
		return collector.ErrorPage{}, err
	}
	off := 0
	if q.Cursor != "" {
		if err := json.Unmarshal([]byte(q.Cursor), &off); err != nil {
			return collector.ErrorPage{}, collector.ErrBadCursor
		}
	}
	end := min(off+q.Limit, len(f.errs))
	p := collector.ErrorPage{Errors: f.errs[off:end]}
	if end < len(f.errs) {
		b, _ := json.Marshal(end)
		p.Next = string(b)
	}
	return p, nil
}

func (f *fakeStore) GetTrace(ctx context.Context, traceID string, limit int) ([]collector.Record, error) {
	f.mu.Lock()
	f.traceLimits = append(f.traceLimits, limit)
	f.mu.Unlock()
	evs := f.traces[traceID]
	if len(evs) > limit {
		evs = evs[:limit]
	}
	return records(evs), f.wait(ctx)
}

// records numbers events as the store would, from 1.
func records(events []collector.Event) []collector.Record {
	var out []collector.Record
	for i, e := range events {
		out = append(out, collector.Record{Seq: uint64(i + 1), Event: e})
	}
	return out
}

// newTestAPI is New(cfg) at the tests' fixed now, with a timeout of a second unless cfg sets one.
func newTestAPI(t testing.TB, cfg Config) *API {
	t.Helper()
	cfg.Now = func() time.Time { return now }
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// getOK is do of a GET that must answer 200.
func getOK(t testing.TB, h http.Handler, target string) map[string]any {
	t.Helper()
	code, body := do(t, h, http.MethodGet, target)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", target, code, body)
	}
	return body
}

// do serves a request and decodes the JSON answer into a map.
func do(t testing.TB, h http.Handler, method, target string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, target, ct)
	}
	var body map[string]any
	if method != http.MethodHead {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: %v: %s", method, target, err, rec.Body.String())
		}
	}
	return rec.Code, body
}

// hist returns a latency histogram of the given microsecond values.
func hist(us ...int64) *hdrhistogram.PackedHistogram {
	h := hdrhistogram.NewPacked(1, int64(time.Hour/time.Microsecond), 2)
	for _, v := range us {
		_ = h.RecordValue(v)
	}
	return h
}
