package compare

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The statistics tested as statistics: simulated comparisons from a known long-tailed distribution,
// through the store's HDR histograms, with fixed seeds (so the figures are reproducible, and the
// assertions are on rates with room for their sampling error).

// latencyDist is a long-tailed latency distribution with known percentiles: 5 ms plus a log-normal
// of median 30 ms and σ = 1 (p50 35 ms, p95 163 ms, p99 312 ms, a tail of a few seconds), optionally
// with its tail above the tailFrom quantile (the 97th by default) stretched so that p99 is tailFactor
// times slower, or all of it scale times slower.
type latencyDist struct {
	tailFactor float64 // 0 or 1: unchanged
	tailFrom   float64 // where the stretch starts, a quantile below 0.99; 0: 0.97
	scale      float64 // every value multiplied by it; 0 or 1: unchanged
}

const (
	distShift  = 5_000.0
	distMedian = 30_000.0
	distSigma  = 1.0
)

// baseP99 is the unchanged distribution's 99th percentile.
var baseP99 = latencyDist{}.base(0.99)

func (d latencyDist) base(u float64) float64 {
	return distShift + distMedian*math.Exp(distSigma*math.Sqrt2*math.Erfinv(2*u-1))
}

// stretch maps A's values to B's: identity up to A's tailFrom quantile, then linear so that A's p99
// lands at tailFactor × A's p99.
func (d latencyDist) stretch(x float64) float64 { return d.stretcher()(x) }

// stretcher returns stretch with its constants computed once.
func (d latencyDist) stretcher() func(float64) float64 {
	scale, from := d.scale, d.tailFrom
	if scale == 0 {
		scale = 1
	}
	if from == 0 {
		from = 0.97
	}
	if d.tailFactor == 0 || d.tailFactor == 1 {
		return func(x float64) float64 { return x * scale }
	}
	t, q99 := d.base(from), baseP99
	slope := (d.tailFactor*q99 - t) / (q99 - t)
	return func(x float64) float64 {
		if x *= scale; x > t {
			return t + (x-t)*slope
		}
		return x
	}
}

// quantile is the exact p-th percentile (0 < p < 100).
func (d latencyDist) quantile(p float64) float64 { return d.stretch(d.base(p / 100)) }

func (d latencyDist) sample(r *rand.Rand, n int, dense *hdrhistogram.Histogram) Histogram {
	dense.Reset()
	stretch := d.stretcher()
	for range n {
		x := stretch(distShift + distMedian*math.Exp(distSigma*r.NormFloat64()))
		_ = dense.RecordValue(min(int64(x), 3_600_000_000))
	}
	p := hdrhistogram.NewPacked(1, 3_600_000_000, 2)
	p.MergeFrom(dense)
	return FromHDR(p)
}

func newDense() *hdrhistogram.Histogram { return hdrhistogram.New(1, 3_600_000_000, 2) }

// TestNullComparisons: 200 comparisons of 5 endpoints whose two sides come from the same long-tailed
// distribution (100 to 15,000 transactions a side): at most 5% of the endpoints may be called faster
// or slower, and the unadjusted p-values may not reject more often than their level says.
func TestNullComparisons(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 1))
	dense := newDense()
	sizes := []int{100, 300, 1000, 3000, 10000}
	var endpoints, called, tested, rejected int
	for range 200 {
		eps := make([]Endpoint, len(sizes))
		for i, n := range sizes {
			nb := n + r.IntN(n/2+1) // unequal sides
			eps[i] = Endpoint{Name: fmt.Sprint(i),
				A: Side{Latency: latencyDist{}.sample(r, n, dense)},
				B: Side{Latency: latencyDist{}.sample(r, nb, dense)}}
		}
		for _, res := range Compare(Config{}, eps) {
			endpoints++
			if res.Verdict == Faster || res.Verdict == Slower {
				called++
			}
			if !math.IsNaN(res.PValue) {
				tested++
				if res.PValue < 0.05 {
					rejected++
				}
			}
		}
	}
	lo, hi := wilson(int64(called), int64(endpoints))
	t.Logf("%d endpoints: %d called faster or slower (%.2f%%, 95%% interval %.2f–%.2f%%); unadjusted p < 0.05 in %d of %d (%.2f%%)",
		endpoints, called, 100*float64(called)/float64(endpoints), 100*lo, 100*hi, rejected, tested, 100*float64(rejected)/float64(tested))
	if float64(called) > 0.05*float64(endpoints) {
		t.Errorf("%d of %d endpoints called faster or slower, more than 5%%", called, endpoints)
	}
	if float64(rejected) > 0.06*float64(tested) {
		t.Errorf("p < 0.05 in %d of %d null tests: the test is not valid at its level", rejected, tested)
	}
}

// powerTrials is the number of trials of TestPowerRegression's two headline cases (the others run
// 40% of it): 400 by default, 2,000 for BENCHMARKS.md's figures.
var powerTrials = flag.Int("compare.trials", 400, "TestPowerRegression: trials of the headline cases")

