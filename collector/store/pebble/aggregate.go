package pebble

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/hotpath-apm/hotpath/collector"
)

// Pre-aggregated series, written by the writer in the same commit as the events they count, so that
// they are exactly as durable as the events and never count an event twice or miss one:
//
//	a part service level name minute -> aggregate value
//
// level 's' (name ""): every transaction of the service; 'e': the transactions named name; 'b': the
// span self-time of name's transactions by span type and subtype, from the agents' breakdown metricsets.
// minute is the event timestamp's Unix minute (order-preserving). part is the ingest hour of the commit,
// so retention drops a partition's aggregates with its events, and a minute whose events arrived in two
// hours has one value in each: readers add them up.
//
// This file holds the key layout and the values' encoding; aggregate_write.go how the writer maintains
// them, aggregate_read.go the queries.
const ksAgg = 'a'

const (
	aggService   = 's'
	aggEndpoint  = 'e'
	aggBreakdown = 'b'
)

// The latency histograms' geometry: microseconds from 1 µs to one hour, with 2 significant digits (the
// precision of APM Server's transaction metrics): a percentile read from them is the highest value of
// the HDR bucket that holds it, at most 1% above the exact value of the stored transactions. Longer
// transactions are counted at one hour.
const (
	HistogramLowest            = 1
	HistogramHighest           = int64(time.Hour / time.Microsecond)
	HistogramSignificantDigits = 2
)

// aggFormat is the first byte of every aggregate value: the encoding's version.
const aggFormat = 1

func newHistogram() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(HistogramLowest, HistogramHighest, HistogramSignificantDigits)
}

func newDenseHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistogramLowest, HistogramHighest, HistogramSignificantDigits)
}

// clampMicros brings a duration in microseconds into the histograms' range.
func clampMicros(us int64) int64 { return min(max(us, HistogramLowest), HistogramHighest) }

func unixMinute(t time.Time) int64 {
	sec := t.Unix()
	m := sec / 60
	if sec%60 < 0 {
		m--
	}
	return m
}

func minuteKey(m int64) uint64 { return uint64(m) ^ 1<<63 }

func aggPrefix(b []byte, p uint32, service string, level byte, name string, withName bool) []byte {
	b = appendEscaped(partKey(b, ksAgg, p), service)
	b = append(b, level)
	if withName {
		b = appendEscaped(b, name)
	}
	return b
}

// latencyCounts is a latency aggregate's counts; its histogram is kept beside it.
type latencyCounts struct {
	count, successes, failures int64
	sumMicros                  int64
	represented                float64
	typ                        string
}

// addCounts adds o's counts to c; c keeps its type unless it has none.
func (c *latencyCounts) addCounts(o *latencyCounts) {
	c.count += o.count
	c.successes += o.successes
	c.failures += o.failures
	c.sumMicros += o.sumMicros
	c.represented += o.represented
	if c.typ == "" {
		c.typ = o.typ
	}
}

func (c *latencyCounts) aggregate(h *hdrhistogram.PackedHistogram) collector.Aggregate {
	return collector.Aggregate{Count: c.count, Represented: c.represented, Successes: c.successes, Failures: c.failures,
		Sum: time.Duration(c.sumMicros) * time.Microsecond, Type: c.typ, Latency: h}
}

// recorder is what a decoded histogram is added to: a dense or a packed HDR histogram, or both.
type recorder interface {
	RecordValues(v, n int64) error
}

// recorders adds to two histograms at once.
type recorders [2]recorder

func (r *recorders) RecordValues(v, n int64) error {
	_ = r[0].RecordValues(v, n)
	return r[1].RecordValues(v, n)
}

// appendLatency encodes a latency aggregate: format, count, successes, failures, sum of microseconds,
// represented count (float64), transaction type, then the histogram's populated buckets as (value
// delta, count) pairs in ascending order of value.
func appendLatency(b []byte, c *latencyCounts, h *hdrhistogram.PackedHistogram) []byte {
	b = append(b, aggFormat)
	for _, u := range [...]int64{c.count, c.successes, c.failures, c.sumMicros} {
		b = binary.AppendUvarint(b, uint64(u))
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.represented))
	b = binary.AppendUvarint(b, uint64(len(c.typ)))
	b = append(b, c.typ...)
	return appendHistogram(b, h)
}

