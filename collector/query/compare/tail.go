package compare

import "math"

// TailFraction is the share of the slowest transactions the tail test looks at: the slowest 5% of A
// and B together, the part of the distributions p95 and p99 describe.
const TailFraction = 0.05

// minTailTest is the fewest transactions the pooled tail must hold for the test of their durations:
// below it the normal approximation of the permutation distribution is not to be trusted with long
// tails.
const minTailTest = 40

// TailTest is the test of the slowest transactions, in two parts that are independent when A and B
// have one distribution: how many of the slowest 5% of A and B together are B's, and, among those
// slowest 5%, whether B's are slower than A's.
//
// The count is a two-proportion test of A's and B's shares in the pooled tail (Fisher's exact test
// for small counts). The durations are a permutation test conditional on the tail: when A and B have
// one distribution, whichever transactions make up the pooled slowest 5%, which of them came from B is
// a random draw, and B's sum of durations among them has a known mean and variance under every such
// draw (those of sampling without replacement); Z standardises it. Conditioning on the tail is what
// gives the test its power: a change confined to the slowest few percent leaves the bulk, which
// dominates Mann–Whitney's ranks, untouched, and moves B's tail durations, which the durations
// themselves (not their ranks, which within the tail ignore by how much) carry.
//
// The alternatives measured on the hard case of TestPowerRegression (the slowest 3% stretched so
// that p99 is 20% slower, 10,000 a side), by their mean z: these durations 3.5; their logarithms
// 3.3; their ranks within the tail 2.1; each side's own slowest 5% compared by the mean of their
// logarithms 2.9; the bootstrap test of p99 3.0; Mann–Whitney 0. A tail from the pooled 97th
// percentile would give 3.9 here, but only because the simulated change starts there.
type TailTest struct {
	// Cut is the pooled 95th percentile (µs): the tail is the transactions of the buckets above it.
	Cut int64
	// CountA and CountB are each side's transactions in the tail.
	CountA, CountB int64
	// CountPValue tests that the tail holds the same share of A's transactions as of B's.
	CountPValue float64
	// MeanA and MeanB are the mean durations (µs) of each side's transactions in the tail.
	MeanA, MeanB float64
	// Z is the standardised sum of B's tail durations (positive: B's tail slower); PValue its
	// two-sided p-value. Both NaN when the tail holds fewer than 40 transactions or only one side's.
	Z, PValue float64
}

// tailTest runs the tail test on a and b. Each bucket's transactions are taken at the bucket's middle.
func tailTest(a, b Histogram) TailTest {
	t := TailTest{Z: math.NaN(), PValue: math.NaN()}
	t.Cut = a.Merge(b).Percentile(100 * (1 - TailFraction))
	// Two passes: the sums, then the squares about the tail's mean (durations reach 10^9 µs and
	// their squares would cancel badly).
	var sumA, sumB float64
	tail := func(h Histogram, f func(x, c float64)) {
		for _, k := range h {
			if k.Value > t.Cut {
				f(float64(k.low()+k.Value)/2, float64(k.Count))
			}
		}
	}
	tail(a, func(x, c float64) { t.CountA += int64(c); sumA += c * x })
	tail(b, func(x, c float64) { t.CountB += int64(c); sumB += c * x })
	t.CountPValue = twoProportion(t.CountA, a.Total(), t.CountB, b.Total())
	na, nb := float64(t.CountA), float64(t.CountB)
	if na > 0 {
		t.MeanA = sumA / na
	}
	if nb > 0 {
		t.MeanB = sumB / nb
	}
	n := na + nb
	if n < minTailTest || na == 0 || nb == 0 {
		return t
	}
	mean, ss := (sumA+sumB)/n, 0.0
	sq := func(x, c float64) { ss += c * (x - mean) * (x - mean) }
	tail(a, sq)
	tail(b, sq)
	v := na * nb / (n * (n - 1)) * ss
	if !(v > 0) {
		t.Z, t.PValue = 0, 1
		return t
	}
	t.Z = (sumB - nb*mean) / math.Sqrt(v)
	t.PValue = twoSided(t.Z)
	return t
}
