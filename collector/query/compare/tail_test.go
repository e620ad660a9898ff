package compare

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTailTestByHand: the tail test of a small example, against its statistic computed from the
// values one by one: B's sum of durations among the pooled tail, standardised by the mean and
// variance of the sum of that many draws without replacement from the tail.
func TestTailTestByHand(t *testing.T) {
	var av, bv []int64
	for i := range 500 {
		av = append(av, 1000+int64(i)*10)
		bv = append(bv, 1000+int64(i)*10+int64(i%7)*3)
	}
	for i := range 30 { // B's slowest 30 twice as slow
		bv[len(bv)-1-i] *= 2
	}
	a, b := histOf(av), histOf(bv)
	got := tailTest(a, b)
	cut := a.Merge(b).Percentile(95)
	var tail, fromB []float64
	for _, v := range av {
		if v > cut {
			tail = append(tail, float64(v))
		}
	}
	for _, v := range bv {
		if v > cut {
			tail = append(tail, float64(v))
			fromB = append(fromB, float64(v))
		}
	}
	n, k := float64(len(tail)), float64(len(fromB))
	var mean, sumB, ss float64
	for _, x := range tail {
		mean += x / n
	}
	for _, x := range tail {
		ss += (x - mean) * (x - mean)
	}
	for _, x := range fromB {
		sumB += x
	}
	wantZ := (sumB - k*mean) / math.Sqrt(k*(n-k)/(n*(n-1))*ss)
	if got.Cut != cut || got.CountA+got.CountB != int64(n) || got.CountB != int64(k) {
		t.Fatalf("cut %d, counts %d+%d; want %d, %v of %v from B", got.Cut, got.CountA, got.CountB, cut, k, n)
	}
	if math.Abs(got.Z-wantZ) > 1e-9*math.Abs(wantZ) || !(got.Z > 3) {
		t.Errorf("Z = %v, want %v (and well above 0)", got.Z, wantZ)
	}
	if math.Abs(got.PValue-twoSided(wantZ)) > 1e-12 {
		t.Errorf("p = %v, want %v", got.PValue, twoSided(wantZ))
	}
	if back := tailTest(b, a); math.Abs(back.Z+got.Z) > 1e-9 || back.CountA != got.CountB {
		t.Errorf("B against A: Z %v, counts %d+%d; want %v", back.Z, back.CountA, back.CountB, -got.Z)
	}
}

// TestTailTestSmall: with fewer than 40 transactions in the pooled tail, or one side's only, the
// durations are not tested; the count still is.
func TestTailTestSmall(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b Histogram
		tail int64
		run  bool
	}{
		{"39 in the tail", spread(390, 1000, 5000), spread(390, 1001, 5001), 39, false},
		{"40 in the tail", spread(400, 1000, 5000), spread(400, 1001, 5001), 40, true},
		{"B's only", spread(2000, 1000, 5000), scale(spread(2000, 1000, 5000), 2), 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := tailTest(tc.a, tc.b)
			if tt.CountA+tt.CountB != tc.tail {
				t.Fatalf("%d+%d in the tail, want %d", tt.CountA, tt.CountB, tc.tail)
			}
			if ran := !math.IsNaN(tt.PValue); ran != tc.run {
				t.Errorf("durations tested: %v, want %v (%d+%d in the tail)", ran, tc.run, tt.CountA, tt.CountB)
			}
			if math.IsNaN(tt.CountPValue) {
				t.Errorf("no count p-value")
			}
		})
	}
}

// TestTailTestNull: when A and B come from one long-tailed distribution, each part of the tail test
// rejects at 5% in 5% of 2,000 comparisons (3.75–6.25% is the binomial 99% range), and at 1% in 1%.
func TestTailTestNull(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 4))
	dense := newDense()
	const trials = 2000
	var dur5, dur1, cnt5, cnt1 int
	for i := range trials {
		n := 1000 + i%4*1000
		tt := tailTest(latencyDist{}.sample(r, n, dense), latencyDist{}.sample(r, n+i%3*300, dense))
		for _, c := range []struct {
			p      float64
			n5, n1 *int
		}{{tt.PValue, &dur5, &dur1}, {tt.CountPValue, &cnt5, &cnt1}} {
			if c.p < 0.05 {
				*c.n5++
			}
			if c.p < 0.01 {
				*c.n1++
			}
		}
	}
	t.Logf("durations: p < 0.05 in %d, p < 0.01 in %d of %d; count: %d, %d", dur5, dur1, trials, cnt5, cnt1)
	for _, c := range []struct {
		name   string
		n5, n1 int
	}{{"durations", dur5, dur1}, {"count", cnt5, cnt1}} {
		if c.n5 < 75 || c.n5 > 125 || c.n1 > 32 {
			t.Errorf("%s: p < 0.05 in %d and p < 0.01 in %d of %d null comparisons", c.name, c.n5, c.n1, trials)
		}
	}
}
