package estest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// post sends a bulk body and returns the status and decoded answer.
func post(t *testing.T, s *Server, path, contentType string, body []byte, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Errorf("X-Elastic-Product = %q", got)
	}
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer is not JSON: %q", raw)
	}
	return resp.StatusCode, out
}

const doc = `{"@timestamp":"2026-01-01T00:00:00.000Z","message":"hi"}`

func TestBulkRequestErrors(t *testing.T) {
	s := NewServer()
	defer s.Close()
	for _, tc := range []struct {
		name, path, ct, body string
		status               int
		reason               string
	}{
		{"no final newline", "/_bulk", "application/x-ndjson", `{"create":{"_index":"logs-a-b"}}` + "\n" + doc, 400, "terminated by a newline"},
		{"source missing", "/_bulk", "application/x-ndjson", `{"create":{"_index":"logs-a-b"}}` + "\n", 400, "terminated by a newline"},
		{"empty", "/_bulk", "application/x-ndjson", "", 400, "no requests added"},
		{"unknown action", "/_bulk", "application/x-ndjson", `{"upsert":{"_index":"x"}}` + "\n" + doc + "\n", 400, "Malformed action/metadata line [1]"},
		{"unknown metadata", "/_bulk", "application/x-ndjson", `{"create":{"_index":"x","_type":"doc"}}` + "\n" + doc + "\n", 400, "unknown parameter [_type]"},
		{"action not JSON", "/_bulk", "application/x-ndjson", "create\n" + doc + "\n", 400, "Malformed action/metadata line [1]"},
		{"empty line", "/_bulk", "application/x-ndjson", "\n", 400, "Malformed action/metadata line [1]"},
		{"no index", "/_bulk", "application/x-ndjson", `{"create":{}}` + "\n" + doc + "\n", 400, "index is missing"},
		{"content type", "/_bulk", "text/plain", `{"create":{"_index":"x"}}` + "\n" + doc + "\n", 406, "not supported"},
		{"unknown parameter", "/_bulk?wait=1", "application/json", `{"create":{"_index":"x"}}` + "\n" + doc + "\n", 400, "unrecognized parameter: [wait]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := post(t, s, tc.path, tc.ct, []byte(tc.body), nil)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, out)
			}
			raw, _ := json.Marshal(out)
			if !strings.Contains(string(raw), tc.reason) {
				t.Errorf("answer %s does not say %q", raw, tc.reason)
			}
		})
	}
	if n := s.DocCount(); n != 0 {
		t.Errorf("%d documents indexed from refused requests", n)
	}
}

func TestBulkItems(t *testing.T) {
	s := NewServer()
	defer s.Close()
	body := strings.Join([]string{
		`{"create":{"_index":"traces-apm-default","_id":"a"}}`, doc,
		`{"create":{"_index":"traces-apm-default","_id":"a"}}`, doc, // 409
		`{"index":{"_index":"traces-apm-default"}}`, doc, // data streams want create
		`{"create":{"_index":"traces-apm-default"}}`, `{"message":"no timestamp"}`,
		`{"create":{"_index":"traces-apm-default"}}`, `{"@timestamp":"2026-01-01T00:00:00Z","a":1,"a":2}`,
		`{"create":{"_index":"traces-apm-default"}}`, `{"@timestamp":"2026-01-01T00:00:00Z","a":{"b":1,"b":2}}`,
		`{"create":{"_index":"traces-apm-default"}}`, `[1]`,
		`{"create":{"_index":"traces-apm-default"}}`, `{"@timestamp":"yesterday"}`,
		`{"create":{"_index":"my-index"}}`, `{"no":"timestamp needed"}`,
	}, "\n") + "\n"
	status, out := post(t, s, "/_bulk", "application/x-ndjson", []byte(body), nil)
	if status != 200 || out["errors"] != true {
		t.Fatalf("status %d errors %v", status, out["errors"])
	}
	items := out["items"].([]any)
	want := []int{201, 409, 400, 400, 400, 400, 400, 400, 201}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, it := range items {
		m := it.(map[string]any)
		var r map[string]any
		for _, v := range m {
			r = v.(map[string]any)
		}
		if got := int(r["status"].(float64)); got != want[i] {
			t.Errorf("item %d: status %d, want %d (%v)", i, got, want[i], r)
		}
	}
	docs := s.Docs()
	if len(docs) != 2 || docs[0].ID != "a" || docs[0].GeneratedID || !docs[1].GeneratedID || docs[1].Index != "my-index" {
		t.Errorf("docs = %+v", docs)
	}
}

