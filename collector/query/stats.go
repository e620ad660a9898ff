package query

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/hotpath-apm/hotpath/collector"
)

// stats is the JSON form of an Aggregate: what every listing and chart shows of a group of
// transactions.
type stats struct {
	Transactions int64 `json:"transactions"`
	// ThroughputPerMinute counts the transactions the stored ones stand for (sampling's
	// representative counts) per minute of the range.
	ThroughputPerMinute float64 `json:"throughput_per_minute"`
	Failures            int64   `json:"failures"`
	// ErrorRate is failures / (successes + failures) by event.outcome; null when there are neither.
	ErrorRate *float64 `json:"error_rate"`
	// Latency is null when there are no transactions.
	Latency *latency `json:"latency_us"`
}

// latency is in microseconds. Percentiles are read from the HDR histogram: the highest value of the
// bucket holding the percentile's rank, at most 1% above the exact value.
type latency struct {
	P50  int64   `json:"p50"`
	P95  int64   `json:"p95"`
	P99  int64   `json:"p99"`
	Max  int64   `json:"max"`
	Mean float64 `json:"mean"`
}

// statsOf summarises a over minutes minutes.
func statsOf(a collector.Aggregate, minutes float64) stats {
	s := stats{Transactions: a.Count, Failures: a.Failures}
	if minutes > 0 {
		s.ThroughputPerMinute = round3(a.Represented / minutes)
	}
	if n := a.Successes + a.Failures; n > 0 {
		r := round6(float64(a.Failures) / float64(n))
		s.ErrorRate = &r
	}
	if a.Count > 0 && a.Latency != nil && a.Latency.TotalCount() > 0 {
		ps := a.Latency.ValueAtPercentilesSlice([]float64{50, 95, 99})
		s.Latency = &latency{P50: ps[0], P95: ps[1], P99: ps[2], Max: a.Latency.Max(),
			Mean: round3(float64(a.Sum/time.Microsecond) / float64(a.Count))}
	}
	return s
}

func round3(f float64) float64 { return math.Round(f*1e3) / 1e3 }
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// rangeMinutes is the length of [from, to) widened to whole minutes, as the aggregates count it.
func rangeMinutes(from, to time.Time) float64 {
	lo, hi := wholeMinutes(from, to)
	return hi.Sub(lo).Minutes()
}

// wholeMinutes widens [from, to) to whole minutes.
func wholeMinutes(from, to time.Time) (lo, hi time.Time) {
	lo, hi = from.Truncate(time.Minute), to.Truncate(time.Minute)
	if hi.Before(to) {
		hi = hi.Add(time.Minute)
	}
	return lo, hi
}

// bin is one bar of a latency histogram: transactions that took from FromUS (included) to ToUS.
type bin struct {
	FromUS int64 `json:"from_us"`
	ToUS   int64 `json:"to_us"`
	Count  int64 `json:"count"`
}

// binBound is the lower bound in µs of bar i: ten bars per decade on round numbers from 10 µs (bar 0)
// up; bar -1 holds everything under 10 µs.
func binBound(i int) int64 {
	if i < 0 {
		return 0
	}
	m := [...]int64{10, 12, 15, 20, 25, 30, 40, 50, 60, 80}
	v := m[i%len(m)]
	for range i / len(m) {
		v *= 10
	}
	return v
}

// binIndex returns the bar holding v µs.
func binIndex(v int64) int {
	if v < 10 {
		return -1
	}
	i, p := 0, int64(10)
	for v >= p*10 && p < math.MaxInt64/100 {
		p *= 10
		i += 10
	}
	for binBound(i+1) <= v {
		i++
	}
	return i
}

// histogramBins turns an HDR histogram into bars on a log scale (ten per decade, from the fastest
// transaction's bar to the slowest's, empty bars included). Each HDR bucket is counted in the bar
// holding its lowest value.
func histogramBins(h *hdrhistogram.PackedHistogram) []bin {
	if h == nil || h.TotalCount() == 0 {
		return []bin{}
	}
	var out []bin
	first := 0
	h.ForEachBucket(func(value, count int64) bool {
		if count == 0 {
			return true
		}
		i := binIndex(value)
		if out == nil {
			first = i
		}
		for len(out) <= i-first {
			j := first + len(out)
			out = append(out, bin{FromUS: binBound(j), ToUS: binBound(j + 1)})
		}
		out[i-first].Count += count
		return true
	})
	return out
}
