package elasticsearch_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The intake fixtures of Elastic APM Server's tests (and hotpath's own) and the documents APM Server
// writes for them, shared with the intake and decoder tests: collector/testdata/apm-server.
const (
	fixtures = "../testdata/apm-server/intake-v2"
	goldens  = "../testdata/apm-server/es-source"
)

// openStore opens the store in dir, closed at the end of the test unless closed before.
func openStore(t *testing.T, dir string) *pebble.Store {
	t.Helper()
	st, err := pebble.Open(pebble.Config{Dir: dir, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fakeAndStore returns a fake Elasticsearch and an empty store, both closed at the end of the test.
func fakeAndStore(t *testing.T) (*estest.Server, *pebble.Store) {
	t.Helper()
	s := estest.NewServer()
	t.Cleanup(s.Close)
	return s, openStore(t, t.TempDir())
}

// makeEvents returns n enriched events numbered from first, cycling through the five kinds:
// transactions, spans and errors have ids (so an _id), metricsets and logs do not.
func makeEvents(first, n int) collector.Batch {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := make(collector.Batch, n)
	for i := range b {
		k := first + i
		e := &b[i]
		e.Timestamp = base.Add(time.Duration(k) * time.Millisecond)
		e.Agent = collector.Agent{Name: "go", Version: "2.7.0"}
		e.Service = collector.Service{Name: "search", Version: "1.0", Environment: "test",
			Language: collector.NameVersion{Name: "go", Version: "go1.26"}}
		e.Host = collector.Host{Hostname: "box", IP: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}
		e.Labels = []collector.Label{{Key: "n", Value: fmt.Sprint(k)}}
		e.TraceID = fmt.Sprintf("%032x", k/5+1)
		switch k % 5 {
		case 0:
			e.Kind = collector.KindTransaction
			e.Transaction = &collector.Transaction{ID: fmt.Sprintf("%016x", k+1), Name: "GET /search",
				Type: "request", Result: "HTTP 2xx", Sampled: true, Root: true, RepresentativeCount: 1}
			e.Event = collector.EventInfo{Outcome: "success", Duration: 12 * time.Millisecond}
		case 1:
			e.Kind = collector.KindSpan
			e.ParentID = fmt.Sprintf("%016x", k)
			e.Transaction = &collector.Transaction{ID: fmt.Sprintf("%016x", k)}
			e.Span = &collector.Span{ID: fmt.Sprintf("%016x", k+1), Name: "SELECT", Type: "db",
				Subtype: "postgresql", RepresentativeCount: 1}
			e.Event = collector.EventInfo{Outcome: "success", Duration: 3 * time.Millisecond}
		case 2:
			e.Kind = collector.KindError
			e.Error = &collector.Error{ID: fmt.Sprintf("%032x", k+1),
				Exception: &collector.Exception{Message: "boom", Type: "*errors.errorString"}}
		case 3:
			e.Kind = collector.KindMetricset
			e.TraceID = ""
			e.Metricset = &collector.Metricset{Name: "app",
				Samples: []collector.MetricSample{{Name: "search.cache.hits", Value: float64(k)}}}
		case 4:
			e.Kind = collector.KindLog
			e.Message = fmt.Sprintf("log line %d", k)
			e.Log = &collector.Log{Level: "info"}
		}
	}
	enrich.New(enrich.Config{ObserverHostname: "test"}).Process(&b)
	return b
}

// store writes events to st.
func store(t *testing.T, st *pebble.Store, b collector.Batch) {
	t.Helper()
	if err := st.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

// testConfig is a Config for the fake s (none when nil: set URLs) with fast timings.
func testConfig(t *testing.T, s *estest.Server, reg prometheus.Registerer) elasticsearch.Config {
	var urls []string
	if s != nil {
		urls = []string{s.URL}
	}
	return elasticsearch.Config{
		ClientConfig:    elasticsearch.ClientConfig{URLs: urls},
		FlushInterval:   20 * time.Millisecond,
		FlushBytes:      64 << 10,
		RetryBackoff:    5 * time.Millisecond,
		MaxRetryBackoff: 40 * time.Millisecond,
		RequestTimeout:  2 * time.Minute, // a loaded CI machine must not cause retries (and duplicates)
		Registerer:      reg,
		Logger:          zaptest.NewLogger(t),
		// These tests count per-event documents; the aggregated ones have their own tests.
		Aggregation: elasticsearch.AggregationConfig{Disabled: true},
	}
}

// running is an exporter running in the background.
type running struct {
	x      *elasticsearch.Exporter
	cancel context.CancelFunc
	done   chan error
}

// exportEvents stores n events in a store of their own and runs an exporter to s until Elasticsearch has
// confirmed them all; it returns the events and the registry of the exporter's metrics.
func exportEvents(t *testing.T, s *estest.Server, n int) (collector.Batch, *prometheus.Registry) {
	t.Helper()
	st := openStore(t, t.TempDir())
	events := makeEvents(0, n)
	store(t, st, events)
	reg := prometheus.NewRegistry()
	exportAll(t, testConfig(t, s, reg), st)
	return events, reg
}

// exportAll runs an exporter for cfg over st until Elasticsearch has confirmed every stored event, and
// stops it.
func exportAll(t *testing.T, cfg elasticsearch.Config, st *pebble.Store) {
	t.Helper()
	r := start(t, cfg, st)
	r.waitConfirmed(t, st.LastSeq()+1)
	_ = r.stop(t)
}

// start runs an exporter for cfg over st.
func start(t *testing.T, cfg elasticsearch.Config, st *pebble.Store) *running {
	t.Helper()
	x, err := elasticsearch.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{x: x, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- x.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop stops the exporter and returns Run's error.
func (r *running) stop(t *testing.T) error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	err := <-r.done
	_ = r.x.Close()
	return err
}

// waitConfirmed waits until the exporter confirmed everything stored before pos.
func (r *running) waitConfirmed(t *testing.T, pos uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.x.WaitConfirmed(ctx, pos); err != nil {
		t.Fatalf("exporter confirmed up to %d, want %d: %v", r.x.Confirmed(), pos, err)
	}
}

// waitFake waits until cond holds on the fake.
func waitFake(t *testing.T, s *estest.Server, what string, cond func([]estest.Doc, int) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v (docs %d, bulk requests %d)", what, err, s.DocCount(), s.BulkRequests())
	}
}

// metric returns the value of the metric name with the given label values (name=value pairs), or -1.
func metric(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return -1
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