// TestPowerRegression: a 20% regression of p99 with 10,000 transactions a side, alone or in a
// comparison with four unchanged endpoints (2,000 transactions a side), over -compare.trials trials. When
// every transaction is 20% slower (so p99 is), or when the change is confined to the slowest 3% (p99
// +20%, p50 and p95 unchanged: the hard case, which only the tail's 300 transactions a side carry),
// it is found slower in at least 80% of the trials. A change of the slowest 5% to the same p99, and
// slowdowns of every transaction by 10% and by 5% (the smallest change a verdict reports: its
// estimate falls short of 5% about half the time) are held to what they measure
// less a margin, so that a loss of power shows. Unchanged endpoints stay unchanged. The
// figures, with their binomial intervals, are in BENCHMARKS.md ("Compare").
func TestPowerRegression(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        latencyDist
		others   int
		trials   float64 // times -compare.trials
		minPower float64
	}{
		{"all+20%", latencyDist{scale: 1.2}, 4, 1, 0.80},
		{"tail3%/p99+20%", latencyDist{tailFactor: 1.2}, 4, 1, 0.80},
		{"tail3%/p99+20%/alone", latencyDist{tailFactor: 1.2}, 0, 0.4, 0.80},
		{"tail5%/p99+20%", latencyDist{tailFactor: 1.2, tailFrom: 0.95}, 4, 0.4, 0.85},
		{"all+10%", latencyDist{scale: 1.1}, 4, 0.4, 0.95},
		{"all+5%", latencyDist{scale: 1.05}, 4, 0.4, 0.60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(15, 2))
			dense := newDense()
			trials, n := int(tc.trials*float64(*powerTrials)), 10_000
			var found, byTail, falseCalls int
			for range trials {
				eps := []Endpoint{{Name: "regressed",
					A: Side{Latency: latencyDist{}.sample(r, n, dense)},
					B: Side{Latency: tc.b.sample(r, n, dense)}}}
				for i := range tc.others {
					eps = append(eps, Endpoint{Name: fmt.Sprint(i),
						A: Side{Latency: latencyDist{}.sample(r, n/5, dense)},
						B: Side{Latency: latencyDist{}.sample(r, n/5, dense)}})
				}
				res := Compare(Config{}, eps)
				if res[0].Verdict == Slower {
					found++
					if strings.Contains(res[0].Reason, "tail test") {
						byTail++
					}
				}
				for _, o := range res[1:] {
					if o.Verdict == Faster || o.Verdict == Slower {
						falseCalls++
					}
				}
			}
			lo, hi := wilson(int64(found), int64(trials))
			t.Logf("found slower in %d of %d trials (%.1f%%, 95%% interval %.1f–%.1f%%; %d only by the tail test); %d of %d unchanged endpoints called",
				found, trials, 100*float64(found)/float64(trials), 100*lo, 100*hi, byTail, falseCalls, tc.others*trials)
			if float64(found) < tc.minPower*float64(trials) {
				t.Errorf("found in %d of %d trials, want at least %.0f%%", found, trials, 100*tc.minPower)
			}
			if tc.b.tailFactor != 0 && byTail == 0 {
				t.Errorf("no verdict by the tail test: the tail test never carried a change of the tail")
			}
			if falseCalls > tc.others*trials*5/100 {
				t.Errorf("%d of %d unchanged endpoints called faster or slower", falseCalls, tc.others*trials)
			}
		})
	}
}

// TestIntervalCoverage: the 95% intervals of the p50, p95 and p99 differences cover the true
// difference in 90% to 98% of 400 trials, both when nothing changed and when the tail did.
func TestIntervalCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 3))
	dense := newDense()
	const trials = 400
	for _, tc := range []struct {
		name string
		b    latencyDist
		n    int
	}{
		{"same/n=2000", latencyDist{}, 2000},
		{"same/n=10000", latencyDist{}, 10_000},
		{"p99+20%/n=10000", latencyDist{tailFactor: 1.2}, 10_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var covered [3]int
			for range trials {
				a := latencyDist{}.sample(r, tc.n, dense)
				b := tc.b.sample(r, tc.n, dense)
				for i, p := range Percentiles {
					lo, hi, _, ok := percentileDiff(a, b, p)
					if !ok {
						t.Fatalf("p%g: no interval with %d transactions", p, tc.n)
					}
					truth := tc.b.quantile(p) - latencyDist{}.quantile(p)
					if float64(lo) <= truth && truth <= float64(hi) {
						covered[i]++
					}
				}
			}
			for i, p := range Percentiles {
				c := float64(covered[i]) / trials
				lo, hi := wilson(int64(covered[i]), trials)
				t.Logf("p%g: covered in %.1f%% of %d trials (95%% interval %.1f–%.1f%%)", p, 100*c, trials, 100*lo, 100*hi)
				if c < 0.90 || c > 0.98 {
					t.Errorf("p%g: 95%% interval covered the true difference in %.1f%% of trials, want 90–98%%", p, 100*c)
				}
			}
		})
	}
}
