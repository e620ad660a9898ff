package query

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hotpath-apm/hotpath/collector"
)

func TestNewNeedsAStore(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a store: no error")
	}
}

// TestBadParameters: every bad parameter is a 400 whose body names it.
func TestBadParameters(t *testing.T) {
	a := newTestAPI(t, Config{Store: &fakeStore{}})
	for _, c := range []struct{ target, param string }{
		{"/api/v1/services?from=yesterday", "from"},
		{"/api/v1/services?to=2026-13-01T00:00:00Z", "to"},
		{"/api/v1/services?from=now-1h&to=now-2h", "from"},
		{"/api/v1/services?from=now&to=now", "from"},
		{"/api/v1/services?from=now-91d", "from"},
		{"/api/v1/services?from=now-1x", "from"},
		{"/api/v1/services?from=now*1h", "from"},
		{"/api/v1/services?from=now--1h", "from"},
		{"/api/v1/services?from=99999999999999999", "from"},
		{"/api/v1/services?sevice=search", "sevice"},
		{"/api/v1/services?from=now-2h&from=now-1h", "from"},
		{"/api/v1/endpoints", "service"},
		{"/api/v1/endpoints?service=", "service"},
		{"/api/v1/endpoints?service=a&sort=slowest", "sort"},
		{"/api/v1/endpoint?service=a&interval=90s", "interval"},
		{"/api/v1/endpoint?service=a&interval=0m", "interval"},
		{"/api/v1/endpoint?service=a&interval=fast", "interval"},
		{"/api/v1/endpoint?service=a&interval=1m&from=now-2d", "interval"}, // 2880 points
		{"/api/v1/breakdown?name=x", "service"},
		{"/api/v1/transactions?service=a&sort=random", "sort"},
		{"/api/v1/transactions?service=a&limit=0", "limit"},
		{"/api/v1/transactions?service=a&limit=1001", "limit"},
		{"/api/v1/transactions?service=a&limit=ten", "limit"},
		{"/api/v1/transactions?service=a&min_duration=-5ms", "min_duration"},
		{"/api/v1/transactions?service=a&min_duration=soon", "min_duration"},
		{"/api/v1/transactions?service=a&min_duration=-3", "min_duration"},
		{"/api/v1/transactions?service=a&slow=false", "slow"},
		{"/api/v1/transactions?service=a&label=noColon", "label"},
		{"/api/v1/transactions?service=a&label=:v", "label"},
		{"/api/v1/transactions?service=a&cursor=bad", "cursor"},
		{"/api/v1/transactions?service=a&" + strings.Repeat("label=k:v&", 17), "label"},
		{"/api/v1/errors?service=a&limit=-1", "limit"},
		{"/api/v1/traces/not%20hex", "trace_id"},
		{"/api/v1/traces/" + strings.Repeat("a", 129), "trace_id"},
		{"/api/v1/traces/abc?from=now-1h", "from"},
	} {
		code, body := do(t, a, http.MethodGet, c.target)
		if code != http.StatusBadRequest || body["parameter"] != c.param || !strings.Contains(body["error"].(string), fmt.Sprintf("%q", c.param)) {
			t.Errorf("%s: %d %v, want 400 naming %q", c.target, code, body, c.param)
		}
	}
}

// TestParameterBoundaries: the limits themselves are accepted.
func TestParameterBoundaries(t *testing.T) {
	s := &fakeStore{}
	a := newTestAPI(t, Config{Store: s})
	for _, target := range []string{
		"/api/v1/services?from=now-90d",
		"/api/v1/endpoint?service=a&interval=1m&from=now-24h", // 1440 points
		"/api/v1/transactions?service=a&limit=1",
		"/api/v1/transactions?service=a&limit=1000",
		"/api/v1/transactions?service=a&" + strings.Repeat("label=k:v&", 16),
		"/api/v1/traces/" + strings.Repeat("a", 128),
	} {
		if code, body := do(t, a, http.MethodGet, target); code != http.StatusOK && code != http.StatusNotFound {
			t.Errorf("%s: %d %v", target, code, body)
		}
	}
}