func TestBulkGzipAndFilterPath(t *testing.T) {
	s := NewServer()
	defer s.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"create":{"_index":"logs-a-b"}}` + "\n" + doc + "\n" +
		`{"create":{"_index":"logs-a-b"}}` + "\n" + `{}` + "\n"))
	_ = zw.Close()
	status, out := post(t, s, "/_bulk?filter_path=errors,items.*.status,items.*.error.type", "application/json",
		gz.Bytes(), http.Header{"Content-Encoding": {"gzip"}})
	if status != 200 {
		t.Fatalf("status %d: %v", status, out)
	}
	raw, _ := json.Marshal(out)
	const want = `{"errors":true,"items":[{"create":{"status":201}},{"create":{"error":{"type":"document_parsing_exception"},"status":400}}]}`
	if string(raw) != want {
		t.Errorf("filtered answer\n got %s\nwant %s", raw, want)
	}
	status, _ = post(t, s, "/_bulk", "application/json", []byte("not gzip"), http.Header{"Content-Encoding": {"gzip"}})
	if status != 400 {
		t.Errorf("corrupt gzip: status %d", status)
	}
}

func TestFaults(t *testing.T) {
	s := NewServer()
	defer s.Close()
	body := []byte(`{"create":{"_index":"logs-a-b","_id":"x"}}` + "\n" + doc + "\n")
	s.Inject(Fault{Status: 429})
	if status, _ := post(t, s, "/_bulk", "application/json", body, nil); status != 429 {
		t.Errorf("injected 429: got %d", status)
	}
	s.SetOutage(503)
	for range 2 {
		if status, _ := post(t, s, "/_bulk", "application/json", body, nil); status != 503 {
			t.Errorf("outage: got %d", status)
		}
	}
	s.SetOutage(0)
	if s.DocCount() != 0 {
		t.Fatal("failed requests indexed documents")
	}

	client := &http.Client{Timeout: 200 * time.Millisecond}
	send := func() error {
		resp, err := client.Post(s.URL+"/_bulk", "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	s.Inject(Fault{Hang: true})
	if err := send(); err == nil {
		t.Error("hang: got an answer")
	}
	s.Inject(Fault{Drop: true, After: true})
	if err := send(); err == nil {
		t.Error("drop: got an answer")
	}
	if n := s.DocCount(); n != 1 {
		t.Errorf("drop after indexing: %d documents, want 1", n)
	}
	if n := s.BulkRequests(); n != 5 {
		t.Errorf("%d bulk requests counted, want 5", n)
	}
	s.FailItems(func(d Doc) *ItemFailure { return &ItemFailure{Status: 429, Type: "es_rejected_execution_exception"} })
	if _, out := post(t, s, "/_bulk", "application/json", body, nil); out["errors"] != true {
		t.Errorf("item fault not applied: %v", out)
	}
}

func TestAuthInfoAndWait(t *testing.T) {
	s := NewServer(WithBasicAuth("elastic", "changeme"), WithVersion("8.15.0"))
	defer s.Close()
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no credentials: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	req.SetBasicAuth("elastic", "changeme")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Version struct{ Number string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info.Version.Number != "8.15.0" {
		t.Errorf("version %q", info.Version.Number)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := s.WaitFor(ctx, func(docs []Doc, n int) bool { return len(docs) > 0 }); err == nil {
		t.Error("WaitFor returned without documents")
	}
}

func TestCountingSearch(t *testing.T) {
	s := NewServer()
	defer s.Close()
	body := `{"create":{"_index":"logs-a-b","_id":"1"}}` + "\n" + `{"@timestamp":"2026-01-01T00:00:00Z","labels":{"run":"x"}}` + "\n" +
		`{"create":{"_index":"logs-a-b"}}` + "\n" + `{"@timestamp":"2026-01-01T00:00:00Z","labels":{"run":"y"}}` + "\n" +
		`{"create":{"_index":"my-index","_id":"2"}}` + "\n" + `{"labels":{"run":"x"}}` + "\n"
	if status, _ := post(t, s, "/_bulk", "application/json", []byte(body), nil); status != 200 {
		t.Fatal(status)
	}
	if status, _ := post(t, s, "/logs-*/_refresh", "application/json", nil, nil); status != 200 {
		t.Errorf("refresh: %d", status)
	}
	count := func(indices, query string) (int, int) {
		status, out := post(t, s, "/"+indices+"/_search", "application/json", []byte(query), nil)
		if status != 200 {
			return status, -1
		}
		return status, int(out["hits"].(map[string]any)["total"].(map[string]any)["value"].(float64))
	}
	for _, tc := range []struct {
		indices, query string
		status, n      int
	}{
		{"logs-*", `{"query":{"term":{"labels.run":"x"}}}`, 200, 1},
		{"logs-*,my-*", `{"query":{"term":{"labels.run":"x"}}}`, 200, 2},
		{"logs-*,my-*", `{"query":{"ids":{"values":["1","2","3"]}}}`, 200, 2},
		{"logs-*", `{"query":{"match_all":{}}}`, 400, -1},
		{"logs-*", `{"query":{"term":{"labels.run":"x"}},"size":10}`, 400, -1},
	} {
		if status, n := count(tc.indices, tc.query); status != tc.status || n != tc.n {
			t.Errorf("%s %s: status %d count %d, want %d %d", tc.indices, tc.query, status, n, tc.status, tc.n)
		}
	}
}
