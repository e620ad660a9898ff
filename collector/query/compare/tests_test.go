package compare

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

func TestBinomialSF(t *testing.T) {
	// Exact values, from sums of binomial terms in rational arithmetic.
	for _, tc := range []struct {
		r, n int64
		p    float64
		want float64
	}{
		{20, 50, 0.3, 0.08480259855382563},
		{1, 10, 0.5, 0.9990234375},
		{990, 1000, 0.99, 0.5830408033010982},
		{5, 200, 0.01, 0.05174626363078589},
		{0, 10, 0.5, 1},
		{11, 10, 0.5, 0},
	} {
		if got := binomialSF(tc.r, tc.n, tc.p); math.Abs(got-tc.want) > 1e-10 {
			t.Errorf("P(Bin(%d, %g) ≥ %d) = %.15g, want %.15g", tc.n, tc.p, tc.r, got, tc.want)
		}
	}
}

func TestFisherExact(t *testing.T) {
	for _, tc := range []struct {
		x1, n1, n2, m int64
		want          float64
	}{
		{0, 1000, 1000, 5, 0.06218757851634881},
		{3, 20, 30, 10, 0.7199413968946287},
		{1, 10, 10, 5, 0.30340557275541796},
	} {
		got, ok := fisherExact(tc.x1, tc.n1, tc.n2, tc.m)
		if !ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("fisherExact(%d, %d, %d, %d) = %v, %v; want %v", tc.x1, tc.n1, tc.n2, tc.m, got, ok, tc.want)
		}
	}
	// 0 of 1,000 against 5 of 1,000: the z-test would say 0.025; Fisher's test, which twoProportion
	// uses for counts this small, does not call it significant.
	if p := twoProportion(0, 1000, 5, 1000); math.Abs(p-0.06218757851634881) > 1e-9 {
		t.Errorf("twoProportion(0/1000, 5/1000) = %v, want Fisher's 0.0622", p)
	}
	if p := twoProportion(0, 0, 5, 1000); p != 1 {
		t.Errorf("twoProportion with an empty side = %v, want 1", p)
	}
}

// TestMannWhitneyU: U from the histograms equals the count of slower pairs (ties half) done pair by
// pair, and the test is symmetric.
func TestMannWhitneyU(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		var a, b []int64
		for range 1 + r.IntN(60) {
			a = append(a, 1+r.Int64N(8))
		}
		for range 1 + r.IntN(60) {
			b = append(b, 2+r.Int64N(8))
		}
		var pairs float64
		for _, x := range a {
			for _, y := range b {
				switch {
				case y > x:
					pairs++
				case y == x:
					pairs += 0.5
				}
			}
		}
		ha, hb := histOf(a), histOf(b)
		m, back := mannWhitney(ha, hb), mannWhitney(hb, ha)
		if m.U != pairs {
			t.Fatalf("U = %v, want %v pairs", m.U, pairs)
		}
		if math.Abs(m.PValue-back.PValue) > 1e-12 || math.Abs(m.ProbSlower+back.ProbSlower-1) > 1e-12 {
			t.Fatalf("not symmetric: %+v against %+v", m, back)
		}
	}
	if m := mannWhitney(histOf([]int64{5, 5, 5}), histOf([]int64{5, 5})); m.PValue != 1 || m.ProbSlower != 0.5 {
		t.Errorf("all ties: %+v, want p = 1 and 0.5", m)
	}
}

func TestKolmogorovSmirnov(t *testing.T) {
	a := histOf([]int64{1, 2, 3, 4})
	b := histOf([]int64{3, 4, 5, 6})
	if ks := kolmogorovSmirnov(a, b); ks.D != 0.5 {
		t.Errorf("D = %v, want 0.5", ks.D)
	}
	if ks := kolmogorovSmirnov(a, a); ks.D != 0 || ks.PValue != 1 {
		t.Errorf("same sample: %+v, want D 0, p 1", ks)
	}
	// Far apart, large: certainly different.
	var x, y []int64
	for i := range 500 {
		x, y = append(x, int64(i)), append(y, int64(i+400))
	}
	if ks := kolmogorovSmirnov(histOf(x), histOf(y)); ks.PValue > 1e-10 {
		t.Errorf("disjoint samples of 500: p = %v", ks.PValue)
	}
}

func TestBenjaminiHochberg(t *testing.T) {
	nan := math.NaN()
	ps := []float64{0.01, 0.04, nan, 0.03, 0.5}
	// Sorted: 0.01, 0.03, 0.04, 0.5 (m = 4): 0.04, min(0.06, 0.0533), 0.04 × 4/3, 0.5.
	want := []float64{0.04, 0.04 * 4 / 3, nan, 0.04 * 4 / 3, 0.5}
	got := benjaminiHochberg(ps)
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("q = %v, want %v", got, want)
		}
	}
}

// TestFromHDR: each bucket is at the highest value its HDR bucket holds, the value the histogram's own
// percentiles report.
func TestFromHDR(t *testing.T) {
	for _, v := range []int64{1, 2, 100, 255, 256, 257, 511, 512, 1000, 12345, 999_999, 3_599_999_999} {
		p := hdrhistogram.NewPacked(1, 3_600_000_000, 2)
		_ = p.RecordValue(v)
		h := FromHDR(p)
		if len(h) != 1 || h[0].Value != p.ValueAtPercentile(100) || h[0].Low > v || h[0].Value < v || h[0].Count != 1 {
			t.Errorf("%d: %+v, want the bucket up to %d", v, h, p.ValueAtPercentile(100))
		}
		if got := h.Percentile(99); got != p.ValueAtPercentile(99) {
			t.Errorf("%d: p99 %d, the histogram says %d", v, got, p.ValueAtPercentile(99))
		}
	}
	if FromHDR(nil) != nil {
		t.Error("nil histogram not empty")
	}
}

// TestPercentileRank: a percentile is the value of rank max(1, round(p/100 × n)).
func TestPercentileRank(t *testing.T) {
	h := histOf([]int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100})
	for _, tc := range []struct {
		p    float64
		want int64
	}{{50, 50}, {95, 100}, {99, 100}, {1, 10}, {0.1, 10}, {14, 10}, {16, 20}} {
		if got := h.Percentile(tc.p); got != tc.want {
			t.Errorf("p%g = %d, want %d", tc.p, got, tc.want)
		}
	}
	if (Histogram{}).Percentile(50) != 0 {
		t.Error("empty histogram has a percentile")
	}
}

// histOf is the histogram of exact values (buckets of one value each).
func histOf(vs []int64) Histogram {
	counts := map[int64]int64{}
	for _, v := range vs {
		counts[v]++
	}
	var h Histogram
	for v := int64(0); len(h) < len(counts); v++ {
		if c := counts[v]; c > 0 {
			h = append(h, Bucket{Value: v, Count: c})
		}
	}
	return h
}
