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
	benchDecode(b, filepath.Join(fixtures, "heavy.ndjson"), 1920, Options{})
}

// BenchmarkDecodeLoadgen decodes what `hotpath loadgen` sends in one request (collector/testdata/
// loadgen.ndjson: 100 traces of a transaction and 5 spans) in the collector's batches of 500 events,
// with a processor that does nothing: the decoder's share of the collector's CPU under
// bench/collector/intake.sh.
func BenchmarkDecodeLoadgen(b *testing.B) {
	benchDecode(b, filepath.Join("..", "..", "testdata", "loadgen.ndjson"), 600, Options{BatchSize: 500})
}

// BenchmarkDecodeLogs decodes logs.ndjson (7 log events, flat and nested ECS fields) with a processor
// that does nothing.
func BenchmarkDecodeLogs(b *testing.B) {
	benchDecode(b, filepath.Join(fixtures, "logs.ndjson"), 7, Options{})
}

// benchDecode decodes the file at path, of events events, again and again.
func benchDecode(b *testing.B, path string, events int, opts Options) {
	body, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	d := New(opts)
	base := backendBase()
	p := collector.ProcessBatchFunc(func(context.Context, *collector.Batch) error { return nil })
	r := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		res, err := d.Decode(context.Background(), r, &base, p)
		if err != nil || res.Accepted != events {
			b.Fatal(err, res.Accepted)
		}
	}
	b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
}
