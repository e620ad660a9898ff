package compare

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkCompare50Endpoints: the statistics of a comparison of 50 endpoints, 10,000 transactions a
// side each, from their HDR histograms (what /api/v1/compare adds to reading the aggregates).
func BenchmarkCompare50Endpoints(b *testing.B) {
	r := rand.New(rand.NewPCG(50, 50))
	dense := newDense()
	eps := make([]Endpoint, 50)
	for i := range eps {
		eps[i] = Endpoint{Name: fmt.Sprint(i),
			A: Side{Latency: latencyDist{}.sample(r, 10_000, dense), Successes: 9990, Failures: 10},
			B: Side{Latency: latencyDist{scale: 1 + float64(i%3)/10}.sample(r, 10_000, dense), Successes: 9980, Failures: 20}}
	}
	b.ReportAllocs()
	for b.Loop() {
		Compare(Config{}, eps)
	}
}
