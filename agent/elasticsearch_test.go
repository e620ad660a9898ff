package agent_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

// fakeES stands in for Elasticsearch, which cannot run here. It is strict about what a client
// sends: only the routes a test declares, JSON (or ndjson for _bulk) bodies that parse, and it answers the
// way Elasticsearch 8 does (X-Elastic-Product header, JSON). It keeps each request body it received.
type fakeES struct {
	t      *testing.T
	srv    *httptest.Server
	routes map[string]fakeAnswer // "METHOD /path"

	mu       sync.Mutex
	bodies   []string
	tracings []string // traceparent headers received
}

type fakeAnswer struct {
	status int
	body   []byte
}

func newFakeES(t *testing.T, routes map[string]fakeAnswer) *fakeES {
	es := &fakeES{t: t, routes: routes}
	es.srv = httptest.NewServer(http.HandlerFunc(es.serve))
	t.Cleanup(es.srv.Close)
	return es
}

func (es *fakeES) serve(w http.ResponseWriter, r *http.Request) {
	answer, ok := es.routes[r.Method+" "+r.URL.Path]
	if !ok {
		es.t.Errorf("fake Elasticsearch: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		es.t.Errorf("fake Elasticsearch: read body: %v", err)
		return
	}
	if len(body) > 0 {
		ct := r.Header.Get("Content-Type")
		if strings.HasSuffix(r.URL.Path, "/_bulk") {
			sc := bufio.NewScanner(bytes.NewReader(body))
			for sc.Scan() {
				if !json.Valid(sc.Bytes()) {
					es.t.Errorf("fake Elasticsearch: bulk line is not JSON: %q", sc.Bytes())
				}
			}
		} else if !json.Valid(body) {
			es.t.Errorf("fake Elasticsearch: body is not JSON: %q", body)
		}
		if !strings.Contains(ct, "json") {
			es.t.Errorf("fake Elasticsearch: content type %q", ct)
		}
	}
	es.mu.Lock()
	es.bodies = append(es.bodies, string(body))
	es.tracings = append(es.tracings, r.Header.Get("Traceparent"))
	es.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(answer.status)
	w.Write(answer.body)
}

// esClient sends what go-elasticsearch sends for the calls these tests make, through the transport
// under test. The agent module does not depend on go-elasticsearch (a service that imports the agent
// does not get it in its module graph); the real client through ElasticsearchTransport is exercised in
// the root module (examples/basic, examples/search and cmd/hotpath's search service tests).
type esClient struct {
	url       string
	transport http.RoundTripper
}

func (es *fakeES) client(opts ...agent.ElasticsearchOption) esClient {
	return esClient{url: es.srv.URL, transport: agent.ElasticsearchTransport(es.srv.Client().Transport, opts...)}
}

// search is go-elasticsearch's Search with an index and a body.
func (c esClient) search(ctx context.Context, index, body string) (*http.Response, error) {
	return c.do(ctx, "/"+index+"/_search", "application/json", body)
}

// bulk is go-elasticsearch's Bulk.
func (c esClient) bulk(ctx context.Context, body string) (*http.Response, error) {
	return c.do(ctx, "/_bulk", "application/x-ndjson", body)
}

func (c esClient) do(ctx context.Context, path, contentType, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.url+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := (&http.Client{Transport: c.transport}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch %s: %w", path, err)
	}
	return resp, nil
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inTransaction runs f in a transaction of tracer, ends it and flushes, returning the transaction's ids.
func inTransaction(tracer *apm.Tracer, f func(ctx context.Context)) (traceID, txID string) {
	tx := tracer.StartTransaction("GET /search", "request")
	f(apm.ContextWithTransaction(context.Background(), tx))
	tc := tx.TraceContext()
	tx.End()
	tracer.Flush(nil)
	return tc.Trace.String(), tc.Span.String()
}

const query = `{"query":{"bool":{"must":[{"match":{"title":"red shoes"}}],"filter":[{"range":{"price":{"lte":100}}}]}}}`

func TestElasticsearchSpan(t *testing.T) {
	in := newIntake(t)
	tracer := tracer(t, in)
	es := newFakeES(t, map[string]fakeAnswer{
		"POST /products/_search": {200, testdata(t, "search.json")},
		"POST /articles/_search": {200, testdata(t, "search_partial.json")},
		"POST /nope/_search":     {404, testdata(t, "error.json")},
		"POST /_bulk":            {200, testdata(t, "bulk.json")},
	})
	client := es.client()
	traceID, txID := inTransaction(tracer, func(ctx context.Context) {
		for _, index := range []string{"products", "articles", "nope"} {
			res, err := client.search(ctx, index, query)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		res, err := client.bulk(ctx, "{\"index\":{\"_index\":\"products\",\"_id\":\"1\"}}\n{\"title\":\"x\"}\n")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	})

	spans := map[string]sentSpan{}
	for _, s := range decode[sentSpan](t, in, "span") {
		spans[s.Name] = s
	}
	shape, err := queryshape.Search([]byte(query))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		labels    map[string]any
		statement string
		outcome   string
	}{
		"Elasticsearch: POST products/_search": {map[string]any{"es_index": "products", "es_took_ms": 42.0,
			"es_timed_out": false, "es_shards_failed": 0.0, "es_hits": 1234.0,
			"es_query_shape": shape.ID, "es_query_summary": shape.Summary}, query, "success"},
		"Elasticsearch: POST articles/_search": {map[string]any{"es_index": "articles", "es_took_ms": 5012.0,
			"es_timed_out": true, "es_shards_failed": 2.0, "es_hits": 88.0,
			"es_query_shape": shape.ID, "es_query_summary": shape.Summary}, query, "success"},
		"Elasticsearch: POST nope/_search": {map[string]any{"es_index": "nope",
			"es_query_shape": shape.ID, "es_query_summary": shape.Summary}, query, "failure"},
		"Elasticsearch: POST _bulk": {map[string]any{"es_took_ms": 30.0, "es_errors": true}, "", "success"},
	} {
		s, ok := spans[name]
		if !ok {
			t.Errorf("no span %q (have %v)", name, keys(spans))
			continue
		}
		if s.TraceID != traceID || s.TransactionID != txID || s.ParentID != txID {
			t.Errorf("%s: ids %s %s %s, want %s %s %s", name, s.TraceID, s.TransactionID, s.ParentID, traceID, txID, txID)
		}
		if s.Type != "db" || s.Subtype != "elasticsearch" || s.Outcome != want.outcome {
			t.Errorf("%s: %s.%s outcome %s, want db.elasticsearch %s", name, s.Type, s.Subtype, s.Outcome, want.outcome)
		}
		if len(s.Context.Tags) != len(want.labels) {
			t.Errorf("%s: labels %v, want %v", name, s.Context.Tags, want.labels)
		}
		for k, v := range want.labels {
			if s.Context.Tags[k] != v {
				t.Errorf("%s: label %s = %v, want %v", name, k, s.Context.Tags[k], v)
			}
		}
		statement := ""
		if s.Context.DB != nil {
			statement = s.Context.DB.Statement
		}
		if statement != want.statement {
			t.Errorf("%s: statement %q, want %q", name, statement, want.statement)
		}
	}
	// Elasticsearch got the whole bodies and the trace context of each span.
	es.mu.Lock()
	defer es.mu.Unlock()
	for i, b := range es.bodies[:3] {
		if b != query {
			t.Errorf("request %d: Elasticsearch got %q", i, b)
		}
	}
	if want := "00-" + traceID + "-" + spans["Elasticsearch: POST products/_search"].ID + "-01"; es.tracings[0] != want {
		t.Errorf("traceparent %q, want %q", es.tracings[0], want)
	}
}

func TestElasticsearchStatementLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []agent.ElasticsearchOption
		want string
	}{
		{"default", nil, query},
		{"capped", []agent.ElasticsearchOption{agent.WithStatementLimit(20)}, query[:20]},
		{"exactly", []agent.ElasticsearchOption{agent.WithStatementLimit(len(query))}, query},
		{"off", []agent.ElasticsearchOption{agent.WithStatementLimit(0)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newIntake(t)
			tracer := tracer(t, in)
			es := newFakeES(t, map[string]fakeAnswer{"POST /products/_search": {200, testdata(t, "search.json")}})
			client := es.client(tc.opts...)
			transport := agent.ElasticsearchTransport(es.srv.Client().Transport, tc.opts...)
			inTransaction(tracer, func(ctx context.Context) {
				res, err := client.search(ctx, "products", query)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				// A request whose body cannot be read twice (no GetBody).
				req, _ := http.NewRequestWithContext(ctx, "POST", es.srv.URL+"/products/_search",
					io.MultiReader(strings.NewReader(query[:10]), strings.NewReader(query[10:])))
				req.Header.Set("Content-Type", "application/json")
				resp, err := transport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
			spans := decode[sentSpan](t, in, "span")
			if len(spans) != 2 {
				t.Fatalf("%d spans", len(spans))
			}
			whole, _ := queryshape.Search([]byte(query))
			var shaped, cut int
			for _, s := range spans {
				if s.Context.Tags["es_query_shape"] == whole.ID {
					shaped++
				}
				if s.Context.Tags["es_query_truncated"] == true {
					cut++
				}
			}
			// With GetBody (go-elasticsearch's request), the whole body is shaped; without, the
			// statement read: cut, and marked so, when the limit is below the body's length.
			switch tc.name {
			case "capped":
				if shaped != 1 || cut != 1 {
					t.Errorf("capped: %d spans with the whole shape, %d truncated; want 1 and 1", shaped, cut)
				}
			case "off":
				if shaped != 1 || cut != 0 {
					t.Errorf("off: %d spans with the whole shape, %d truncated; want 1 and 0", shaped, cut)
				}
			default:
				if shaped != 2 || cut != 0 {
					t.Errorf("%d spans with the shape, %d truncated; want 2 and 0", shaped, cut)
				}
			}
			for _, s := range spans {
				got := ""
				if s.Context.DB != nil {
					got = s.Context.DB.Statement
				}
				if got != tc.want {
					t.Errorf("statement %q, want %q", got, tc.want)
				}
				if s.Context.Tags["es_took_ms"] != 42.0 {
					t.Errorf("took %v", s.Context.Tags["es_took_ms"])
				}
			}
			es.mu.Lock()
			defer es.mu.Unlock()
			for _, b := range es.bodies {
				if b != query {
					t.Errorf("Elasticsearch got %q, want the whole query", b)
				}
			}
		})
	}
}

// TestElasticsearchTookFromTheStartOfTheBody: the caller reads 300 bytes of a 4 MB answer and closes it;
// the span still has took and the hit count, and the caller got the bytes Elasticsearch sent.
func TestElasticsearchTookFromTheStartOfTheBody(t *testing.T) {
	var big bytes.Buffer
	big.WriteString(`{"took":1500,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},` +
		`"hits":{"total":{"value":50000,"relation":"eq"},"max_score":1.0,"hits":[`)
	for i := 0; big.Len() < 4<<20; i++ {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `{"_index":"products","_id":"%d","_score":1.0,"_source":{"title":"product %d"}}`, i, i)
	}
	big.WriteString("]}}")
	in := newIntake(t)
	tracer := tracer(t, in)
	es := newFakeES(t, map[string]fakeAnswer{"POST /products/_search": {200, big.Bytes()}})
	client := es.client()
	inTransaction(tracer, func(ctx context.Context) {
		res, err := client.search(ctx, "products", query)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 300)
		if _, err := io.ReadFull(res.Body, head); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if !bytes.Equal(head, big.Bytes()[:300]) {
			t.Errorf("caller got %q", head)
		}
	})
	spans := decode[sentSpan](t, in, "span")
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	if tags := spans[0].Context.Tags; tags["es_took_ms"] != 1500.0 || tags["es_hits"] != 50000.0 {
		t.Fatalf("labels %v", tags)
	}
}

// TestElasticsearchOutsideTransaction: no transaction, no span, body untouched.
func TestElasticsearchOutsideTransaction(t *testing.T) {
	es := newFakeES(t, map[string]fakeAnswer{"POST /products/_search": {200, testdata(t, "search.json")}})
	client := es.client()
	res, err := client.search(context.Background(), "products", query)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(body, testdata(t, "search.json")) {
		t.Fatal("body changed")
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	if es.bodies[0] != query || es.tracings[0] != "" {
		t.Fatalf("Elasticsearch got %q, traceparent %q", es.bodies[0], es.tracings[0])
	}
}
