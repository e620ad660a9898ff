package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
)

// The search service the UI and query API tests fill a collector with: a real HTTP service traced by the
// real Elastic Go agent (agent.Wrap), which builds a query (a span, in which it calls a segmenter through
// agent.WrapClient), searches Elasticsearch with go-elasticsearch through agent.ElasticsearchTransport,
// and ranks the results (a span). Elasticsearch is a strict stand-in (it cannot run here): it accepts only
// POST /products/_search with a JSON body and answers as Elasticsearch 8 does, with "took".

// searchTraffic is what fillSearchService sends, and so what a test may expect to find.
const (
	searchFast     = 12 // GET /search?q=shoes<i>, fast
	searchSuggests = 6  // GET /suggest
	// One GET /search?q=slow, whose Elasticsearch round-trip takes slowESDelay (Elasticsearch reports
	// slowTook ms of it): the slowest transaction. One GET /search?q=fail, which Elasticsearch answers
	// 503: an error.
	slowESDelay = 350 * time.Millisecond
	slowTook    = 340
	slowQuery   = "slow"
	failQuery   = "fail"
)

const esSearchName = "Elasticsearch: POST products/_search" // as apmelasticsearch names it

// stubElasticsearch answers searches after a delay the query asks for: a body mentioning "slow" waits
// slowESDelay, one mentioning "fail" gets a 503; others wait 2 to 13 ms. "took" is the delay in ms, less
// 10 ms of "network" for the slow one.
func stubElasticsearch(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/products/_search" {
			t.Errorf("stub Elasticsearch: unexpected %s %s", r.Method, r.URL.Path)
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil || !json.Valid(body) || !strings.Contains(r.Header.Get("Content-Type"), "json") {
			t.Errorf("stub Elasticsearch: body %q (%v), content type %q", body, err, r.Header.Get("Content-Type"))
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		delay, took := time.Duration(2+len(body)%12)*time.Millisecond, 0
		switch {
		case bytes.Contains(body, []byte(failQuery)):
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"root_cause":[],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":503}`)
			return
		case bytes.Contains(body, []byte(slowQuery)):
			delay, took = slowESDelay, slowTook
		default:
			took = int(delay / time.Millisecond)
		}
		time.Sleep(delay) // the service's latency, which the test measures: not synchronisation
		fmt.Fprintf(w, `{"took":%d,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},`+
			`"hits":{"total":{"value":3,"relation":"eq"},"max_score":1.0,"hits":[]}}`, took)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func stubSegmenter(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/segment" {
			t.Errorf("stub segmenter: unexpected %s %s", r.Method, r.URL.Path)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"tokens":["running","shoe"]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fillSearchService runs the search service with the real Go agent sending to collectorURL (with the
// secret token, if any), sends it the traffic described above, and returns when the agent has sent
// everything, breakdown metrics included, and the collector has acknowledged it (intake answers only
// once the store has committed). With history, the agent first records historyMinutes of earlier
// GET /search transactions (see recordHistory).
func fillSearchService(t *testing.T, collectorURL, secretToken string, history bool) {
	t.Helper()
	tracer := newTestTracer(t, collectorURL, secretToken, "search", "1.4.2")
	defer tracer.Close()

	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{stubElasticsearch(t).URL}, Transport: agent.ElasticsearchTransport(nil), DisableRetry: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	segmenterURL := stubSegmenter(t).URL + "/segment"
	segmenter := agent.WrapClient(nil, agent.WithTargetService("segmenter"))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := r.URL.Query().Get("q")
		span, qctx := apm.StartSpan(ctx, "build query", "app.internal")
		req, _ := http.NewRequestWithContext(qctx, http.MethodPost, segmenterURL, strings.NewReader(`{"text":"`+q+`"}`))
		resp, err := segmenter.Do(req)
		if err != nil {
			span.End()
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		body := `{"query":{"match":{"title":"running ` + q + `"}},"size":20}`
		span.End()

		res, err := es.Search(es.Search.WithContext(ctx), es.Search.WithIndex("products"), es.Search.WithBody(strings.NewReader(body)))
		if err != nil {
			apm.CaptureError(ctx, err).Send()
			http.Error(w, "search failed", http.StatusBadGateway)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.IsError() {
			apm.CaptureError(ctx, fmt.Errorf("search: Elasticsearch answered %s", res.Status())).Send()
			http.Error(w, "search failed", http.StatusBadGateway)
			return
		}
		rank, _ := apm.StartSpan(ctx, "rank results", "app.internal")
		rank.End()
		fmt.Fprint(w, `{"hits":[]}`)
	})
	mux.HandleFunc("GET /suggest", func(w http.ResponseWriter, r *http.Request) {
		span, _ := apm.StartSpan(r.Context(), "prefix lookup", "app.internal")
		span.End()
		fmt.Fprint(w, `{"suggestions":[]}`)
	})
	historyTx, historyErrs := 0, 0
	if history {
		historyTx, historyErrs = recordHistory(tracer, time.Now())
	}
	svc := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer), agent.WithRouteSlowThreshold("GET /search", 200*time.Millisecond)))
	defer svc.Close()

	var paths []string
	for i := range searchFast {
		paths = append(paths, fmt.Sprintf("/search?q=shoes%d", i))
	}
	paths = append(paths, "/search?q="+slowQuery, "/search?q="+failQuery)
	for i := range searchSuggests {
		paths = append(paths, fmt.Sprintf("/suggest?q=sh%d", i))
	}
	for _, p := range paths {
		resp, err := http.Get(svc.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if want := strings.Contains(p, failQuery); (resp.StatusCode != http.StatusOK) != want {
			t.Fatalf("%s: %s", p, resp.Status)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tracer.Flush(ctx.Done())
	tracer.SendMetrics(ctx.Done()) // the breakdown of the span types' self time
	tracer.Flush(ctx.Done())
	if ctx.Err() != nil {
		t.Fatal("the agent did not finish sending in 30 s")
	}
	if s := tracer.Stats(); s.Errors.SendStream != 0 || s.TransactionsDropped != 0 || s.SpansDropped != 0 ||
		s.TransactionsSent != uint64(len(paths)+historyTx) || s.ErrorsSent != uint64(1+historyErrs) {
		t.Fatalf("agent stats %+v", s)
	}
}

// historyMinutes is how far back recordHistory goes.
const historyMinutes = 45

// recordHistory records, with the agent's API and start times in the past, historyMinutes of GET /search
// transactions before now: six a minute, 8 to 40 ms, with the spans the service makes, and from 15
// minutes ago on one a minute of 120 to 300 ms (a slow Elasticsearch), the story the latency chart then
// tells. One in fifty fails, with an error. None is as slow as the live slow request. It returns how
// many transactions and errors it recorded.
func recordHistory(tracer *apm.Tracer, now time.Time) (n, errs int) {
	for m := historyMinutes; m > 0; m-- {
		for k := range 6 {
			start := now.Add(-time.Duration(m)*time.Minute + time.Duration(k)*9*time.Second)
			d := time.Duration(8+(m*7+k*13)%33) * time.Millisecond
			if m <= 15 && k == 0 {
				d = time.Duration(120+(m*37)%181) * time.Millisecond
			}
			tx := tracer.StartTransactionOptions("GET /search", "request", apm.TransactionOptions{Start: start})
			status := http.StatusOK
			if n%50 == 49 {
				status = http.StatusBadGateway
			}
			tx.Context.SetHTTPStatusCode(status)
			tx.Result = fmt.Sprintf("HTTP %dxx", status/100)
			tx.Outcome = "success"
			if status >= 500 {
				tx.Outcome = "failure"
			}
			build := tx.StartSpanOptions("build query", "app.internal", apm.SpanOptions{Start: start.Add(time.Millisecond)})
			seg := tx.StartSpanOptions("POST segmenter", "external.http", apm.SpanOptions{Start: start.Add(2 * time.Millisecond), Parent: build.TraceContext()})
			seg.Duration = 2 * time.Millisecond
			seg.End()
			build.Duration = 4 * time.Millisecond
			build.End()
			es := tx.StartSpanOptions(esSearchName, "db.elasticsearch.request", apm.SpanOptions{Start: start.Add(5 * time.Millisecond)})
			es.Context.SetDatabase(apm.DatabaseSpanContext{Type: "elasticsearch", Statement: `{"query":{"match":{"title":"running shoes"}},"size":20}`})
			es.Context.SetLabel("es_took_ms", int(max(d-9*time.Millisecond, 0)/time.Millisecond))
			es.Duration = d - 7*time.Millisecond
			es.End()
			if status >= 500 {
				e := tracer.NewError(errors.New("search: Elasticsearch answered 503 Service Unavailable"))
				e.SetTransaction(tx)
				e.Handled = true
				e.Timestamp = start.Add(d - time.Millisecond)
				e.Send()
				errs++
			}
			tx.Duration = d
			tx.End()
			n++
		}
		// The agent buffers a bounded number of events and drops the rest: let it send each minute's.
		tracer.Flush(nil)
	}
	return n, errs
}
