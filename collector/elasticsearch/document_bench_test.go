package elasticsearch_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
)

// withHeavy decodes and enriches the fixture heavy.ndjson (1920 transactions, spans, errors and
// metricsets) in one batch and calls fn with it, while the events are alive.
func withHeavy(b *testing.B, fn func(events collector.Batch)) {
	body, err := os.ReadFile(filepath.Join(fixtures, "heavy.ndjson"))
	if err != nil {
		b.Fatal(err)
	}
	base := goldenBase("backend")
	_, err = decoder.New(decoder.Options{BatchSize: 4096}).Decode(context.Background(), bytes.NewReader(body), &base,
		collector.ProcessBatchFunc(func(_ context.Context, batch *collector.Batch) error {
			enrich.New(enrich.Config{ObserverHostname: "bench"}).Process(batch)
			fn(*batch)
			return nil
		}))
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAppendDocument renders the _source of every event of heavy.ndjson. The comparison with
// APM Server's renderer is bench/elasticsearch; this one guards allocations (0 per document).
func BenchmarkAppendDocument(b *testing.B) {
	withHeavy(b, func(events collector.Batch) {
		var buf []byte
		size := 0
		b.ReportAllocs()
		for b.Loop() {
			size = 0
			for i := range events {
				var err error
				if buf, err = elasticsearch.AppendDocument(buf[:0], &events[i]); err != nil {
					b.Fatal(err)
				}
				size += len(buf)
			}
		}
		b.SetBytes(int64(size))
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/float64(len(events))*1e9, "ns/event")
	})
}
