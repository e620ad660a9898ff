package compare

import (
	"cmp"
	"math"
	"slices"
)

// MannWhitney is the Mann–Whitney U test (Wilcoxon rank-sum) of A against B.
type MannWhitney struct {
	// U is the U statistic of B: the pairs (a, b) with b slower than a, ties counted half.
	U float64
	// ProbSlower is U / (nA × nB): the probability that a transaction of B is slower than one of A,
	// ties counted half; 0.5 when neither tends to be slower.
	ProbSlower float64
	// Z is the normal approximation's statistic (with the variance corrected for ties and a
	// continuity correction); PValue its two-sided p-value.
	Z, PValue float64
}

// mannWhitney computes the test from the histograms: a bucket's transactions share their midrank, and
// the variance is reduced by the ties' Σ(t³ − t) / (N(N − 1)) term, so that the test stays exact in
// its first two moments however coarse the buckets. The normal approximation holds once both sides
// have more than about 20 transactions; the verdict needs many more.
func mannWhitney(a, b Histogram) MannWhitney {
	na, nb := float64(a.Total()), float64(b.Total())
	if na == 0 || nb == 0 {
		return MannWhitney{ProbSlower: 0.5, PValue: 1}
	}
	n := na + nb
	var below, rankSumB, ties float64 // below: transactions in lower buckets
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var ca, cb float64
		switch {
		case j == len(b) || i < len(a) && a[i].Value < b[j].Value:
			ca = float64(a[i].Count)
			i++
		case i == len(a) || b[j].Value < a[i].Value:
			cb = float64(b[j].Count)
			j++
		default:
			ca, cb = float64(a[i].Count), float64(b[j].Count)
			i, j = i+1, j+1
		}
		t := ca + cb
		rankSumB += cb * (below + (t+1)/2)
		ties += t*t*t - t
		below += t
	}
	u := rankSumB - nb*(nb+1)/2
	mean := na * nb / 2
	sd := math.Sqrt(na * nb / 12 * ((n + 1) - ties/(n*(n-1))))
	m := MannWhitney{U: u, ProbSlower: u / (na * nb), PValue: 1}
	if sd > 0 {
		d := u - mean
		d -= math.Copysign(min(0.5, math.Abs(d)), d) // continuity correction
		m.Z = d / sd
		m.PValue = twoSided(m.Z)
	}
	return m
}

// KolmogorovSmirnov is the two-sample Kolmogorov–Smirnov test.
type KolmogorovSmirnov struct {
	// D is the largest difference between the two cumulative distributions, read at bucket bounds.
	D float64
	// PValue is from Kolmogorov's asymptotic distribution (with Stephens' small-sample correction).
	// Ties make it conservative: the true p-value is no larger.
	PValue float64
}

func kolmogorovSmirnov(a, b Histogram) KolmogorovSmirnov {
	na, nb := float64(a.Total()), float64(b.Total())
	if na == 0 || nb == 0 {
		return KolmogorovSmirnov{PValue: 1}
	}
	var fa, fb, d float64
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Value < b[j].Value:
			fa += float64(a[i].Count)
			i++
		case i == len(a) || b[j].Value < a[i].Value:
			fb += float64(b[j].Count)
			j++
		default:
			fa, fb = fa+float64(a[i].Count), fb+float64(b[j].Count)
			i, j = i+1, j+1
		}
		d = max(d, math.Abs(fa/na-fb/nb))
	}
	en := math.Sqrt(na * nb / (na + nb))
	return KolmogorovSmirnov{D: d, PValue: kolmogorovSF((en + 0.12 + 0.11/en) * d)}
}

// twoProportion is the two-sided p-value of the hypothesis x1/n1 = x2/n2: the pooled z-test, or
// Fisher's exact test when a cell of the 2×2 table expects fewer than 5 counts (where the normal
// approximation is too optimistic). 1 when either n is 0.
func twoProportion(x1, n1, x2, n2 int64) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	m, total := x1+x2, n1+n2
	if m == 0 || m == total {
		return 1
	}
	pool := float64(m) / float64(total)
	if float64(min(n1, n2))*min(pool, 1-pool) < 5 {
		if p, ok := fisherExact(x1, n1, n2, m); ok {
			return p
		}
	}
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	return twoSided((float64(x1)/float64(n1) - float64(x2)/float64(n2)) / se)
}

// fisherExact is the two-sided p-value of Fisher's exact test for the 2×2 table with x1 of n1 and
// m − x1 of n2: the probability of every table with the same margins at most as likely as this one.
// ok is false when the tables to add up are too many (then the z-test is accurate anyway).
func fisherExact(x1, n1, n2, m int64) (p float64, ok bool) {
	lo, hi := max(0, m-n2), min(n1, m)
	if hi-lo > 1_000_000 {
		return 0, false
	}
	norm := logChoose(n1+n2, m)
	logP := func(x int64) float64 { return logChoose(n1, x) + logChoose(n2, m-x) - norm }
	obs := logP(x1)
	for x := lo; x <= hi; x++ {
		if lp := logP(x); lp <= obs+1e-7 {
			p += math.Exp(lp)
		}
	}
	return min(1, p), true
}

// benjaminiHochberg returns the q-values of ps (Benjamini–Hochberg's adjusted p-values, which
// control the false discovery rate across them); NaN entries are not tests and stay NaN.
func benjaminiHochberg(ps []float64) []float64 {
	idx := make([]int, 0, len(ps))
	for i, p := range ps {
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(i, j int) int { return cmp.Compare(ps[i], ps[j]) })
	qs := make([]float64, len(ps))
	for i := range qs {
		qs[i] = math.NaN()
	}
	m, run := float64(len(idx)), 1.0
	for k := len(idx) - 1; k >= 0; k-- {
		run = min(run, ps[idx[k]]*m/float64(k+1))
		qs[idx[k]] = run
	}
	return qs
}
