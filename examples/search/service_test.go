package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/internal/intaketest"
	"github.com/hotpath-apm/hotpath/examples/search/internal/leakcheck"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// testCatalogSize keeps the stand-in's load quick.
const testCatalogSize = 3000

type env struct {
	st        *stack.Stack
	in        *intaketest.Intake
	tracer    *apm.Tracer // the search service's
	segTracer *apm.Tracer
	logs      *observer.ObservedLogs
	client    *http.Client
}

// startStack runs the example on loopback with its tracers sending to an intake.
func startStack(t *testing.T, cfg stack.Config) *env {
	t.Helper()
	e := &env{in: intaketest.New(t)}
	e.tracer = e.in.Tracer(t, "search")
	e.segTracer = e.in.Tracer(t, "segmenter")
	core, logs := observer.New(zap.InfoLevel)
	e.logs = logs
	cfg.Search.Tracer = e.tracer
	cfg.Segmenter.Tracer = e.segTracer
	if cfg.CatalogSize == 0 {
		cfg.CatalogSize = testCatalogSize
	}
	cfg.Logger = zap.New(core)
	st, err := stack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	e.client = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		e.client.CloseIdleConnections()
		if err := st.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return e
}

func (e *env) get(t *testing.T, query string) (int, search.Answer, string) {
	t.Helper()
	resp, err := e.client.Get(e.st.SearchURL + "/search?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a search.Answer
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("answer %s: %v", raw, err)
		}
	}
	return resp.StatusCode, a, string(raw)
}

// flush sends what the tracers hold to the intake.
func (e *env) flush() {
	e.tracer.Flush(nil)
	e.segTracer.Flush(nil)
}

// trace returns the transactions named name, with their child spans and transactions by name.
func (e *env) trace(t *testing.T, name string) []map[string]intaketest.Event {
	t.Helper()
	var out []map[string]intaketest.Event
	for _, tx := range e.in.Transactions() {
		if tx.Name != name {
			continue
		}
		m := map[string]intaketest.Event{"": tx}
		for _, c := range e.in.Children(tx.ID) {
			m[c.Name] = c
		}
		out = append(out, m)
	}
	return out
}

const esSpan = "Elasticsearch: POST products/_search" // as apmelasticsearch names it

// TestSearchEndToEnd: a search goes through the segmenter, query building and Elasticsearch (the
// stand-in), answers relevant products, and leaves one trace across both services with the three
// spans, took on the Elasticsearch one, and log lines carrying its ids.
func TestSearchEndToEnd(t *testing.T) {
	e := startStack(t, stack.Config{})
	status, a, raw := e.get(t, "q="+url.QueryEscape("나이키러닝화"))
	if status != 200 {
		t.Fatalf("%d %s", status, raw)
	}
	if strings.Join(a.Tokens, ",") != "나이키,러닝화" || len(a.Units) != 2 || a.Ranking != search.RankDefault {
		t.Errorf("tokens %q units %+v ranking %s", a.Tokens, a.Units, a.Ranking)
	}
	if a.Total == 0 || len(a.Hits) != search.DefaultSize {
		t.Fatalf("total %d, %d hits: %s", a.Total, len(a.Hits), raw)
	}
	for _, h := range a.Hits[:3] {
		lower := strings.ToLower(h.Title)
		if h.Brand != "nike" || !(strings.Contains(lower, "러닝화") || strings.Contains(lower, "running shoes") || strings.Contains(lower, "조깅화")) {
			t.Errorf("hit %+v is not Nike running shoes", h)
		}
	}
	for i := 1; i < len(a.Hits); i++ {
		if a.Hits[i].Score > a.Hits[i-1].Score {
			t.Errorf("hits not sorted by score: %v after %v", a.Hits[i].Score, a.Hits[i-1].Score)
		}
	}
	e.flush()

	traces := e.trace(t, "GET /search")
	if len(traces) != 1 {
		t.Fatalf("%d GET /search transactions", len(traces))
	}
	tr := traces[0]
	tx := tr[""]
	seg, build, es := tr["POST segmenter"], tr["build query"], tr[esSpan]
	if seg.ID == "" || build.ID == "" || es.ID == "" {
		t.Fatalf("spans under GET /search: %v", tr)
	}
	if seg.Context.Service.Target.Name != "segmenter" {
		t.Errorf("segmenter span's target %+v", seg.Context.Service.Target)
	}
	if build.Type != "app" || build.Subtype != "query" || build.Context.Tags["query_units"] != 2.0 || build.Context.Tags["ranking"] != "default" {
		t.Errorf("build query span %+v", build)
	}
	if took, ok := es.Context.Tags["es_took_ms"].(float64); !ok || took < 0 || took > es.Duration {
		t.Errorf("Elasticsearch span: took %v (span %v ms), tags %v", es.Context.Tags["es_took_ms"], es.Duration, es.Context.Tags)
	}
	if es.Context.Tags["es_hits"] != float64(a.Total) || !strings.Contains(es.Context.DB.Statement, "script_score") {
		t.Errorf("Elasticsearch span tags %v, statement %.200s", es.Context.Tags, es.Context.DB.Statement)
	}
	// The segmenter continued the trace: its transaction is a child of the segmenter span.
	var segTx intaketest.Event
	for _, c := range e.in.Children(seg.ID) {
		segTx = c
	}
	if segTx.Name != "POST /segment" || segTx.Service != "segmenter" || segTx.TraceID != tx.TraceID {
		t.Errorf("segmenter transaction %+v, want POST /segment of service segmenter in trace %s", segTx, tx.TraceID)
	}
	lines := e.logs.FilterMessage("search").All()
	if len(lines) != 1 || lines[0].ContextMap()["trace.id"] != tx.TraceID || lines[0].ContextMap()["transaction.id"] != tx.ID {
		t.Errorf("'search' log lines %v, want one with the trace's ids", lines)
	}
}

