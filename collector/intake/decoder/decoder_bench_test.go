package decoder

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

// BenchmarkDecodeHeavy decodes heavy.ndjson (1920 events of the four kinds) with a processor that does
// nothing. bench/decoder runs the same input through apm-data side by side.
func BenchmarkDecodeHeavy(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(fixtures, "heavy.ndjson"))
	if err != nil {
		b.Fatal(err)
	}
	d := New(Options{})
	base := backendBase()
	p := collector.ProcessBatchFunc(func(context.Context, *collector.Batch) error { return nil })
	r := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		r.Reset(body)
		res, err := d.Decode(context.Background(), r, &base, p)
		if err != nil || res.Accepted != 1920 {
			b.Fatal(err, res.Accepted)
		}
		events += res.Accepted
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
