package enrich

import (
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

// BenchmarkGroupingKey: one allocation per error, the key itself.
func BenchmarkGroupingKey(b *testing.B) {
	e := &collector.Error{Exception: &collector.Exception{Type: "T", Message: "m",
		Stacktrace: []collector.StackFrame{{Module: "m", Function: "f"}, {Filename: "x.go", Function: "g"}},
		Cause:      []collector.Exception{{Type: "C"}}}, Log: &collector.ErrorLog{ParamMessage: "p %d"}}
	b.ReportAllocs()
	for b.Loop() {
		_ = groupingKey(e)
	}
}

// Enriching a batch allocates the errors' grouping keys and one application dataset name per batch,
// nothing per event otherwise.
func TestProcessAllocations(t *testing.T) {
	p := New(Config{ObserverHostname: "h"})
	mk := func() collector.Batch {
		b := make(collector.Batch, 0, 40)
		for range 10 {
			b = append(b,
				collector.Event{Kind: collector.KindTransaction, Service: collector.Service{Name: "Search"},
					Transaction: &collector.Transaction{Type: "request", Sampled: true}},
				collector.Event{Kind: collector.KindLog, Service: collector.Service{Name: "Search"}, Log: &collector.Log{}},
				collector.Event{Kind: collector.KindMetricset, Service: collector.Service{Name: "Search"},
					Metricset: &collector.Metricset{Name: "app", Samples: []collector.MetricSample{{Name: "x"}}}},
				collector.Event{Kind: collector.KindError, Service: collector.Service{Name: "Search"},
					Error: &collector.Error{Exception: &collector.Exception{Type: "E"}}})
		}
		return b
	}
	batches := make([]collector.Batch, 200)
	for i := range batches {
		batches[i] = mk()
	}
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		p.Process(&batches[i])
		i++
	})
	if allocs > 11 { // 10 grouping keys + 1 dataset name
		t.Errorf("%v allocations per batch of 40 events, want at most 11", allocs)
	}
}