func TestFiltersAndPaging(t *testing.T) {
	e := startStack(t, stack.Config{})
	status, a, raw := e.get(t, "q=shoes&category=shoes&min_price=50000&max_price=100000&size=20")
	if status != 200 || len(a.Hits) == 0 {
		t.Fatalf("%d %s", status, raw)
	}
	for _, h := range a.Hits {
		if h.Category != "shoes" || h.Price < 50000 || h.Price > 100000 {
			t.Errorf("hit %+v outside the filters", h)
		}
	}
	_, page2, _ := e.get(t, "q=shoes&category=shoes&min_price=50000&max_price=100000&size=10&from=10")
	if len(page2.Hits) == 0 || page2.Hits[0].ID != a.Hits[10].ID {
		t.Errorf("from=10 starts with %+v, want %+v", page2.Hits, a.Hits[10])
	}
	_, nike, _ := e.get(t, "q=shoes&brand=nike")
	for _, h := range nike.Hits {
		if h.Brand != "nike" {
			t.Errorf("brand filter: %+v", h)
		}
	}
}

func TestBadRequests(t *testing.T) {
	e := startStack(t, stack.Config{})
	fits := strings.Repeat("a", search.DefaultMaxQueryBytes)
	for _, tc := range []struct {
		query  string
		status int
		want   string
	}{
		{"", 400, "missing q"},
		{"q=+++", 400, "missing q"},
		{"q=%21%3F", 400, "no searchable words"},
		{"q=a&q=b", 400, "given 2 times"},
		{"q=a&color=red", 400, "unknown parameter"},
		{"q=" + fits, 200, ""},
		{"q=" + fits + "a", 400, "more than 4096"},
		{"q=a&min_price=10&max_price=5", 400, "above max_price"},
		{"q=a&size=0", 400, "size must be"},
		{"q=a&size=51", 400, "size must be"},
		{"q=a&from=1001", 400, "from must be"},
		{"q=a&rank=fast", 400, "rank must be"},
		{"q=a&category=Shoes", 400, "category may hold"},
	} {
		status, _, raw := e.get(t, tc.query)
		if status != tc.status || !strings.Contains(raw, tc.want) {
			t.Errorf("%.60s: %d %s, want %d with %q", tc.query, status, raw, tc.status, tc.want)
		}
	}
}

// TestSegmenterDown: a search whose segmenter cannot be reached answers 502 and logs an error with the
// trace's ids.
func TestSegmenterDown(t *testing.T) {
	dead := httpServerClosed(t)
	e := startStack(t, stack.Config{SegmenterURL: dead})
	status, _, raw := e.get(t, "q=shoes")
	if status != http.StatusBadGateway || !strings.Contains(raw, "segmenter unavailable") {
		t.Errorf("%d %s", status, raw)
	}
	lines := e.logs.FilterMessage("segmenter failed").All()
	if len(lines) != 1 || lines[0].ContextMap()["trace.id"] == nil {
		t.Errorf("log lines %v", lines)
	}
}