func TestTimeParameters(t *testing.T) {
	s := &fakeStore{services: []string{"a"}}
	a := newTestAPI(t, Config{Store: s})
	for _, c := range []struct {
		query    string
		from, to time.Time
	}{
		{"", now.Add(-time.Hour), now},
		{"from=now-15m", now.Add(-15 * time.Minute), now},
		{"from=now-7d&to=now-1d", now.Add(-7 * 24 * time.Hour), now.Add(-24 * time.Hour)},
		{"from=2026-03-01T10:00:00%2B01:00", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), now},
		{"from=1772352000000&to=1772355600000", time.UnixMilli(1772352000000), time.UnixMilli(1772355600000)},
		{"to=now-30m", now.Add(-90 * time.Minute), now.Add(-30 * time.Minute)},
	} {
		s.aggQueries = nil
		code, body := do(t, a, http.MethodGet, "/api/v1/services?"+c.query)
		if code != 200 || len(s.aggQueries) != 1 {
			t.Fatalf("%s: %d %v", c.query, code, body)
		}
		q := s.aggQueries[0]
		if !q.From.Equal(c.from) || !q.To.Equal(c.to) {
			t.Errorf("%s: range %v..%v, want %v..%v", c.query, q.From, q.To, c.from, c.to)
		}
	}
}

func TestReadOnly(t *testing.T) {
	a := newTestAPI(t, Config{Store: &fakeStore{}})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		code, body := do(t, a, m, "/api/v1/services")
		if code != http.StatusMethodNotAllowed || body["error"] == nil {
			t.Errorf("%s: %d %v", m, code, body)
		}
	}
	if code, _ := do(t, a, http.MethodHead, "/api/v1/services"); code != 200 {
		t.Errorf("HEAD: %d", code)
	}
	if code, body := do(t, a, http.MethodGet, "/api/v1/nothing"); code != http.StatusNotFound || body["error"] == nil {
		t.Errorf("unknown path: %d %v", code, body)
	}
}

