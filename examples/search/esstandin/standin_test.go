package esstandin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"go.uber.org/goleak"

	"github.com/hotpath-apm/hotpath/examples/search/loopback"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testMapping is a small index of products: analyzed title, keyword brand and tags, numbers.
const testMapping = `{
  "settings": {"number_of_shards": 1, "analysis": {"analyzer": {"terms": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}}}},
  "mappings": {"dynamic": "strict", "properties": {
    "title": {"type": "text", "analyzer": "terms"},
    "brand": {"type": "keyword"},
    "tags": {"type": "keyword"},
    "price": {"type": "long"},
    "rating": {"type": "float"},
    "score": {"type": "double"}
  }}
}`

// start serves a stand-in on loopback and returns it with a go-elasticsearch client for it.
func start(t testing.TB, cfg Config) (*StandIn, *elasticsearch.Client, string) {
	t.Helper()
	s := New(cfg)
	srv, err := loopback.Serve("", s.Handler())
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL()}, Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	return s, es, srv.URL()
}

type answer struct {
	status int
	body   map[string]any
	raw    string
}

// do performs a request with the client and decodes the answer.
func do(t testing.TB, status int, body io.ReadCloser) answer {
	t.Helper()
	defer body.Close()
	raw, _ := io.ReadAll(body)
	a := answer{status: status, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("answer %q: %v", raw, err)
		}
	}
	return a
}

func (a answer) errorType() string {
	e, _ := a.body["error"].(map[string]any)
	typ, _ := e["type"].(string)
	return typ
}

