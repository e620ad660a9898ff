package elasticsearch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

// BenchmarkAggregate measures the aggregation alone: heavy.ndjson's 1,920 events (transactions, spans
// with destinations, errors, metricsets) added to a fresh aggregator, and every bucket harvested into
// APM Server's documents (the four metricsets at 1m, 10m and 60m), per op.
//
//	go test -run '^$' -bench BenchmarkAggregate -benchmem ./collector/elasticsearch
func BenchmarkAggregate(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(intakeFixtures, "heavy.ndjson"))
	if err != nil {
		b.Fatal(err)
	}
	var events []collector.Event
	storeEvents(b, body, "", func(e *collector.Event) { events = append(events, *e) })
	b.ReportAllocs()
	docs := 0
	for b.Loop() {
		a := newAggregator(AggregationLimits{})
		for i := range events {
			a.add(&events[i])
		}
		r := aggRenderer{namespace: "default", observerHostname: "bench", observerVersion: "9.6.0", checkpoint: 1}
		a.harvest(&r, aggGoldenTime, 0, true)
		docs = r.docs
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	b.ReportMetric(float64(docs), "docs/op")
}
