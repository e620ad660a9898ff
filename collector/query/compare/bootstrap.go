package compare

import (
	"math"
)

// The intervals of the percentiles' differences are percentile-bootstrap intervals computed exactly,
// without resampling. Resampling n transactions from a histogram and reading the percentile of rank r
// gives a value in bucket k or below exactly when at least r of the n draws fall there, so the
// bootstrap distribution of that percentile is, for c_k transactions in buckets 0 to k,
//
//	P(Q* ≤ bucket k) = P(Binomial(n, c_k / n) ≥ r)
//
// (Hutson & Ernst, 2000). Within a bucket the probability is spread evenly over the bucket's values:
// the histogram does not know where in its bucket a transaction fell, and without this the
// distribution would be a lattice of bucket widths whose intervals cover more than they should. The
// two sides are resampled independently, so the difference Q*_B − Q*_A has the convolution of their
// distributions; its 2.5% and 97.5% points are found by bisection over whole microseconds. The answer
// is what an infinite number of resamples would give: deterministic (the same store always shows the
// same interval), free of Monte Carlo error, and cheap (a few dozen incomplete beta functions a side).

// tailCut is the bootstrap probability left out at each end of a percentile's distribution.
const tailCut = 1e-9

// bootDist is the bootstrap distribution of one percentile over the buckets where it may fall (from
// the first with more than tailCut below it to the first with more than 1 − tailCut).
type bootDist struct {
	lo, hi    []float64 // the buckets' bounds: from lo (included) to hi (excluded), in µs
	prev, cdf []float64 // P(Q* below the bucket), P(Q* in the bucket or below)
}

func bootstrap(h Histogram, p float64) bootDist {
	n := h.Total()
	r := rank(p, n)
	cum := h.cumulative()
	cdf := func(k int) float64 {
		if k < 0 {
			return 0
		}
		return binomialSF(r, n, float64(cum[k])/float64(n))
	}
	// The cdf grows with k: find the trimmed range by bisection, then evaluate it.
	lo := firstIndex(len(h), func(k int) bool { return cdf(k) > tailCut })
	hi := min(firstIndex(len(h), func(k int) bool { return cdf(k) >= 1-tailCut }), len(h)-1)
	d := bootDist{}
	prev := cdf(lo - 1)
	for k := lo; k <= hi; k++ {
		c := cdf(k)
		if k == hi {
			c = 1
		}
		d.lo = append(d.lo, float64(h[k].low()))
		d.hi = append(d.hi, float64(h[k].Value+1))
		d.prev = append(d.prev, prev)
		d.cdf = append(d.cdf, c)
		prev = c
	}
	return d
}

// firstIndex is the smallest i in [0, n) with f(i), or n; f must be monotone.
func firstIndex(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f(m) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// at is P(Q* < x).
func (d bootDist) at(x float64) float64 {
	i := firstIndex(len(d.hi), func(i int) bool { return d.hi[i] > x })
	switch {
	case i == len(d.hi):
		return 1
	case x <= d.lo[i]:
		return d.prev[i]
	}
	return d.prev[i] + (d.cdf[i]-d.prev[i])*(x-d.lo[i])/(d.hi[i]-d.lo[i])
}

// diffCDF is P(Q*_B − Q*_A < x), each bucket of A taken at its middle.
func diffCDF(a, b bootDist, x float64) float64 {
	var s float64
	for i := range a.lo {
		if pa := a.cdf[i] - a.prev[i]; pa > 0 {
			s += pa * b.at((a.lo[i]+a.hi[i])/2+x)
		}
	}
	return s
}

// diffQuantile is the smallest whole x with P(Q*_B − Q*_A < x) ≥ q.
func diffQuantile(a, b bootDist, q float64) int64 {
	lo := int64(b.lo[0] - a.hi[len(a.hi)-1])
	hi := int64(b.hi[len(b.hi)-1] - a.lo[0])
	for lo < hi {
		m := lo + (hi-lo)>>1
		if diffCDF(a, b, float64(m)) >= q {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// minTail is the fewest transactions a side must have on each side of a percentile for its interval:
// with fewer, the percentile is one of the last few transactions and no interval can be trusted.
const minTail = 5

// percentileDiff is the bootstrap's answer for the difference of percentile p (B − A): its 95%
// interval and the p-value of "no difference" (twice the bootstrap probability on the far side of 0,
// the smallest level whose interval leaves 0 out). ok is false when a side has too few transactions
// beyond the percentile.
func percentileDiff(a, b Histogram, p float64) (lo, hi int64, pValue float64, ok bool) {
	for _, h := range [2]Histogram{a, b} {
		n := float64(h.Total())
		if n*min(p, 100-p)/100 < minTail {
			return 0, 0, math.NaN(), false
		}
	}
	da, db := bootstrap(a, p), bootstrap(b, p)
	below := diffCDF(da, db, 0)
	return diffQuantile(da, db, 0.025), diffQuantile(da, db, 0.975), min(1, 2*min(below, 1-below)), true
}

// wilson is the Wilson score interval of the proportion x / n at 95%.
func wilson(x, n int64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p, nf := float64(x)/float64(n), float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return max(0, mid-half), min(1, mid+half)
}

// newcombe is the 95% interval of x2/n2 − x1/n1 by Newcombe's hybrid score method (his method 10),
// built from the two Wilson intervals: unlike the Wald interval it behaves with rates near 0, as
// error rates are.
func newcombe(x1, n1, x2, n2 int64) (lo, hi float64) {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := wilson(x1, n1)
	l2, u2 := wilson(x2, n2)
	d := p2 - p1
	lo = d - math.Sqrt((p2-l2)*(p2-l2)+(u1-p1)*(u1-p1))
	hi = d + math.Sqrt((u2-p2)*(u2-p2)+(p1-l1)*(p1-l1))
	return lo, hi
}
