package pebble

import (
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Query shapes (issue 14): per service, shape and minute, the database spans whose statement has that
// shape, in the aggregate keyspace beside the transaction aggregates, written in the same commit as the
// events:
//
//	a part service 'q' shape minute       -> shape aggregate (one minute)
//	a part service 'Q' shape hour*60      -> shape aggregate (the event hour: what listings over
//	                                         long ranges read)
//	a part service 'X' shape hour*60      -> the slowest calls of the shape in that event hour
//
// A shape aggregate is: format, count, errors, sum of µs, took count, flags (1: truncated), db type,
// summary, then the duration histogram and the took histogram, each as its populated buckets (value
// delta, count). The examples are: format, their number, then for each µs, Unix nanoseconds, trace id,
// transaction id, span id and statement, slowest first.
//
// Dependencies (issue 12) are the same aggregates of a service's exit spans, per dependency
// (collector.DependencyOf) instead of shape, under their own levels ('d', 'D', 'Y'): the took
// histogram stays empty, and an example's statement is the span's name.
const (
	aggShapeMinute   = 'q'
	aggShapeHour     = 'Q'
	aggShapeExamples = 'X'

	aggDependencyMinute   = 'd'
	aggDependencyHour     = 'D'
	aggDependencyExamples = 'Y'
)

// aggFamily is a kind of shape aggregate: query shapes or dependencies.
type aggFamily uint8

const (
	familyQueryShape aggFamily = iota
	familyDependency
)

// levels returns the levels f's aggregates are kept under.
func (f aggFamily) levels() (minute, hour, examples byte) {
	if f == familyDependency {
		return aggDependencyMinute, aggDependencyHour, aggDependencyExamples
	}
	return aggShapeMinute, aggShapeHour, aggShapeExamples
}

// Bounds of what a shape keeps.
const (
	// shapeExamples is how many of the slowest calls of a shape an hour keeps.
	shapeExamples = 5
	// maxExampleStatement bounds an example's statement (the APM intake's own limit).
	maxExampleStatement = 10_000
)

// shapeCounts is a shape aggregate's counts and names.
type shapeCounts struct {
	count, errors, sumMicros, tookCount int64
	truncated                           bool
	dbType, summary                     string
}

func (c *shapeCounts) add(o *shapeCounts) {
	c.count += o.count
	c.errors += o.errors
	c.sumMicros += o.sumMicros
	c.tookCount += o.tookCount
	c.truncated = c.truncated || o.truncated
	if c.summary == "" {
		c.dbType, c.summary = o.dbType, o.summary
	}
}

func appendShapeAgg(b []byte, c *shapeCounts, dur, took *hdrhistogram.PackedHistogram) []byte {
	b = append(b, aggFormat)
	for _, u := range [...]int64{c.count, c.errors, c.sumMicros, c.tookCount} {
		b = binary.AppendUvarint(b, uint64(u))
	}
	flags := byte(0)
	if c.truncated {
		flags = 1
	}
	b = append(b, flags)
	b = appendBytes(b, c.dbType)
	b = appendBytes(b, c.summary)
	b = appendHistogram(b, dur)
	return appendHistogram(b, took)
}

func appendBytes(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendHistogram appends h's populated buckets: their number, then (value delta, count) pairs in
// ascending order of value.
func appendHistogram(b []byte, h *hdrhistogram.PackedHistogram) []byte {
	b = binary.AppendUvarint(b, uint64(h.Populated()))
	prev := int64(0)
	for value, count := range h.ForEachBucket {
		b = binary.AppendUvarint(b, uint64(value-prev))
		b = binary.AppendUvarint(b, uint64(count))
		prev = value
	}
	return b
}

// decodeShapeAgg adds an encoded shape aggregate to c, dur and took.
func decodeShapeAgg(v []byte, c *shapeCounts, dur, took recorder) error {
	b, err := aggBody(v)
	if err != nil {
		return err
	}
	r := byteReader{b: b}
	var o shapeCounts
	o.count, o.errors, o.sumMicros, o.tookCount = int64(r.uvarint()), int64(r.uvarint()), int64(r.uvarint()), int64(r.uvarint())
	if r.err != nil || len(r.b) == 0 {
		return errBadAggregate
	}
	o.truncated = r.b[0]&1 != 0
	r.b = r.b[1:]
	dbType, summary := r.bytes(), r.bytes()
	if c.summary == "" { // what add keeps: a listing reads one shape's names 24 times a day
		o.dbType, o.summary = string(dbType), string(summary)
	}
	if err := decodeHistogram(&r, dur); err != nil {
		return err
	}
	if err := decodeHistogram(&r, took); err != nil {
		return err
	}
	c.add(&o)
	return r.err
}

func decodeHistogram(r *byteReader, h recorder) error {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errBadAggregate
	}
	// A listing decodes about a million buckets for a day: their varints are read here, inline, the
	// one-byte ones (most counts, many deltas) without a call.
	b := r.b
	value := int64(0)
	for i := range 2 * n { // a delta from the previous value, then its count
		var u uint64
		if len(b) > 0 && b[0] < 0x80 {
			u, b = uint64(b[0]), b[1:]
		} else {
			v, k := binary.Uvarint(b)
			if k <= 0 {
				return errBadAggregate
			}
			u, b = v, b[k:]
		}
		if i&1 == 0 {
			value += int64(min(u, uint64(HistogramHighest)+1))
			if value < HistogramLowest || value > HistogramHighest {
				return errBadAggregate
			}
			continue
		}
		if int64(u) < 0 {
			return errBadAggregate
		}
		_ = h.RecordValues(value, int64(u))
	}
	r.b = b
	return nil
}

// shapeExample is a stored example call.
type shapeExample struct {
	micros, unixNanos                int64
	traceID, txID, spanID, statement string
}

func appendShapeExamples(b []byte, xs []shapeExample) []byte {
	b = append(b, aggFormat)
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.AppendUvarint(b, uint64(x.micros))
		b = binary.AppendUvarint(b, uint64(x.unixNanos))
		for _, s := range [...]string{x.traceID, x.txID, x.spanID, x.statement} {
			b = appendBytes(b, s)
		}
	}
	return b
}

