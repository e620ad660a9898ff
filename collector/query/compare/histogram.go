package compare

import (
	"math"
	"math/bits"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Bucket is one bucket of a latency histogram: Count transactions whose durations lie from Low to
// Value µs. Value is the highest duration the bucket holds, the value a percentile falling in it
// reports. A Low of 0 (or above Value) means Value: a bucket of one value.
type Bucket struct {
	Low   int64
	Value int64
	Count int64
}

// low is the lowest value of b.
func (b Bucket) low() int64 {
	if b.Low <= 0 || b.Low > b.Value {
		return b.Value
	}
	return b.Low
}

// Histogram is a latency histogram: buckets in ascending order of Value, each with a positive Count.
// The transactions of one bucket are ties for every test here: the histogram cannot tell them apart.
type Histogram []Bucket

// FromHDR returns the buckets of an HDR histogram, each at the highest value of its HDR bucket (the
// value the store's percentiles report). nil gives an empty histogram.
func FromHDR(h *hdrhistogram.PackedHistogram) Histogram {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	// An HDR bucket starting at v holds the values from v to v + 2^max(0, ⌊log2 v⌋ − m) − 1 (in units of
	// the lowest discernible value), where 2^(m+1) is its sub-bucket count: the smallest power of two
	// of at least 2 × 10^digits.
	unit := bits.Len64(uint64(h.LowestTrackableValue())) - 1
	sub := int(math.Ceil(math.Log2(2 * math.Pow10(int(h.SignificantFigures())))))
	out := make(Histogram, 0, h.Populated())
	for v, n := range h.ForEachBucket {
		shift := max(0, bits.Len64(uint64(v>>unit))-sub) + unit
		hi := v>>shift<<shift + 1<<shift - 1
		out = append(out, Bucket{Low: v, Value: hi, Count: n})
	}
	return out
}

// Total is the number of transactions in h.
func (h Histogram) Total() int64 {
	var n int64
	for _, b := range h {
		n += b.Count
	}
	return n
}

// rank is the rank of percentile p (0 < p ≤ 100) among n values: max(1, round(p/100 × n)), as the
// query API reads percentiles.
func rank(p float64, n int64) int64 {
	return max(1, int64(math.Round(p/100*float64(n))))
}

// Percentile is the value of the bucket holding rank max(1, round(p/100 × n)) of h's n transactions;
// 0 for an empty histogram.
func (h Histogram) Percentile(p float64) int64 {
	n := h.Total()
	if n == 0 {
		return 0
	}
	r, c := rank(p, n), int64(0)
	for _, b := range h {
		c += b.Count
		if c >= r {
			return b.Value
		}
	}
	return h[len(h)-1].Value
}

// cumulative returns the running counts of h: cum[i] = transactions in buckets 0..i.
func (h Histogram) cumulative() []int64 {
	cum := make([]int64, len(h))
	var c int64
	for i, b := range h {
		c += b.Count
		cum[i] = c
	}
	return cum
}

// Merge returns the histogram of the transactions of h and o together.
func (h Histogram) Merge(o Histogram) Histogram {
	out := make(Histogram, 0, len(h)+len(o))
	i, j := 0, 0
	for i < len(h) || j < len(o) {
		switch {
		case j == len(o) || i < len(h) && h[i].Value < o[j].Value:
			out = append(out, h[i])
			i++
		case i == len(h) || o[j].Value < h[i].Value:
			out = append(out, o[j])
			j++
		default:
			out = append(out, Bucket{Low: min(h[i].low(), o[j].low()), Value: h[i].Value, Count: h[i].Count + o[j].Count})
			i, j = i+1, j+1
		}
	}
	return out
}
