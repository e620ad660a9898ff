package query

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestStatsPercentiles: p50, p95 and p99 are never below the exact percentile of the values (the value
// of rank max(1, round(p/100 × n))), and at most 1% above it.
func TestStatsPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, 99, 100, 101, 1000, 20000} {
		vals := make([]int64, n)
		var sum int64
		h := hist()
		for i := range vals {
			vals[i] = 1 + int64(r.ExpFloat64()*50_000) // µs, long tail
			if r.IntN(100) == 0 {
				vals[i] *= 80
			}
			sum += vals[i]
			_ = h.RecordValue(vals[i])
		}
		s := statsOf(collector.Aggregate{Count: int64(n), Represented: float64(n), Successes: int64(n), Sum: time.Duration(sum) * time.Microsecond, Latency: h}, 10)
		slices.Sort(vals)
		exact := func(p float64) int64 {
			rank := max(int64(p/100*float64(n)+0.5), 1)
			return vals[rank-1]
		}
		for _, c := range []struct {
			p   float64
			got int64
		}{{50, s.Latency.P50}, {95, s.Latency.P95}, {99, s.Latency.P99}, {100, s.Latency.Max}} {
			e := exact(c.p)
			if c.got < e || float64(c.got-e) > float64(e)/100 {
				t.Errorf("n=%d p%v: %d, exact %d", n, c.p, c.got, e)
			}
		}
		if want := float64(sum) / float64(n); s.Latency.Mean < want-0.001 || s.Latency.Mean > want+0.001 {
			t.Errorf("n=%d mean %v, want %v", n, s.Latency.Mean, want)
		}
		if s.ThroughputPerMinute != round3(float64(n)/10) || *s.ErrorRate != 0 {
			t.Errorf("n=%d: %+v", n, s)
		}
	}
	if s := statsOf(collector.Aggregate{Latency: hist()}, 0); s.Latency != nil || s.ErrorRate != nil || s.ThroughputPerMinute != 0 {
		t.Errorf("empty: %+v", s)
	}
}

func TestRangeMinutes(t *testing.T) {
	for _, c := range []struct {
		from, to time.Time
		want     float64
	}{
		{now.Add(-time.Hour), now, 60},
		{now.Add(-time.Hour + 30*time.Second), now, 60},
		{now.Add(-time.Hour), now.Add(time.Second), 61},
	} {
		if got := rangeMinutes(c.from, c.to); got != c.want {
			t.Errorf("%v..%v: %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestHistogramBins(t *testing.T) {
	for _, c := range []struct{ v, from, to int64 }{
		{1, 0, 10}, {9, 0, 10}, {10, 10, 12}, {11, 10, 12}, {12, 12, 15}, {99, 80, 100}, {100, 100, 120},
		{4_000_000, 4_000_000, 5_000_000}, {3_600_000_000, 3_000_000_000, 4_000_000_000},
	} {
		i := binIndex(c.v)
		if binBound(i) != c.from || binBound(i+1) != c.to {
			t.Errorf("%d µs in [%d, %d), want [%d, %d)", c.v, binBound(i), binBound(i+1), c.from, c.to)
		}
	}
	bins := histogramBins(hist(5, 1500, 1500, 4_100_000))
	var total int64
	for i, b := range bins {
		total += b.Count
		if i > 0 && b.FromUS != bins[i-1].ToUS {
			t.Fatalf("bars not contiguous: %+v", bins)
		}
	}
	if total != 4 || bins[0].FromUS != 0 || bins[len(bins)-1].FromUS != 4_000_000 || len(bins) != 58 {
		t.Errorf("%d bars, total %d: first %+v last %+v", len(bins), total, bins[0], bins[len(bins)-1])
	}
	if got := histogramBins(hist()); got == nil || len(got) != 0 {
		t.Errorf("empty histogram: %#v", got)
	}
}
