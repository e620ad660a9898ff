package elasticsearch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// exportCopies is how many copies of heavy.ndjson (1920 events) BenchmarkExport stores: ~50k events,
// one second of the collector's intake floor.
const exportCopies = 26

// BenchmarkExport measures the exporter end to end, in one process: events read back from the real
// store, rendered, gzipped and sent in bulk requests that the strict in-process fake decompresses,
// parses and checks document by document, answers confirmed, cursor committed. Each op exports the
// whole store (exportCopies x 1920 events, with distinct ids) with a fresh cursor to a fresh fake.
//
//	go test -run '^$' -bench BenchmarkExport -benchtime 5x ./collector/elasticsearch
//
// metrics=true also writes APM Server's aggregated metricsets (the default), metrics=false only the
// events: the difference is what the aggregation costs.
func BenchmarkExport(b *testing.B) {
	st, err := pebble.Open(pebble.Config{Dir: b.TempDir(), Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	withHeavy(b, func(events collector.Batch) {
		type ids struct{ trace, tx, span, err string }
		orig := make([]ids, len(events))
		for i := range events {
			e := &events[i]
			orig[i].trace = e.TraceID
			if e.Transaction != nil {
				orig[i].tx = e.Transaction.ID
			}
			if e.Span != nil {
				orig[i].span = e.Span.ID
			}
			if e.Error != nil {
				orig[i].err = e.Error.ID
			}
		}
		for c := range exportCopies {
			for i := range events {
				e := &events[i]
				// heavy.ndjson repeats its events: give each stored one ids of its own.
				prefix := fmt.Sprintf("%08x", c*len(events)+i)
				if o := orig[i].trace; o != "" {
					e.TraceID = prefix + o[min(8, len(o)):]
				}
				if o := orig[i].tx; o != "" {
					e.Transaction.ID = prefix + o[min(8, len(o)):]
				}
				if o := orig[i].span; o != "" {
					e.Span.ID = prefix + o[min(8, len(o)):]
				}
				if o := orig[i].err; o != "" {
					e.Error.ID = prefix + o[min(8, len(o)):]
				}
			}
			if err := st.ProcessBatch(context.Background(), &events); err != nil {
				b.Fatal(err)
			}
		}
	})
	total := st.LastSeq()
	runs := 0 // -count runs the sub-benchmarks again on the same store: each export gets a cursor of its own
	for _, metrics := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", metrics), func(b *testing.B) { benchmarkExport(b, st, total, metrics, &runs) })
	}
}

// benchmarkExport exports the store's total events per op, with APM Server's aggregated metricsets or
// without: with them, an op ends once the aggregation has read every event too, and includes the final
// harvest of its buckets.
func benchmarkExport(b *testing.B, st *pebble.Store, total uint64, metrics bool, runs *int) {
	cpu0 := processCPU()
	b.ReportAllocs()
	for b.Loop() {
		*runs++
		s := estest.NewServer()
		x, err := elasticsearch.New(elasticsearch.Config{
			ClientConfig: elasticsearch.ClientConfig{URLs: []string{s.URL}},
			CursorName:   fmt.Sprintf("bench-%d", *runs),
			Aggregation:  elasticsearch.AggregationConfig{Disabled: !metrics},
		}, st)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- x.Run(ctx) }()
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
		if err := x.WaitConfirmed(wctx, total+1); err != nil {
			b.Fatalf("confirmed %d of %d: %v", x.Confirmed()-1, total, err)
		}
		for metrics && x.MetricsRead() <= total && wctx.Err() == nil {
			time.Sleep(time.Millisecond) // a benchmark's poll: the aggregation has no wait of its own
		}
		wcancel()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		_ = x.Close()
		events, aggregated := 0, 0
		for _, d := range s.Docs() {
			if strings.HasPrefix(d.Index, "metrics-apm.") && (strings.Contains(d.Index, ".1m-") ||
				strings.Contains(d.Index, ".10m-") || strings.Contains(d.Index, ".60m-")) {
				aggregated++
			} else {
				events++
			}
		}
		if events != int(total) || metrics != (aggregated > 0) {
			b.Fatalf("%d event documents in the fake, want %d; %d aggregated documents (confirmed %d, %d bulk requests)", events, total, aggregated, x.Confirmed(), s.BulkRequests())
		}
		s.Close()
	}
	events := float64(total) * float64(b.N)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	// CPU time per event of the whole process, exporter and fake together: unlike events/s, it does not
	// depend on how much of the machine the benchmark gets.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/events, "cpu-µs/event")
}