var errBadAggregate = errors.New("bad aggregate value")

// aggBody returns an aggregate value's body after its format byte, or errBadAggregate for a value of
// another format.
func aggBody(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != aggFormat {
		return nil, errBadAggregate
	}
	return v[1:], nil
}

// aggList opens an aggregate value that is a counted list: a reader after the count, and the count,
// which cannot exceed the bytes left (each item takes at least one).
func aggList(v []byte) (byteReader, uint64, error) {
	b, err := aggBody(v)
	if err != nil {
		return byteReader{}, 0, err
	}
	r := byteReader{b: b}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return byteReader{}, 0, errBadAggregate
	}
	return r, n, nil
}

// decodeLatency adds an encoded latency aggregate's counts to c and its buckets to h. c keeps its type
// unless it has none.
func decodeLatency(v []byte, c *latencyCounts, h recorder) error {
	b, err := aggBody(v)
	if err != nil {
		return err
	}
	r := byteReader{b: b}
	var u [4]uint64
	for i := range u {
		u[i] = r.uvarint()
	}
	rep := math.Float64frombits(r.fixed64())
	typ := r.bytes()
	if r.err != nil {
		return errBadAggregate
	}
	c.count += int64(u[0])
	c.successes += int64(u[1])
	c.failures += int64(u[2])
	c.sumMicros += int64(u[3])
	c.represented += rep
	if c.typ == "" && len(typ) > 0 {
		c.typ = string(typ)
	}
	return decodeHistogram(&r, h)
}

// spanTypes is a breakdown: self time by span type and subtype, a short list searched linearly.
type spanTypes []collector.SpanTypeTime

// add adds count spans of micros µs to the entry of typ and subtype (converted to strings only for a
// new entry).
func (b *spanTypes) add(typ, subtype []byte, count, micros int64) {
	for i := range *b {
		t := &(*b)[i]
		if t.Type == string(typ) && t.Subtype == string(subtype) {
			t.Count += count
			t.Sum += time.Duration(micros) * time.Microsecond
			return
		}
	}
	*b = append(*b, collector.SpanTypeTime{Type: string(typ), Subtype: string(subtype), Count: count, Sum: time.Duration(micros) * time.Microsecond})
}

// appendBreakdown encodes a breakdown: format, number of entries, then per entry type, subtype, count
// and sum of microseconds.
func appendBreakdown(b []byte, d spanTypes) []byte {
	b = append(b, aggFormat)
	b = binary.AppendUvarint(b, uint64(len(d)))
	for _, t := range d {
		b = binary.AppendUvarint(b, uint64(len(t.Type)))
		b = append(b, t.Type...)
		b = binary.AppendUvarint(b, uint64(len(t.Subtype)))
		b = append(b, t.Subtype...)
		b = binary.AppendUvarint(b, uint64(t.Count))
		b = binary.AppendUvarint(b, uint64(t.Sum/time.Microsecond))
	}
	return b
}

// decodeBreakdown adds an encoded breakdown to d.
func decodeBreakdown(v []byte, d *spanTypes) error {
	r, n, err := aggList(v)
	if err != nil {
		return err
	}
	for range n {
		typ, sub := r.bytes(), r.bytes()
		count, micros := r.uvarint(), r.uvarint()
		if r.err != nil || count > math.MaxInt64 || micros > math.MaxInt64/1000 {
			return errBadAggregate
		}
		d.add(typ, sub, int64(count), int64(micros))
	}
	return r.err
}

// byteReader reads varints and length-prefixed strings, remembering the first error.
type byteReader struct {
	b   []byte
	err error
}

func (r *byteReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	u, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadAggregate
		return 0
	}
	r.b = r.b[n:]
	return u
}

func (r *byteReader) fixed64() uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errBadAggregate
		return 0
	}
	u := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return u
}

func (r *byteReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadAggregate
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}
