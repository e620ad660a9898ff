package agent_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
)

// intake is an APM Server on loopback for tests: it takes what the real Elastic Go agent sends to
// /intake/v2/events, checks it the way APM Server does (POST, ndjson, metadata first, known event types),
// and keeps both the decoded events and the raw (decompressed) bytes, so tests assert on what the agent
// actually sent. Anything unexpected fails the test.
type intake struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	raw    bytes.Buffer
	events []map[string]json.RawMessage // one per line after metadata: {"transaction": {...}} etc.
}

func newIntake(t *testing.T) *intake {
	t.Helper()
	in := &intake{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"build_date":"2026-01-01T00:00:00Z","build_sha":"test","publish_ready":true,"version":"8.19.0"}`)
	})
	mux.HandleFunc("/config/v1/agents", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Etag", `"1"`)
		io.WriteString(w, `{}`)
	})
	mux.HandleFunc("/intake/v2/events", in.handleEvents)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("intake: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	in.srv = httptest.NewServer(mux)
	t.Cleanup(in.srv.Close)
	return in
}

func (in *intake) handleEvents(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, args ...any) {
		in.t.Errorf("intake: "+format, args...)
		w.Header().Set("Connection", "Close")
		http.Error(w, `{"errors":[{"message":"bad request"}]}`, http.StatusBadRequest)
	}
	if r.Method != http.MethodPost {
		fail("method %s", r.Method)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		fail("content type %q", ct)
		return
	}
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			fail("zlib: %v", err)
			return
		}
		body = zr
	case "gzip":
		gr, err := gzip.NewReader(r.Body)
		if err != nil {
			fail("gzip: %v", err)
			return
		}
		body = gr
	case "":
	default:
		fail("content encoding %q", enc)
		return
	}
	data, err := io.ReadAll(io.LimitReader(body, 10<<20))
	if err != nil {
		fail("read body: %v", err)
		return
	}
	var events []map[string]json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 1 {
			fail("line %d: not one JSON object with one key: %q", i, sc.Bytes())
			return
		}
		if _, ok := ev["metadata"]; ok != (i == 0) {
			fail("line %d: metadata must come first and only first: %q", i, sc.Bytes())
			return
		}
		for k := range ev {
			switch k {
			case "metadata", "transaction", "span", "error", "metricset", "log":
			default:
				fail("line %d: unknown event type %q", i, k)
				return
			}
		}
		if i > 0 {
			events = append(events, ev)
		}
	}
	in.mu.Lock()
	in.raw.Write(data)
	in.events = append(in.events, events...)
	in.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// tracer returns a real tracer that sends to the intake; it is closed when the test ends.
func (in *intake) tracer(t *testing.T) *apm.Tracer {
	t.Helper()
	return agenttest.NewTracer(t, in.srv.URL, agenttest.Options{Service: "agent-test", Version: "1.0.0"})
}

// rawPayload returns every event body received so far, decompressed.
func (in *intake) rawPayload() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.raw.String()
}

// decoded event shapes: the fields the tests look at, in the intake v2 JSON names.
type (
	sentTransaction struct {
		ID       string          `json:"id"`
		TraceID  string          `json:"trace_id"`
		ParentID string          `json:"parent_id"`
		Name     string          `json:"name"`
		Type     string          `json:"type"`
		Result   string          `json:"result"`
		Outcome  string          `json:"outcome"`
		Context  sentHTTPContext `json:"context"`
	}
	sentHTTPContext struct {
		Request *struct {
			Method  string         `json:"method"`
			Headers map[string]any `json:"headers"`
			Cookies map[string]any `json:"cookies"`
		} `json:"request"`
		Response *struct {
			StatusCode int            `json:"status_code"`
			Headers    map[string]any `json:"headers"`
		} `json:"response"`
		Tags map[string]any `json:"tags"`
	}
	sentSpan struct {
		ID            string  `json:"id"`
		TraceID       string  `json:"trace_id"`
		TransactionID string  `json:"transaction_id"`
		ParentID      string  `json:"parent_id"`
		Name          string  `json:"name"`
		Type          string  `json:"type"`
		Subtype       string  `json:"subtype"`
		Outcome       string  `json:"outcome"`
		Duration      float64 `json:"duration"`
		Context       struct {
			DB *struct {
				Statement string `json:"statement"`
				Type      string `json:"type"`
			} `json:"db"`
			Service *struct {
				Target struct {
					Type string `json:"type"`
					Name string `json:"name"`
				} `json:"target"`
			} `json:"service"`
			Tags map[string]any `json:"tags"`
		} `json:"context"`
	}
	sentError struct {
		ID            string `json:"id"`
		TraceID       string `json:"trace_id"`
		TransactionID string `json:"transaction_id"`
		ParentID      string `json:"parent_id"`
		Exception     *struct {
			Message string `json:"message"`
		} `json:"exception"`
		Log *struct {
			Message string `json:"message"`
		} `json:"log"`
		Context sentHTTPContext `json:"context"`
	}
)

// decode returns the events of type kind ("transaction", "span", "error") received so far.
func decode[T any](t *testing.T, in *intake, kind string) []T {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []T
	for _, ev := range in.events {
		raw, ok := ev[kind]
		if !ok {
			continue
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("decode %s %s: %v", kind, raw, err)
		}
		out = append(out, v)
	}
	return out
}

// oneTransaction returns the only transaction named name.
func oneTransaction(t *testing.T, in *intake, name string) sentTransaction {
	t.Helper()
	var found []sentTransaction
	for _, tx := range decode[sentTransaction](t, in, "transaction") {
		if tx.Name == name {
			found = append(found, tx)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want 1 transaction %q, got %d (raw: %s)", name, len(found), strings.TrimSpace(in.rawPayload()))
	}
	return found[0]
}
