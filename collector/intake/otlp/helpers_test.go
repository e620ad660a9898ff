package otlp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
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

// testServer is the collector's HTTP surface for OTLP: intake and the receiver on one mux, served over
// HTTP/1.1 and h2c on loopback.
type testServer struct {
	url  string
	addr string
	rec  *recorder
	api  *intake.API
	rcv  *otlp.Receiver
}

func newTestServer(t *testing.T, icfg intake.Config, ocfg otlp.Config, proc collector.BatchProcessor) *testServer {
	t.Helper()
	rec := &recorder{}
	if proc == nil {
		proc = rec
	}
	icfg.Processor = proc
	api, err := intake.New(icfg)
	if err != nil {
		t.Fatal(err)
	}
	ocfg.Intake = api
	rcv, err := otlp.New(ocfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	rcv.Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = otlp.Protocols()
	srv.Start()
	t.Cleanup(func() {
		rcv.Stop()
		srv.Close()
	})
	return &testServer{url: srv.URL, addr: srv.Listener.Addr().String(), rec: rec, api: api, rcv: rcv}
}

// post sends body to path and returns the answer's status, headers and body.
func (s *testServer) post(t *testing.T, path, contentType string, body []byte, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
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

// dial connects a gRPC client over h2c.
func (s *testServer) dial(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient("passthrough:///"+s.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
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