// perform sends a raw request through the client (its headers, its product check).
func perform(t testing.TB, es *elasticsearch.Client, method, path, contentType, body string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := es.Perform(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return do(t, resp.StatusCode, resp.Body)
}

// setup creates the "items" index with testMapping and loads docs (ndjson source lines, ids d0, d1...).
func setup(t testing.TB, es *elasticsearch.Client, docs ...string) {
	t.Helper()
	if a := perform(t, es, "PUT", "/items", "application/json", testMapping); a.status != 200 {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	if len(docs) == 0 {
		return
	}
	var b strings.Builder
	for i, d := range docs {
		b.WriteString(`{"index":{"_id":"d` + itoa(i) + `"}}` + "\n" + d + "\n")
	}
	a := perform(t, es, "POST", "/items/_bulk", "application/x-ndjson", b.String())
	if a.status != 200 || a.body["errors"] != false {
		t.Fatalf("bulk: %d %s", a.status, a.raw)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestInfoAndProductCheck(t *testing.T) {
	_, es, _ := start(t, Config{})
	res, err := es.Info()
	if err != nil {
		t.Fatal(err)
	}
	a := do(t, res.StatusCode, res.Body)
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" || a.body["cluster_name"] != "esstandin" {
		t.Errorf("info %s, headers %v", a.raw, res.Header)
	}
	if v := a.body["version"].(map[string]any); v["number"] != Version || v["build_type"] != "stand-in" {
		t.Errorf("version %v", v)
	}
}

func TestIndexLifecycle(t *testing.T) {
	_, es, _ := start(t, Config{})
	ctx := context.Background()
	exists := func() int {
		res, err := es.Indices.Exists([]string{"items"}, es.Indices.Exists.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := exists(); got != 404 {
		t.Errorf("HEAD before create: %d", got)
	}
	setup(t, es, `{"title":"Red shoes","brand":"nike","price":100}`, `{"title":"Blue shoes","brand":"adidas","price":80}`)
	if got := exists(); got != 200 {
		t.Errorf("HEAD after create: %d", got)
	}
	if a := perform(t, es, "PUT", "/items", "application/json", testMapping); a.status != 400 || a.errorType() != "resource_already_exists_exception" {
		t.Errorf("create twice: %d %s", a.status, a.raw)
	}
	res, err := es.Indices.Refresh(es.Indices.Refresh.WithIndex("items"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("refresh: %v %v", res, err)
	}
	res.Body.Close()
	res, err = es.Count(es.Count.WithIndex("items"))
	if err != nil {
		t.Fatal(err)
	}
	if a := do(t, res.StatusCode, res.Body); a.body["count"] != 2.0 {
		t.Errorf("count %s", a.raw)
	}
	if a := perform(t, es, "POST", "/items/_count", "application/json", `{"query":{"term":{"brand":"nike"}}}`); a.body["count"] != 1.0 {
		t.Errorf("count nike %s", a.raw)
	}
	res, err = es.Indices.Delete([]string{"items"})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("delete: %v %v", res, err)
	}
	res.Body.Close()
	if got := exists(); got != 404 {
		t.Errorf("HEAD after delete: %d", got)
	}
	if a := perform(t, es, "POST", "/items/_search", "application/json", `{}`); a.status != 404 || a.errorType() != "index_not_found_exception" {
		t.Errorf("search a deleted index: %d %s", a.status, a.raw)
	}
}

func TestCreateRefusals(t *testing.T) {
	_, es, _ := start(t, Config{})
	for _, tc := range []struct{ name, path, body, errType string }{
		{"no mappings", "/a", `{}`, "mapper_parsing_exception"},
		{"dynamic mapping", "/a", `{"mappings":{"properties":{"x":{"type":"keyword"}}}}`, "mapper_parsing_exception"},
		{"text without analyzer", "/a", `{"mappings":{"dynamic":false,"properties":{"x":{"type":"text"}}}}`, "mapper_parsing_exception"},
		{"undefined analyzer", "/a", `{"mappings":{"dynamic":false,"properties":{"x":{"type":"text","analyzer":"nori"}}}}`, "mapper_parsing_exception"},
		{"unknown type", "/a", `{"mappings":{"dynamic":false,"properties":{"x":{"type":"geo_point"}}}}`, "mapper_parsing_exception"},
		{"unknown parameter", "/a", `{"mappings":{"dynamic":false,"properties":{"x":{"type":"keyword","ignore_above":10}}}}`, "mapper_parsing_exception"},
		{"object field", "/a", `{"mappings":{"dynamic":false,"properties":{"x":{"properties":{}}}}}`, "mapper_parsing_exception"},
		{"unknown setting", "/a", `{"settings":{"index":{"codec":"best_compression"}},"mappings":{"dynamic":false}}`, "illegal_argument_exception"},
		{"other tokenizer", "/a", `{"settings":{"analysis":{"analyzer":{"t":{"type":"custom","tokenizer":"standard"}}}},"mappings":{"dynamic":false}}`, "illegal_argument_exception"},
		{"upper-case name", "/Items", `{"mappings":{"dynamic":false}}`, "invalid_index_name_exception"},
		{"name starting with -", "/-x", `{"mappings":{"dynamic":false}}`, "invalid_index_name_exception"},
		{"not JSON", "/a", `mappings`, "parsing_exception"},
	} {
		a := perform(t, es, "PUT", tc.path, "application/json", tc.body)
		if a.status != 400 || a.errorType() != tc.errType {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, a.status, a.raw, tc.errType)
		}
	}
}

func TestBulkItems(t *testing.T) {
	_, es, _ := start(t, Config{MaxDocuments: 3})
	setup(t, es)
	body := `{"index":{"_id":"a"}}
{"title":"one","price":"12"}
{"index":{"_id":"a"}}
{"title":"one again","price":12.7}
{"create":{"_id":"a"}}
{"title":"conflict"}
{"create":{"_index":"items","_id":"b"}}
{"title":"two","color":"red"}
{"index":{"_id":"c"}}
{"title":"three","price":"cheap"}
{"index":{"_id":"d"}}
{"title":"four","price":[1,2]}
{"delete":{"_id":"a"}}
{"delete":{"_id":"zz"}}
{"index":{"_index":"nope","_id":"e"}}
{"title":"five"}
{"index":{}}
{"title":"generated id"}
{"index":{"_id":"f"}}
{"title":"one too many"}
`
	a := perform(t, es, "POST", "/items/_bulk", "application/x-ndjson", body)
	if a.status != 200 || a.body["errors"] != true {
		t.Fatalf("bulk: %d %s", a.status, a.raw)
	}
	want := []struct {
		op     string
		status float64
		result string
		err    string
	}{
		{"index", 201, "created", ""},
		{"index", 200, "updated", ""},
		{"create", 409, "", "version_conflict_engine_exception"},
		{"create", 400, "", "strict_dynamic_mapping_exception"},
		{"index", 400, "", "document_parsing_exception"},
		{"index", 400, "", "document_parsing_exception"},
		{"delete", 200, "deleted", ""},
		{"delete", 404, "not_found", ""},
		{"index", 404, "", "index_not_found_exception"},
		{"index", 201, "created", ""},
		{"index", 429, "", "es_rejected_execution_exception"}, // 3 slots: a's two versions, the generated id
	}
	items := a.body["items"].([]any)
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d: %s", len(items), len(want), a.raw)
	}
	for i, w := range want {
		item := items[i].(map[string]any)[w.op].(map[string]any)
		errType := ""
		if e, ok := item["error"].(map[string]any); ok {
			errType = e["type"].(string)
		}
		if item["status"] != w.status || (w.result != "" && item["result"] != w.result) || errType != w.err {
			t.Errorf("item %d: %v, want %+v", i, item, w)
		}
	}
	if a := perform(t, es, "POST", "/items/_count", "application/json", ""); a.body["count"] != 1.0 {
		t.Errorf("count after bulk: %s (want only the generated-id document)", a.raw)
	}
}

func TestBulkRefusals(t *testing.T) {
	_, es, _ := start(t, Config{MaxBulkBytes: 200})
	setup(t, es)
	for _, tc := range []struct {
		name, path, body string
		status           int
		errType          string
	}{
		{"no final newline", "/items/_bulk", `{"index":{}}` + "\n" + `{"title":"a"}`, 400, "illegal_argument_exception"},
		{"update", "/items/_bulk", `{"update":{"_id":"a"}}` + "\n" + `{"doc":{}}` + "\n", 400, "illegal_argument_exception"},
		{"routing", "/items/_bulk", `{"index":{"routing":"x"}}` + "\n" + `{}` + "\n", 400, "illegal_argument_exception"},
		{"no index", "/_bulk", `{"index":{"_id":"a"}}` + "\n" + `{}` + "\n", 400, "action_request_validation_exception"},
		{"no source", "/items/_bulk", `{"index":{"_id":"a"}}` + "\n", 400, "illegal_argument_exception"},
		{"too large", "/items/_bulk", strings.Repeat(`{"index":{}}`+"\n"+`{"title":"a"}`+"\n", 10), 413, "content_too_long"},
	} {
		a := perform(t, es, "POST", tc.path, "application/x-ndjson", tc.body)
		if a.status != tc.status || a.errorType() != tc.errType {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.raw, tc.status, tc.errType)
		}
	}
	// At the limit: accepted.
	fits := `{"index":{"_id":"x"}}` + "\n" + `{"title":"` + strings.Repeat("a", 200-len(`{"index":{"_id":"x"}}`+"\n"+`{"title":""}`+"\n")) + `"}` + "\n"
	if a := perform(t, es, "POST", "/items/_bulk", "application/x-ndjson", fits); a.status != 200 || a.body["errors"] != false {
		t.Errorf("a body of exactly MaxBulkBytes: %d %s", a.status, a.raw)
	}
}

func TestRequestRefusals(t *testing.T) {
	_, es, _ := start(t, Config{})
	setup(t, es, `{"title":"a b"}`)
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
		errType                               string
	}{
		{"unknown endpoint", "GET", "/_cat/indices", "", "", 400, "illegal_argument_exception"},
		{"unknown parameter", "POST", "/items/_search?routing=1", "application/json", "{}", 400, "illegal_argument_exception"},
		{"text body", "POST", "/items/_search", "text/plain", "{}", 406, "media_type_header_exception"},
		{"not JSON", "POST", "/items/_search", "application/json", "{", 400, "x_content_parse_exception"},
		{"unknown top-level key", "POST", "/items/_search", "application/json", `{"aggs":{}}`, 400, "parsing_exception"},
		{"unknown query", "POST", "/items/_search", "application/json", `{"query":{"fuzzy":{"title":"a"}}}`, 400, "parsing_exception"},
		{"two queries in one", "POST", "/items/_search", "application/json", `{"query":{"match_all":{},"term":{"brand":"x"}}}`, 400, "parsing_exception"},
		{"unknown match parameter", "POST", "/items/_search", "application/json", `{"query":{"match":{"title":{"query":"a","fuzziness":1}}}}`, 400, "parsing_exception"},
		{"range on text", "POST", "/items/_search", "application/json", `{"query":{"range":{"title":{"gte":1}}}}`, 400, "illegal_argument_exception"},
		{"result window", "POST", "/items/_search", "application/json", `{"from":9995,"size":6}`, 400, "illegal_argument_exception"},
		{"negative size", "POST", "/items/_search", "application/json", `{"size":-1}`, 400, "illegal_argument_exception"},
		{"script compile error", "POST", "/items/_search", "application/json", `{"query":{"script_score":{"query":{"match_all":{}},"script":{"source":"_score +"}}}}`, 400, "script_exception"},
		{"script on text", "POST", "/items/_search", "application/json", `{"query":{"script_score":{"query":{"match_all":{}},"script":"doc['title'].value"}}}`, 400, "script_exception"},
		{"missing doc value", "POST", "/items/_search", "application/json", `{"query":{"script_score":{"query":{"match_all":{}},"script":"doc['price'].value"}}}`, 400, "script_exception"},
		{"negative score", "POST", "/items/_search", "application/json", `{"query":{"script_score":{"query":{"match_all":{}},"script":"-1"}}}`, 400, "illegal_argument_exception"},
		{"stored script", "POST", "/items/_search", "application/json", `{"query":{"script_score":{"query":{"match_all":{}},"script":{"id":"s"}}}}`, 400, "illegal_argument_exception"},
	} {
		a := perform(t, es, tc.method, tc.path, tc.contentType, tc.body)
		if a.status != tc.status || a.errorType() != tc.errType {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.raw, tc.status, tc.errType)
		}
	}
}

