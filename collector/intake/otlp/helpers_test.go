package otlp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp/otlptest"
	"github.com/hotpath-apm/hotpath/internal/esdoctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Processor that keeps what it is given: the events, and their documents as the
// Elasticsearch exporter renders them. fail, when set, refuses batches with its error.
type recorder struct {
	mu     sync.Mutex
	events []collector.Event
	docs   []esdoctest.Doc
	fail   error
}

func (r *recorder) ProcessBatch(_ context.Context, b *collector.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for i := range *b {
		e := &(*b)[i]
		doc, err := esdoctest.Render(e)
		if err != nil {
			return err
		}
		r.events = append(r.events, *e)
		r.docs = append(r.docs, doc)
	}
	return nil
}

func (r *recorder) take() ([]collector.Event, []esdoctest.Doc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, docs := r.events, r.docs
	r.events, r.docs = nil, nil
	return ev, docs
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

// testServer is the collector's HTTP surface for OTLP (otlptest.Server) with its recorder.
type testServer struct {
	*otlptest.Server
	rec *recorder
}

func newTestServer(t *testing.T, icfg intake.Config, ocfg otlp.Config, proc collector.BatchProcessor) *testServer {
	t.Helper()
	rec := &recorder{}
	if proc == nil {
		proc = rec
	}
	icfg.Processor = proc
	return &testServer{Server: otlptest.NewServer(t, icfg, ocfg), rec: rec}
}

// post sends body to path and returns the answer's status, headers and body.
func (s *testServer) post(t *testing.T, path, contentType string, body []byte, header http.Header) (int, http.Header, []byte) {
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
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// mustJSON is json.Marshal for tests.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