// decodeShapeExamples adds the examples of an encoded list to xs, which is sorted slowest first (then
// oldest first) and stays so, with at most n of them. An example is copied out of v only if it is kept:
// a listing reads the lists of every hour of the range, and keeps the slowest few.
func decodeShapeExamples(v []byte, xs *[]shapeExample, n int) error {
	r, count, err := aggList(v)
	if err != nil {
		return err
	}
	for range count {
		micros, nanos := int64(r.uvarint()), int64(r.uvarint())
		traceID, txID, spanID, statement := r.bytes(), r.bytes(), r.bytes(), r.bytes()
		if r.err != nil {
			return errBadAggregate
		}
		at := slowerAt(len(*xs), micros, nanos, func(i int) (int64, int64) { return (*xs)[i].micros, (*xs)[i].unixNanos })
		if at >= n {
			continue
		}
		x := shapeExample{micros: micros, unixNanos: nanos, traceID: string(traceID), txID: string(txID), spanID: string(spanID),
			statement: string(statement)}
		*xs = insertBounded(*xs, at, x, n)
	}
	return nil
}

// slowerAt is where a call of micros µs that started at nanos goes among n calls sorted slowest (then
// oldest) first, call(i) giving the i-th's duration and start: after those as slow (equally slow: as
// old), where a stable sort of the list with the call added at its end would put it.
func slowerAt(n int, micros, nanos int64, call func(i int) (micros, nanos int64)) int {
	at := n
	for at > 0 {
		m, ns := call(at - 1)
		if slowerFirst(micros, nanos, m, ns) >= 0 {
			break
		}
		at--
	}
	return at
}

// insertBounded inserts v at at in s and keeps at most n elements.
func insertBounded[T any](s []T, at int, v T, n int) []T {
	s = slices.Insert(s, at, v)
	return s[:min(len(s), n)]
}

// slowerFirst orders two calls (durations in µs, start times in Unix nanoseconds): the slower first,
// then the older.
func slowerFirst(aMicros, aNanos, bMicros, bNanos int64) int {
	if c := cmp.Compare(bMicros, aMicros); c != 0 {
		return c
	}
	return cmp.Compare(aNanos, bNanos)
}

func hourMinute(minute int64) int64 { return floorDiv(minute, 60) * 60 }