// TestClauseLimits: the 4,096-clause and 30-level limits, with match terms counted as clauses.
func TestClauseLimits(t *testing.T) {
	_, es, _ := start(t, Config{})
	setup(t, es, `{"title":"a"}`)
	search := func(q string) answer {
		return perform(t, es, "POST", "/items/_search", "application/json", `{"query":`+q+`}`)
	}
	terms := func(n int) string { return strings.TrimSpace(strings.Repeat("a ", n)) }
	// One match clause plus its terms.
	if a := search(`{"match":{"title":"` + terms(maxClauseCount-1) + `"}}`); a.status != 200 {
		t.Errorf("%d clauses: %d %.200s", maxClauseCount, a.status, a.raw)
	}
	if a := search(`{"match":{"title":"` + terms(maxClauseCount) + `"}}`); a.status != 400 || a.errorType() != "too_many_nested_clauses" {
		t.Errorf("%d clauses: %d %.200s", maxClauseCount+1, a.status, a.raw)
	}
	nested := func(depth int) string {
		return strings.Repeat(`{"bool":{"must":`, depth) + `{"match_all":{}}` + strings.Repeat(`}}`, depth)
	}
	if a := search(nested(maxNestedDepth)); a.status != 200 {
		t.Errorf("%d nested bools: %d %.200s", maxNestedDepth, a.status, a.raw)
	}
	if a := search(nested(maxNestedDepth + 1)); a.status != 400 || a.errorType() != "too_many_nested_clauses" {
		t.Errorf("%d nested bools: %d %.200s", maxNestedDepth+1, a.status, a.raw)
	}
}