func TestStoreFailures(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	s := &fakeStore{}
	a, err := New(Config{Store: s, Logger: zap.New(core), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.err = errors.New("disk on fire at /var/lib/secret")
	code, body := do(t, a, http.MethodGet, "/api/v1/services")
	if code != 500 || strings.Contains(body["error"].(string), "fire") {
		t.Errorf("store error: %d %v", code, body)
	}
	if logs.Len() != 1 || !strings.Contains(fmt.Sprint(logs.All()[0].ContextMap()["error"]), "fire") {
		t.Errorf("logged %v", logs.All())
	}
	s.err = fmt.Errorf("store: %w", collector.ErrShuttingDown)
	if code, _ := do(t, a, http.MethodGet, "/api/v1/services"); code != 503 {
		t.Errorf("shutting down: %d", code)
	}
	s.err, s.block = nil, true
	code, body = do(t, a, http.MethodGet, "/api/v1/services")
	if code != 503 || !strings.Contains(body["error"].(string), "longer than 50ms") {
		t.Errorf("timeout: %d %v", code, body)
	}
	if logs.Len() != 1 {
		t.Errorf("only the store failure is logged: %v", logs.All())
	}
}

func TestTransactionFilters(t *testing.T) {
	s := &fakeStore{txPage: collector.TransactionPage{Next: "c2", Transactions: []collector.TransactionSummary{{
		Timestamp: now.Add(-time.Minute), Duration: 4200 * time.Millisecond, Service: "search", Name: "GET /search",
		Type: "request", Result: "HTTP 2xx", Outcome: "success", TraceID: "t1", TransactionID: "x1", Sampled: true,
		Labels: []collector.SummaryLabel{{Key: "slow", Value: "true"}},
	}}}}
	a := newTestAPI(t, Config{Store: s})
	q := url.Values{"service": {"search"}, "name": {"GET /search"}, "result": {"HTTP 2xx"}, "sort": {"duration"},
		"slow": {"true"}, "min_duration": {"250"}, "label": {"team:search", "region:eu:west"}, "limit": {"10"},
		"cursor": {"c1"}, "from": {"now-24h"}}
	body := getOK(t, a, "/api/v1/transactions?"+q.Encode())
	got := s.txQueries[0]
	want := collector.TransactionQuery{Service: "search", Name: "GET /search", Result: "HTTP 2xx", Order: collector.SlowestFirst,
		MinDuration: 250 * time.Millisecond, Labels: []collector.SummaryLabel{{Key: "team", Value: "search"}, {Key: "region", Value: "eu:west"}, {Key: "slow", Value: "true"}},
		Limit: 10, Cursor: "c1", From: now.Add(-24 * time.Hour), To: now}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("query\n got %+v\nwant %+v", got, want)
	}
	txs := body["transactions"].([]any)
	tx := txs[0].(map[string]any)
	if body["next"] != "c2" || tx["duration_us"] != 4.2e6 || tx["trace_id"] != "t1" || tx["labels"].(map[string]any)["slow"] != "true" {
		t.Errorf("answer %v", body)
	}
	// Defaults: newest first, 50 a page; min_duration as a Go duration.
	do(t, a, http.MethodGet, "/api/v1/transactions?service=search&min_duration=1.5s")
	if q := s.txQueries[1]; q.Order != collector.NewestFirst || q.Limit != DefaultPageSize || q.MinDuration != 1500*time.Millisecond {
		t.Errorf("defaults: %+v", q)
	}
	s.txPage = collector.TransactionPage{}
	body = getOK(t, a, "/api/v1/transactions?service=search")
	if body["next"] != nil || len(body["transactions"].([]any)) != 0 {
		t.Errorf("empty page: %v", body)
	}
}

func TestServicesAndEndpoints(t *testing.T) {
	s := &fakeStore{
		services: []string{"indexer", "search"},
		aggs: map[string]collector.AggregateResult{
			"search\x00": {Total: collector.Aggregate{Count: 4, Represented: 8, Successes: 2, Failures: 1, Sum: 10 * time.Millisecond,
				Latency: hist(1000, 2000, 3000, 4000)}},
		},
		endpoints: map[string]collector.Aggregate{
			"GET /a": {Count: 1, Represented: 1, Successes: 1, Type: "request", Latency: hist(100)},
			"GET /b": {Count: 2, Represented: 2, Failures: 2, Type: "request", Latency: hist(5000, 9000)},
			"GET /c": {Count: 1, Represented: 5, Type: "request", Latency: hist(200)},
		},
	}
	a := newTestAPI(t, Config{Store: s})
	body := getOK(t, a, "/api/v1/services?from=now-2h")
	svcs := body["services"].([]any)
	if len(svcs) != 2 {
		t.Fatalf("%v", svcs)
	}
	idx, search := svcs[0].(map[string]any), svcs[1].(map[string]any)
	if idx["name"] != "indexer" || idx["transactions"] != 0.0 || idx["latency_us"] != nil || idx["error_rate"] != nil {
		t.Errorf("indexer: %v", idx)
	}
	lat := search["latency_us"].(map[string]any)
	if search["transactions"] != 4.0 || search["throughput_per_minute"] != 0.067 || search["error_rate"] != 0.333333 ||
		!within1pct(lat["p50"], 2000) || !within1pct(lat["p99"], 4000) || lat["mean"] != 2500.0 {
		t.Errorf("search: %v", search)
	}

	for sort, want := range map[string][]string{
		"":           {"GET /b", "GET /c", "GET /a"},
		"p99":        {"GET /b", "GET /c", "GET /a"},
		"throughput": {"GET /c", "GET /b", "GET /a"},
		"error_rate": {"GET /b", "GET /a", "GET /c"},
		"name":       {"GET /a", "GET /b", "GET /c"},
	} {
		code, body := do(t, a, http.MethodGet, "/api/v1/endpoints?service=search&sort="+sort)
		if code != 200 {
			t.Fatal(code, body)
		}
		var names []string
		for _, e := range body["endpoints"].([]any) {
			names = append(names, e.(map[string]any)["name"].(string))
		}
		if !slices.Equal(names, want) {
			t.Errorf("sort %q: %v, want %v", sort, names, want)
		}
	}
}

func TestEndpointSeries(t *testing.T) {
	from := now.Add(-30 * time.Minute)
	s := &fakeStore{aggs: map[string]collector.AggregateResult{"search\x00GET /search": {
		Total: collector.Aggregate{Count: 3, Represented: 3, Successes: 3, Type: "request", Latency: hist(1000, 1100, 250000)},
		Series: []collector.SeriesPoint{
			{Start: from, Aggregate: collector.Aggregate{Count: 2, Represented: 2, Successes: 2, Latency: hist(1000, 1100)}},
			{Start: from.Add(15 * time.Minute), Aggregate: collector.Aggregate{Latency: hist()}},
		},
	}}}
	a := newTestAPI(t, Config{Store: s})
	body := getOK(t, a, "/api/v1/endpoint?service=search&name=GET+/search&from=now-30m")
	if q := s.aggQueries[0]; q.Interval != time.Minute || q.Name != "GET /search" {
		t.Errorf("query %+v", q)
	}
	series := body["series"].([]any)
	p0, p1 := series[0].(map[string]any), series[1].(map[string]any)
	if body["type"] != "request" || body["interval_seconds"] != 60.0 || p0["transactions"] != 2.0 || p1["latency_us"] != nil ||
		!within1pct(p0["latency_us"].(map[string]any)["p50"], 1000) {
		t.Errorf("answer %v", body)
	}
	var total float64
	for _, b := range body["histogram"].([]any) {
		total += b.(map[string]any)["count"].(float64)
	}
	if total != 3 {
		t.Errorf("histogram %v", body["histogram"])
	}
	// 24 h picks 15-minute points: 96 of them.
	do(t, a, http.MethodGet, "/api/v1/endpoint?service=search&from=now-24h")
	if q := s.aggQueries[1]; q.Interval != 15*time.Minute || q.Name != "" {
		t.Errorf("24 h: %+v", q)
	}
}

func TestBreakdownShares(t *testing.T) {
	s := &fakeStore{breakdown: []collector.SpanTypeTime{
		{Type: "db", Subtype: "elasticsearch", Count: 10, Sum: 600 * time.Millisecond},
		{Type: "app", Count: 10, Sum: 300 * time.Millisecond},
		{Type: "external", Subtype: "http", Count: 5, Sum: 100 * time.Millisecond},
	}}
	a := newTestAPI(t, Config{Store: s})
	body := getOK(t, a, "/api/v1/breakdown?service=search&name=GET+/search")
	types := body["types"].([]any)
	if body["total_us"] != 1e6 || len(types) != 3 || types[0].(map[string]any)["share"] != 0.6 || types[2].(map[string]any)["sum_us"] != 1e5 {
		t.Errorf("%v", body)
	}
}

func TestErrorGroups(t *testing.T) {
	var errs []collector.ErrorSummary
	at := func(i int) time.Time { return now.Add(-time.Duration(i) * time.Second) }
	for i := range 25 { // newest first: i = 0 is the newest
		e := collector.ErrorSummary{Timestamp: at(i), ErrorID: fmt.Sprint("e", i), TraceID: fmt.Sprint("t", i), TransactionName: "GET /search"}
		switch {
		case i%5 == 0:
			e.GroupingKey, e.Culprit, e.Type, e.Message = "g-timeout", "search.query", "*url.Error", "context deadline exceeded"
			e.Handled = collector.Some(true)
		case i%5 == 1:
			e.GroupingKey, e.Culprit, e.Message, e.TransactionName = "g-panic", "search.rank", "index out of range", "GET /other"
		default:
			e.Culprit, e.Message = "", "no grouping key" // grouped by culprit, type and message
		}
		errs = append(errs, e)
	}
	s := &fakeStore{errs: errs}
	a := newTestAPI(t, Config{Store: s})
	body := getOK(t, a, "/api/v1/errors?service=search")
	groups := body["groups"].([]any)
	if len(groups) != 3 || body["total"] != 25.0 || body["truncated"] != false {
		t.Fatalf("%v", body)
	}
	first, second := groups[0].(map[string]any), groups[1].(map[string]any)
	latest := second["latest"].(map[string]any)
	if first["count"] != 15.0 || second["grouping_key"] != "g-timeout" || second["count"] != 5.0 || second["handled"] != true ||
		latest["error_id"] != "e0" || second["first_seen"] != at(20).Format(time.RFC3339) {
		t.Errorf("groups %v", groups)
	}
	body = getOK(t, a, "/api/v1/errors?service=search&name=GET+/other&limit=1")
	if body["total"] != 5.0 || len(body["groups"].([]any)) != 1 {
		t.Errorf("by name: %v", body)
	}
}

// TestErrorGroupsBound: past MaxErrorsScanned errors, the answer is truncated, and the store is
// asked in pages.
func TestErrorGroupsBound(t *testing.T) {
	errs := make([]collector.ErrorSummary, MaxErrorsScanned+1)
	for i := range errs {
		errs[i] = collector.ErrorSummary{Timestamp: now, GroupingKey: "g"}
	}
	s := &fakeStore{errs: errs}
	a := newTestAPI(t, Config{Store: s})
	code, body := do(t, a, http.MethodGet, "/api/v1/errors?service=search")
	if code != 200 || body["truncated"] != true || body["total"] != float64(MaxErrorsScanned) {
		t.Fatalf("%d %v", code, body["total"])
	}
	if len(s.errQueries) != 6 {
		t.Errorf("%d pages read", len(s.errQueries))
	}
	s.errs = errs[:MaxErrorsScanned]
	if _, body := do(t, a, http.MethodGet, "/api/v1/errors?service=search"); body["truncated"] != false {
		t.Errorf("exactly %d errors: truncated", MaxErrorsScanned)
	}
}

// FuzzQueryString: whatever the query string, every endpoint answers 200, 400 or 404 with a JSON
// body, never panics.
func FuzzQueryString(f *testing.F) {
	for _, seed := range []string{"", "from=now-1h", "service=a&name=b&interval=5m", "service=a&label=k:v&slow=true",
		"service=a&from=1772352000000&to=now&sort=duration&limit=3&cursor=x", "from=now-1d&to=now%2B1h"} {
		f.Add(seed)
	}
	s := &fakeStore{services: []string{"a"}, traces: map[string][]collector.Event{}}
	a := newTestAPI(f, Config{Store: s})
	f.Fuzz(func(t *testing.T, q string) {
		for _, path := range []string{"services", "endpoints", "endpoint", "breakdown", "transactions", "errors", "traces/abc"} {
			code, _ := do(t, a, http.MethodGet, "/api/v1/"+path+"?"+url.PathEscape(q))
			if code != 200 && code != 400 && code != 404 {
				t.Fatalf("%s?%s: %d", path, q, code)
			}
		}
	})
}

func TestContextIsPassed(t *testing.T) {
	// The request's context reaches the store: a canceled request stops its query.
	s := &fakeStore{block: true}
	a := newTestAPI(t, Config{Store: s})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/services", nil).WithContext(ctx))
	if rec.Code != 503 {
		t.Errorf("canceled request: %d", rec.Code)
	}
}

// within1pct reports whether a JSON number is an HDR percentile of exact: at least exact, at most 1%
// above.
func within1pct(v any, exact float64) bool {
	f, ok := v.(float64)
	return ok && f >= exact && f <= exact*1.01
}
