package elasticsearch

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// The duration histograms of the aggregated metricsets are HDR histograms with the parameters APM
// Server's aggregator uses: values in microseconds from 1 µs to one hour, 2 significant figures. With
// these parameters a sub-bucket holds 256 values (2·10² rounded up to a power of two), the first bucket
// counts every value below 256 exactly, and each following bucket halves the resolution: a value is
// known to within 1/128 of itself. A value is reported as the highest value equivalent to it (32,596 µs
// is reported as 32,639 µs), which is what Kibana sees in transaction.duration.histogram.
//
// Counts are scaled by 1,000 so that sampled transactions can be counted by their representative count
// (a transaction sampled at 0.4 counts 2.5); they are rounded back to whole counts when rendered.
const (
	hdrSubBucketHalfCountMagnitude = 7
	hdrSubBucketHalfCount          = 1 << hdrSubBucketHalfCountMagnitude // 128
	hdrSubBucketMask               = 2*hdrSubBucketHalfCount - 1         // 255
	hdrBucketCount                 = 25                                  // 256·2^24 > 3.6e9 µs
	hdrCountsLen                   = (hdrBucketCount + 1) * hdrSubBucketHalfCount
	hdrCountScale                  = 1000
)

// hdrIndex returns the counts index of a value in microseconds, or -1 when the value cannot be
// recorded (negative, or an hour and more past the histogram's range).
func hdrIndex(us int64) int32 {
	if us < 0 {
		return -1
	}
	bucket := int32(64-bits.LeadingZeros64(uint64(us)|hdrSubBucketMask)) - (hdrSubBucketHalfCountMagnitude + 1)
	sub := int32(us >> uint(bucket))
	idx := (bucket+1)<<hdrSubBucketHalfCountMagnitude + sub - hdrSubBucketHalfCount
	if idx >= hdrCountsLen {
		return -1
	}
	return idx
}

// hdrValue returns the value reported for counts index idx: the highest value that falls into it.
func hdrValue(idx int32) float64 {
	bucket, sub := int32(0), idx
	if idx >= 2*hdrSubBucketHalfCount {
		bucket = idx>>hdrSubBucketHalfCountMagnitude - 1
		sub = idx&(hdrSubBucketHalfCount-1) + hdrSubBucketHalfCount
	}
	lowest := int64(sub) << uint(bucket)
	return float64(lowest + int64(1)<<uint(bucket) - 1)
}

// hdrHistogram is a sparse HDR histogram: the counts indexes that hold something, ascending, with their
// scaled counts. It is a value type; its zero value is empty.
type hdrHistogram struct {
	Index []int32
	Count []int64
}

// recordDuration adds n (a representative count) observations of d. A duration out of the histogram's
// range is not recorded, as APM Server does not record it.
func (h *hdrHistogram) recordDuration(d time.Duration, n float64) {
	idx := hdrIndex(d.Microseconds())
	if idx < 0 {
		return
	}
	h.add(idx, int64(math.Round(n*hdrCountScale)))
}

// add adds a scaled count to counts index idx.
func (h *hdrHistogram) add(idx int32, n int64) {
	at, found := slices.BinarySearch(h.Index, idx)
	if found {
		h.Count[at] += n
		return
	}
	h.Index = slices.Insert(h.Index, at, idx)
	h.Count = slices.Insert(h.Count, at, n)
}

// buckets returns the histogram as Elasticsearch's histogram field holds it (values ascending, whole
// counts; a bar whose count rounds to 0 is left out) with the total count.
func (h *hdrHistogram) buckets() (total uint64, counts []uint64, values []float64) {
	counts = make([]uint64, 0, len(h.Index))
	values = make([]float64, 0, len(h.Index))
	for i, idx := range h.Index {
		if h.Count[i] <= 0 {
			continue
		}
		c := uint64(math.Round(float64(h.Count[i]) / hdrCountScale))
		counts = append(counts, c)
		values = append(values, hdrValue(idx))
		total += c
	}
	return total, counts, values
}
