package compare

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// spread is a histogram of n transactions evenly spread from lo to hi µs (one bucket per value step).
func spread(n int, lo, hi int64) Histogram {
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = lo + (hi-lo)*int64(i)/int64(max(n-1, 1))
	}
	return histOf(vs)
}

// stretchTail is h with the values above the 90th percentile multiplied by f.
func stretchTail(h Histogram, f float64) Histogram {
	t := h.Percentile(90)
	var vs []int64
	for _, b := range h {
		for range b.Count {
			v := b.Value
			if v > t {
				v = int64(float64(v) * f)
			}
			vs = append(vs, v)
		}
	}
	return histOf(vs)
}

func scale(h Histogram, f float64) Histogram {
	out := make(Histogram, len(h))
	for i, b := range h {
		out[i] = Bucket{Value: int64(float64(b.Value) * f), Count: b.Count}
	}
	return out
}

func TestVerdicts(t *testing.T) {
	base := spread(2000, 10_000, 50_000)
	for _, tc := range []struct {
		name   string
		a, b   Histogram
		want   Verdict
		reason string
	}{
		{"same", base, base, NoChange, "no significant difference"},
		{"slower", base, scale(base, 1.3), Slower, "slower at p50 +30%, p95 +30%, p99 +30%"},
		{"faster", base, scale(base, 0.7), Faster, "faster at p50 -30%"},
		{"tail only", base, stretchTail(base, 1.5), Slower, "slower at p95 +"},
		// 2% slower everywhere: with 20,000 transactions a side significant, but under 5%.
		{"significant, small", spread(20000, 10_000, 50_000), scale(spread(20000, 10_000, 50_000), 1.02), NoChange, "but no percentile moved by 5%"},
		// 30% slower but by 30 µs: under the 100 µs floor.
		{"fast endpoint", spread(2000, 100, 120), scale(spread(2000, 100, 120), 1.3), NoChange, "and 100 µs"},
		{"mixed", base, stretchTail(scale(base, 0.8), 2), Slower, "though faster at p50"},
		{"too few A", spread(99, 10_000, 50_000), base, TooFew, "99 and 2000 transactions: a verdict needs 100"},
		{"too few B", base, spread(99, 10_000, 50_000), TooFew, "needs 100 on each side"},
		{"enough", spread(100, 10_000, 50_000), scale(spread(100, 10_000, 50_000), 2), Slower, "slower"},
		{"empty", nil, base, TooFew, "0 and 2000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Compare(Config{}, []Endpoint{{Name: "GET /x", A: Side{Latency: tc.a}, B: Side{Latency: tc.b}}})[0]
			if res.Verdict != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("%s (%q), want %s (%q)", res.Verdict, res.Reason, tc.want, tc.reason)
			}
			if tc.want == TooFew && !math.IsNaN(res.PValue) {
				t.Errorf("too_few with a p-value %v", res.PValue)
			}
			for _, pc := range res.Percentiles {
				if pc.Delta != pc.B-pc.A {
					t.Errorf("p%g: delta %d, want %d", pc.P, pc.Delta, pc.B-pc.A)
				}
				if pc.HasCI && (pc.CILo > pc.CIHi) {
					t.Errorf("p%g: interval [%d, %d]", pc.P, pc.CILo, pc.CIHi)
				}
			}
		})
	}
}

// TestCompareAdjusts: one p-value among many is adjusted upwards (Benjamini–Hochberg), and an
// endpoint with too few transactions is not counted among the tests.
func TestCompareAdjusts(t *testing.T) {
	base := spread(2000, 10_000, 50_000)
	eps := []Endpoint{{Name: "changed", A: Side{Latency: base}, B: Side{Latency: scale(base, 1.3)}}}
	for range 5 {
		eps = append(eps, Endpoint{Name: "same", A: Side{Latency: base}, B: Side{Latency: base}})
	}
	eps = append(eps, Endpoint{Name: "few", A: Side{Latency: spread(10, 1, 10)}, B: Side{Latency: spread(10, 1, 10)}})
	res := Compare(Config{}, eps)
	if res[0].QValue < res[0].PValue || res[0].QValue > 6*res[0].PValue {
		t.Errorf("q = %v for p = %v among 6 tests", res[0].QValue, res[0].PValue)
	}
	if !math.IsNaN(res[6].QValue) || res[6].Verdict != TooFew {
		t.Errorf("too few: q %v, verdict %s", res[6].QValue, res[6].Verdict)
	}
}

func TestErrorVerdicts(t *testing.T) {
	h := spread(2000, 10_000, 50_000)
	for _, tc := range []struct {
		name                   string
		okA, failA, okB, failB int64
		want                   ErrorVerdict
	}{
		{"same", 1900, 100, 1900, 100, ErrorsSame},
		{"more", 1990, 10, 1800, 200, MoreErrors},
		{"fewer", 1800, 200, 1990, 10, FewerErrors},
		{"few", 50, 49, 1000, 0, ErrorsTooFew},
		{"small counts", 2000, 0, 1995, 5, ErrorsSame}, // Fisher: p = 0.06
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Compare(Config{}, []Endpoint{{A: Side{Latency: h, Successes: tc.okA, Failures: tc.failA},
				B: Side{Latency: h, Successes: tc.okB, Failures: tc.failB}}})[0].Errors
			if e.Verdict != tc.want {
				t.Errorf("%s (%+v), want %s", e.Verdict, e, tc.want)
			}
			if tc.want != ErrorsTooFew && !(e.CILo <= e.Delta && e.Delta <= e.CIHi) {
				t.Errorf("delta %v outside its interval [%v, %v]", e.Delta, e.CILo, e.CIHi)
			}
		})
	}
}

// TestCompareManyEndpoints: with enough endpoints to be compared by several goroutines, each result
// is its own endpoint's, in the endpoints' order, as compared one at a time.
func TestCompareManyEndpoints(t *testing.T) {
	base := spread(500, 10_000, 50_000)
	var eps []Endpoint
	for i := range 40 {
		eps = append(eps, Endpoint{Name: fmt.Sprint(i), A: Side{Latency: base}, B: Side{Latency: scale(base, 1+float64(i%4)/10)}})
	}
	res := Compare(Config{}, eps)
	for i, r := range res {
		one := compareOne(Config{}.WithDefaults(), eps[i])
		if r.Name != eps[i].Name || r.PValue != one.PValue || r.Percentiles != one.Percentiles {
			t.Errorf("endpoint %d: %s p = %v, want %s p = %v", i, r.Name, r.PValue, eps[i].Name, one.PValue)
		}
	}
}
