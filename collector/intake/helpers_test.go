package intake

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/hotpath-apm/hotpath/collector"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is a BatchProcessor test double: it keeps a summary of every event it was given and can be
// told to fail or to block.
type recorder struct {
	mu     sync.Mutex
	events []recorded
	calls  int
	// fail, if set, is called before a batch is taken; a non-nil error refuses it.
	fail func(call int, b *collector.Batch) error
}

// recorded is what the tests check of a stored event.
type recorded struct {
	Kind    collector.Kind
	TraceID string
	ID      string // transaction, span or error id
	Service string
}

func (r *recorder) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	r.mu.Lock()
	r.calls++
	call := r.calls
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(call, b); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range *b {
		e := &(*b)[i]
		rec := recorded{Kind: e.Kind, TraceID: e.TraceID, Service: e.Service.Name}
		switch {
		case e.Span != nil:
			rec.ID = e.Span.ID
		case e.Error != nil:
			rec.ID = e.Error.ID
		case e.Transaction != nil:
			rec.ID = e.Transaction.ID
		}
		r.events = append(r.events, rec)
	}
	return nil
}

func (r *recorder) stored() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.events...)
}

// newTestAPI returns an API over a recorder, with its own metrics registry.
func newTestAPI(t testing.TB, cfg Config) (*API, *recorder, *prometheus.Registry) {
	t.Helper()
	rec := &recorder{}
	if cfg.Processor == nil {
		cfg.Processor = rec
	}
	reg := prometheus.NewRegistry()
	if cfg.Registerer == nil {
		cfg.Registerer = reg
	}
	api, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return api, rec, reg
}

// serve runs req against h and returns the recorded response.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "apm-server", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t testing.TB, b []byte) []byte { return compressed(t, b, gzip.NewWriter) }

func zlibbed(t testing.TB, b []byte) []byte { return compressed(t, b, zlib.NewWriter) }

// compressed returns b written through the compressor newWriter makes.
func compressed[W io.WriteCloser](t testing.TB, b []byte, newWriter func(io.Writer) W) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := newWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func metric(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string(nil), labels...)
	sort.Strings(want)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !sameLabels(m.GetLabel(), want) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func sameLabels(got []*dto.LabelPair, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	have := make([]string, len(got))
	for i, l := range got {
		have[i] = l.GetName() + "=" + l.GetValue()
	}
	sort.Strings(have)
	return strings.Join(have, ",") == strings.Join(want, ",")
}
