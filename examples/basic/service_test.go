package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
)

// TestMain checks that the service leaves no goroutine behind once run returns. apmhttp.Wrap creates
// apm.DefaultTracer() even when given another tracer; it is closed first.
func TestMain(m *testing.M) {
	code := m.Run()
	apm.DefaultTracer().Close()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// event is the part of an intake v2 event the test looks at.
type event struct {
	Name     string `json:"name"`
	ParentID string `json:"parent_id"`
	ID       string `json:"id"`
	TraceID  string `json:"trace_id"`
	Context  struct {
		Tags map[string]any `json:"tags"`
	} `json:"context"`
}

// TestService runs the example against an intake and a stand-in for Elasticsearch (which cannot run
// here), over real HTTP on loopback, and checks the trace it produces.
func TestService(t *testing.T) {
	in := agenttest.NewIntake(t)
	tracer := in.Tracer(t, agenttest.Options{Service: "basic"})

	searchAnswer, err := os.ReadFile("testdata/search.json")
	if err != nil {
		t.Fatal(err)
	}
	var esGot string
	es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/products/_search" {
			t.Errorf("Elasticsearch: unexpected %s %s", r.Method, r.URL)
		}
		b, _ := io.ReadAll(r.Body)
		esGot = string(b)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.Write(searchAnswer)
	}))
	defer es.Close()

	core, logs := observer.New(zap.InfoLevel)
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{Addr: "127.0.0.1:0", ElasticsearchURL: es.URL, SlowThreshold: 50 * time.Millisecond,
			Tracer: tracer, Logger: zap.New(core), Ready: func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", path, resp.Status, b)
		}
		return string(b)
	}
	if got := get("/search?q=Red+Shoes"); strings.TrimSpace(got) != `{"hits":1234,"terms":["red","shoes"]}` {
		t.Errorf("search answered %s", got)
	}
	if want := `{"query":{"bool":{"must":[{"match":{"title":"red"}},{"match":{"title":"shoes"}}]}}}`; esGot != want {
		t.Errorf("Elasticsearch got %s, want %s", esGot, want)
	}
	get("/healthz")
	get("/report/daily?wait=200ms") // crosses the 50 ms threshold while running

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	tracer.Flush(nil)

	transactions, spans := map[string]event{}, map[string]event{}
	for _, e := range agenttest.Decode[event](t, in, "transaction") {
		transactions[e.Name] = e
	}
	for _, e := range agenttest.Decode[event](t, in, "span") {
		spans[e.Name] = e
	}
	search, ok := transactions["GET /search"]
	if !ok {
		t.Fatalf("transactions %v", transactions)
	}
	if _, ok := transactions["GET /healthz"]; ok || len(transactions) != 3 {
		t.Errorf("transactions %v, want GET /search, POST /tokenize, GET /report/{name}", transactions)
	}
	for _, name := range []string{"POST segmenter", "build query", "Elasticsearch: POST products/_search"} {
		if s, ok := spans[name]; !ok || s.ParentID != search.ID {
			t.Errorf("span %q: %+v (present %v), want child of %s", name, s, ok, search.ID)
		}
	}
	if took := spans["Elasticsearch: POST products/_search"].Context.Tags["es_took_ms"]; took != 42.0 {
		t.Errorf("es_took_ms %v", took)
	}
	if tok := transactions["POST /tokenize"]; tok.ParentID != spans["POST segmenter"].ID {
		t.Errorf("segmenter transaction's parent %s, want the span %s", tok.ParentID, spans["POST segmenter"].ID)
	}
	report := transactions["GET /report/{name}"]
	if report.Context.Tags["slow"] != true || report.Context.Tags["seen_running_slow"] != true {
		t.Errorf("report labels %v", report.Context.Tags)
	}
	// The report, and only it, is slow by design; on a busy machine another request may cross the 50 ms
	// too, and is logged as well.
	var reportSlow int
	for _, e := range logs.FilterMessage("request still running past its threshold").All() {
		if e.ContextMap()["route"] == "GET /report/{name}" {
			reportSlow++
		}
	}
	if reportSlow != 1 {
		t.Errorf("%d slow-request log lines for the report, want 1: %v", reportSlow, logs.All())
	}
	searched := logs.FilterMessage("searched").All()
	if len(searched) != 1 || searched[0].ContextMap()["trace.id"] != search.TraceID {
		t.Errorf("'searched' log lines %v, want one with trace.id %s", searched, search.TraceID)
	}
}