// TestSegmenterDownWithFailover: with the breaker on, a search whose segmenter fails is served by
// nobody (served_by rejected, 502), and the breaker, which counts Elasticsearch's failures only, stays
// closed.
func TestSegmenterDownWithFailover(t *testing.T) {
	e := startStack(t, stack.Config{SegmenterURL: httpServerClosed(t),
		Search: search.Config{Failover: search.Failover{On: true, TripAfter: 1}}})
	for range 2 {
		if status, _, raw := e.get(t, "q=shoes"); status != http.StatusBadGateway || !strings.Contains(raw, "segmenter unavailable") {
			t.Fatalf("%d %s", status, raw)
		}
	}
	if state, _ := e.st.Service.Breaker().State(); state != "closed" {
		t.Errorf("breaker %s after segmenter failures", state)
	}
	e.flush()
	n := 0
	for _, tx := range e.in.Transactions() {
		if tx.Name == "GET /search" {
			n++
			if l := tx.Context.Tags; l["served_by"] != "rejected" || l["breaker_decision"] != "allowed" {
				t.Errorf("labels %v", l)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d search transactions, want 2", n)
	}
}

// httpServerClosed returns the URL of a loopback port nothing listens on.
func httpServerClosed(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestQuadraticSynonymsTrouble: with the trouble on, the query-build span counts n(n+1)/2 × terms
// comparisons for n tokens that are no synonym; without it, one lookup per token and length.
func TestQuadraticSynonymsTrouble(t *testing.T) {
	terms := search.DefaultSynonyms().Terms()
	maxTokens := search.DefaultSynonyms().MaxTokens()
	var words []string
	for i := range 40 {
		words = append(words, fmt.Sprintf("zz%d", i))
	}
	q := "q=" + url.QueryEscape(strings.Join(words, " "))
	n := len(words)
	for _, quadratic := range []bool{false, true} {
		e := startStack(t, stack.Config{Search: search.Config{Trouble: search.Trouble{QuadraticSynonyms: quadratic}}})
		if status, _, raw := e.get(t, q); status != 200 {
			t.Fatalf("%d %s", status, raw)
		}
		e.flush()
		build := e.trace(t, "GET /search")[0]["build query"]
		want := 0
		if quadratic {
			want = n * (n + 1) / 2 * terms
		} else {
			for i := range n {
				want += min(maxTokens, n-i)
			}
		}
		if got := build.Context.Tags["synonym_ops"]; got != float64(want) {
			t.Errorf("quadratic %v: synonym_ops %v, want %d", quadratic, got, want)
		}
	}
}

// TestHeavyRanking: rank=personalized runs the big script, which makes Elasticsearch do far more work for
// the same matches; Trouble.HeavyRanking 1 picks it for every request.
func TestHeavyRanking(t *testing.T) {
	e := startStack(t, stack.Config{})
	work := func(query string) (search.Answer, int64) {
		before := e.st.StandIn.Stats().Work
		status, a, raw := e.get(t, query)
		if status != 200 {
			t.Fatalf("%d %s", status, raw)
		}
		return a, e.st.StandIn.Stats().Work - before
	}
	light, lightWork := work("q=shoes")
	heavy, heavyWork := work("q=shoes&rank=personalized&user=u1")
	if light.Ranking != search.RankDefault || heavy.Ranking != search.RankPersonalized || light.Total != heavy.Total {
		t.Errorf("rankings %s %s, totals %d %d", light.Ranking, heavy.Ranking, light.Total, heavy.Total)
	}
	if heavyWork < 50*lightWork {
		t.Errorf("personalized ranking did %d units of work, default %d: want far more", heavyWork, lightWork)
	}
	if _, again := work("q=shoes&rank=personalized&user=u1"); again != heavyWork {
		t.Errorf("the same personalized search did %d then %d units of work", heavyWork, again)
	}

	always := startStack(t, stack.Config{Search: search.Config{Trouble: search.Trouble{HeavyRanking: 1}}})
	if _, a, _ := always.get(t, "q=shoes"); a.Ranking != search.RankPersonalized {
		t.Errorf("HeavyRanking 1: ranking %s", a.Ranking)
	}
	if _, a, _ := always.get(t, "q=shoes&rank=default"); a.Ranking != search.RankDefault {
		t.Errorf("HeavyRanking 1 with rank=default: ranking %s", a.Ranking)
	}
}

// TestSlowSegmenter: a slow segmenter call makes the request slow, the time spent in the segmenter span.
func TestSlowSegmenter(t *testing.T) {
	const delay = 300 * time.Millisecond
	e := startStack(t, stack.Config{Segmenter: segmenter.Config{SlowFraction: 1, SlowDelay: delay}})
	if status, _, raw := e.get(t, "q=shoes"); status != 200 {
		t.Fatalf("%d %s", status, raw)
	}
	e.flush()
	tr := e.trace(t, "GET /search")[0]
	if d := tr["POST segmenter"].Duration; d < float64(delay.Milliseconds()) {
		t.Errorf("segmenter span %v ms, want at least %v", d, delay)
	}
	if d := tr[""].Duration; d < float64(delay.Milliseconds()) {
		t.Errorf("transaction %v ms, want at least %v", d, delay)
	}
	if tr[""].Context.Tags["slow"] != nil {
		t.Errorf("a 300 ms request is labelled slow under the default 500 ms threshold: %v", tr[""].Context.Tags)
	}
}