// TestLimits: a body of exactly MaxSearchBytes or MaxBulkBytes is read, one byte more is refused with
// 413; an index holds MaxDocuments documents, and a write past them fails with 429 (the others succeed).
func TestLimits(t *testing.T) {
	search := `{"query":{"match_all":{}}}`
	bulk := `{"index":{"_id":"a"}}` + "\n" + `{"title":"a"}` + "\n" + `{"index":{"_id":"b"}}` + "\n" + `{"title":"b"}` + "\n" +
		`{"index":{"_id":"c"}}` + "\n" + `{"title":"c"}` + "\n"
	_, es, _ := start(t, Config{MaxSearchBytes: int64(len(testMapping)), MaxBulkBytes: int64(len(bulk)), MaxDocuments: 2})
	setup(t, es) // the mapping is exactly MaxSearchBytes
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }
	if a := perform(t, es, "POST", "/items/_search", "application/json", pad(search, len(testMapping))); a.status != 200 {
		t.Errorf("search of MaxSearchBytes: %d %s", a.status, a.raw)
	}
	if a := perform(t, es, "POST", "/items/_search", "application/json", pad(search, len(testMapping)+1)); a.status != 413 || a.errorType() != "content_too_long" {
		t.Errorf("search of MaxSearchBytes+1: %d %s", a.status, a.raw)
	}
	if a := perform(t, es, "POST", "/items/_bulk", "application/x-ndjson", bulk+"\n"); a.status != 413 || a.errorType() != "content_too_long" {
		t.Errorf("bulk of MaxBulkBytes+1: %d %s", a.status, a.raw)
	}
	a := perform(t, es, "POST", "/items/_bulk", "application/x-ndjson", bulk)
	if a.status != 200 || a.body["errors"] != true {
		t.Fatalf("bulk of MaxBulkBytes, one document too many: %d %s", a.status, a.raw)
	}
	var statuses []float64
	for _, item := range a.body["items"].([]any) {
		statuses = append(statuses, item.(map[string]any)["index"].(map[string]any)["status"].(float64))
	}
	if len(statuses) != 3 || statuses[0] != 201 || statuses[1] != 201 || statuses[2] != 429 {
		t.Errorf("bulk statuses %v, want [201 201 429]: %s", statuses, a.raw)
	}
}
