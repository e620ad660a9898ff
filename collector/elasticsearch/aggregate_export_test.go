package elasticsearch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
)

// aggEvents returns n transactions of service "search" sampled at 0.25 (each counts 4), each with an
// exit span to Elasticsearch, at minute minute of 2026-01-01.
func aggEvents(first, n, minute int) collector.Batch {
	base := time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC)
	var b collector.Batch
	for i := range n {
		k := first + i
		trace := fmt.Sprintf("%032x", k+1)
		common := collector.Event{Timestamp: base.Add(time.Duration(i) * time.Millisecond), TraceID: trace,
			Agent: collector.Agent{Name: "go"}, Service: collector.Service{Name: "search", Environment: "test"},
			DataStream: collector.DataStream{Type: "traces", Dataset: "apm", Namespace: "default"},
			Observer:   collector.Observer{Type: "apm-server", Version: "9.6.0"}}
		tx := common
		tx.Kind = collector.KindTransaction
		tx.Transaction = &collector.Transaction{ID: fmt.Sprintf("%016x", 2*k+1), Name: "GET /search", Type: "request",
			Sampled: true, Root: true, RepresentativeCount: 4}
		tx.Event = collector.EventInfo{Outcome: "success", Duration: time.Duration(1+k%50) * time.Millisecond}
		span := common
		span.Kind = collector.KindSpan
		span.ParentID = tx.Transaction.ID
		span.Transaction = &collector.Transaction{ID: tx.Transaction.ID}
		span.Span = &collector.Span{ID: fmt.Sprintf("%016x", 2*k+2), Name: "POST /products/_search", Type: "db",
			Subtype: "elasticsearch", RepresentativeCount: 4,
			DestinationService: &collector.DestinationService{Resource: "elasticsearch"}}
		span.Service.Target = collector.ServiceTarget{Type: "elasticsearch"}
		span.Event = collector.EventInfo{Outcome: "success", Duration: 2 * time.Millisecond}
		b = append(b, tx, span)
	}
	return b
}

// metricTotals sums, per index of the aggregated metricsets, what the documents count: _doc_count for
// transaction metricsets, span.destination.service.response_time.count for destinations. It fails on an
// _id seen twice.
func metricTotals(t *testing.T, s *estest.Server) map[string]int {
	t.Helper()
	totals := map[string]int{}
	ids := map[string]bool{}
	for _, d := range s.Docs() {
		if !strings.HasPrefix(d.Index, "metrics-apm.") {
			continue
		}
		if ids[d.ID] {
			t.Errorf("_id %s created twice", d.ID)
		}
		ids[d.ID] = true
		var src struct {
			DocCount int `json:"_doc_count"`
			Span     struct {
				Destination struct {
					Service struct {
						ResponseTime struct {
							Count int `json:"count"`
						} `json:"response_time"`
					} `json:"service"`
				} `json:"destination"`
			} `json:"span"`
		}
		if err := json.Unmarshal(d.Source, &src); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(d.Index, "service_destination") {
			totals[d.Index] += src.Span.Destination.Service.ResponseTime.Count
		} else {
			totals[d.Index] += src.DocCount
		}
	}
	return totals
}

// checkTotals fails unless every transaction metricset counts want transactions and the destination
// metricset want calls, at every interval.
func checkTotals(t *testing.T, s *estest.Server, want int) {
	t.Helper()
	got := metricTotals(t, s)
	for _, ms := range []string{"transaction", "service_transaction", "service_destination"} {
		for _, ivl := range []string{"1m", "10m", "60m"} {
			idx := "metrics-apm." + ms + "." + ivl + "-default"
			if got[idx] != want {
				t.Errorf("%s counts %d, want %d", idx, got[idx], want)
			}
		}
	}
}

// exportOnce runs the exporter over st until every stored event is confirmed, then stops it (which
// flushes the open buckets).
func exportOnce(t *testing.T, cfg elasticsearch.Config, st interface{ LastSeq() uint64 }, r *running) {
	t.Helper()
	if err := r.x.WaitConfirmed(context.Background(), st.LastSeq()+1); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestAggregatedMetricsetsExactlyOnce: a shutdown while Elasticsearch is down keeps the flushed
// harvest in the store, the next start delivers it once; late events give documents for their past
// bucket; a bulk request indexed but unanswered is sent again without duplicates. At the end every
// metricset at every interval counts each transaction (by its representative count) exactly once.
func TestAggregatedMetricsetsExactlyOnce(t *testing.T) {
	s, st := fakeAndStore(t)
	cfg := testConfig(t, s, prometheus.NewRegistry())
	cfg.Aggregation = elasticsearch.AggregationConfig{FlushTimeout: 300 * time.Millisecond, Grace: time.Millisecond}

	store(t, st, aggEvents(0, 100, 0))
	store(t, st, aggEvents(100, 100, 1))

	// 1. Elasticsearch refuses every bulk request: stopping saves the harvest, nothing arrives.
	s.SetOutage(503)
	r := start(t, cfg, st)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if n := len(metricTotals(t, s)); n != 0 {
		t.Fatalf("%d metric indices written during the outage", n)
	}

	// 2. It is back: the saved harvest is delivered, once.
	s.SetOutage(0)
	cfg.Registerer = prometheus.NewRegistry()
	exportOnce(t, cfg, st, start(t, cfg, st))
	checkTotals(t, s, 200*4)

	// 3. Late events for minute 0, and the answer to the next bulk request is lost after indexing.
	store(t, st, aggEvents(200, 50, 0))
	s.Inject(estest.Fault{Drop: true, After: true})
	cfg.Registerer = prometheus.NewRegistry()
	exportOnce(t, cfg, st, start(t, cfg, st))
	checkTotals(t, s, 250*4)
}
