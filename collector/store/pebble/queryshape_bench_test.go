package pebble

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkDecodeShapeAgg: decoding a shape aggregate into dense histograms, what a listing does for
// every value it reads: an hour of a busy shape (20,000 calls: 1,830 buckets with the tooks) and of a
// quiet one (40 calls, 80 buckets).
func BenchmarkDecodeShapeAgg(b *testing.B) {
	for _, calls := range []int{40, 20_000} {
		r := rand.New(rand.NewPCG(1, uint64(calls)))
		dur, took := newHistogram(), newHistogram()
		c := shapeCounts{count: int64(calls), dbType: "elasticsearch", summary: "match[title]"}
		for range calls {
			us := int64(1000 + r.ExpFloat64()*20_000)
			_ = dur.RecordValue(us)
			_ = took.RecordValue(us / 2)
		}
		v := appendShapeAgg(nil, &c, dur, took)
		b.Run(fmt.Sprintf("buckets=%d", dur.Populated()+took.Populated()), func(b *testing.B) {
			d, t := newDenseHistogram(), newDenseHistogram()
			b.ReportAllocs()
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				got := shapeCounts{summary: "x"}
				if err := decodeShapeAgg(v, &got, d, t); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
