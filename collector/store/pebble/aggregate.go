package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	pebbledb "github.com/cockroachdb/pebble/v2"

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
// Within a commit the writer adds up the batch's contributions per key, then reads the key's value
// (written by an earlier commit of the same hour, if any), adds it and writes the sum. Only the writer
// writes these keys, so this read-modify-write needs no lock.
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

// maxSeriesPoints bounds the points of a series a query may ask for.
const maxSeriesPoints = 10_000

// aggInput is what prepare records of an event for the aggregates; the strings are spans of the
// request's buffer.
type aggInput struct {
	level   byte // aggEndpoint (a transaction, also counted at aggService) or aggBreakdown
	svc     span
	name    span
	typ     span // transaction type, or span type
	subtype span
	minute  int64
	micros  int64   // transaction duration, or self-time sum
	count   int64   // breakdown: self-time count
	rep     float64 // transaction: representative count
	outcome string
}

// prepareAggregate records e's contribution to the aggregates, if it makes one.
func (r *request) prepareAggregate(e *collector.Event) {
	if e.Service.Name == "" || e.Timestamp.IsZero() {
		return
	}
	var in aggInput
	switch {
	case e.Kind == collector.KindTransaction && e.Transaction != nil:
		t := e.Transaction
		in = aggInput{level: aggEndpoint, micros: max(int64(e.Event.Duration/time.Microsecond), 0),
			rep: t.RepresentativeCount, outcome: e.Event.Outcome}
		in.name = r.appendSpan(t.Name)
		in.typ = r.appendSpan(t.Type)
	case e.Kind == collector.KindMetricset && e.Transaction != nil && e.Span != nil && e.Span.SelfTime != nil:
		st := e.Span.SelfTime
		in = aggInput{level: aggBreakdown, micros: max(int64(st.Sum/time.Microsecond), 0), count: max(st.Count, 0)}
		in.name = r.appendSpan(e.Transaction.Name)
		in.typ = r.appendSpan(e.Span.Type)
		in.subtype = r.appendSpan(e.Span.Subtype)
	default:
		return
	}
	in.svc = r.appendSpan(e.Service.Name)
	in.minute = unixMinute(e.Timestamp)
	r.aggs = append(r.aggs, in)
}

func (r *request) appendSpan(s string) span {
	start := r.mark()
	r.buf = append(r.buf, s...)
	return span{start, r.mark()}
}

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

// latencyDelta is a key's latency aggregate while the writer (or a reader) adds to it.
type latencyDelta struct {
	count, successes, failures int64
	represented                float64
	sumMicros                  int64
	typ                        string
	hist                       *hdrhistogram.PackedHistogram
}

func newHistogram() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(HistogramLowest, HistogramHighest, HistogramSignificantDigits)
}

func (d *latencyDelta) add(micros int64, rep float64, outcome, typ string) {
	d.count++
	if rep <= 0 || math.IsNaN(rep) || math.IsInf(rep, 0) {
		rep = 1
	}
	d.represented += rep
	d.sumMicros += micros
	switch outcome {
	case "success":
		d.successes++
	case "failure":
		d.failures++
	}
	if typ != "" {
		d.typ = typ
	}
	_ = d.hist.RecordValue(min(max(micros, HistogramLowest), HistogramHighest)) // in range: cannot fail
}

// breakdownDelta is a key's span self-time by type and subtype ("type\x00subtype").
type breakdownDelta map[string]*SpanTypeTime

func (b breakdownDelta) add(typ, subtype string, count, micros int64) {
	k := typ + "\x00" + subtype
	t := b[k]
	if t == nil {
		t = &SpanTypeTime{Type: typ, Subtype: subtype}
		b[k] = t
	}
	t.Count += count
	t.Sum += time.Duration(micros) * time.Microsecond
}

// commitAggregates adds the aggregates of reqs' events to batch, in partition p.
func (s *Store) commitAggregates(batch *pebbledb.Batch, p uint32, reqs []*request) error {
	lat := map[string]*latencyDelta{}
	bd := map[string]breakdownDelta{}
	var key []byte
	for _, r := range reqs {
		for i := range r.aggs {
			in := &r.aggs[i]
			svc, name := string(r.bytes(in.svc)), string(r.bytes(in.name))
			if in.level == aggBreakdown {
				key = binary.BigEndian.AppendUint64(aggPrefix(key[:0], p, svc, aggBreakdown, name, true), minuteKey(in.minute))
				d := bd[string(key)]
				if d == nil {
					d = breakdownDelta{}
					bd[string(key)] = d
				}
				d.add(string(r.bytes(in.typ)), string(r.bytes(in.subtype)), in.count, in.micros)
				continue
			}
			typ := string(r.bytes(in.typ))
			for _, level := range []byte{aggService, aggEndpoint} {
				n := name
				if level == aggService {
					n = ""
				}
				key = binary.BigEndian.AppendUint64(aggPrefix(key[:0], p, svc, level, n, true), minuteKey(in.minute))
				d := lat[string(key)]
				if d == nil {
					d = &latencyDelta{hist: newHistogram()}
					lat[string(key)] = d
				}
				if level == aggService {
					d.add(in.micros, in.rep, in.outcome, "")
				} else {
					d.add(in.micros, in.rep, in.outcome, typ)
				}
			}
		}
	}
	var val []byte
	for k, d := range lat {
		old, err := s.aggValue(k)
		if err != nil {
			return err
		}
		if old != nil {
			if err := decodeLatency(old, d); err != nil {
				return fmt.Errorf("store: aggregate %q: %w", k, err)
			}
		}
		val = appendLatency(val[:0], d)
		if err := batch.Set([]byte(k), val, nil); err != nil {
			return fmt.Errorf("store: write batch: %w", err)
		}
	}
	for k, d := range bd {
		old, err := s.aggValue(k)
		if err != nil {
			return err
		}
		if old != nil {
			if err := decodeBreakdown(old, d); err != nil {
				return fmt.Errorf("store: aggregate %q: %w", k, err)
			}
		}
		val = appendBreakdown(val[:0], d)
		if err := batch.Set([]byte(k), val, nil); err != nil {
			return fmt.Errorf("store: write batch: %w", err)
		}
	}
	return nil
}

// aggValue returns a copy of the committed value of an aggregate key, or nil.
func (s *Store) aggValue(k string) ([]byte, error) {
	v, closer, err := s.db.Get([]byte(k))
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read aggregate: %w", err)
	}
	out := slices.Clone(v)
	return out, closer.Close()
}

// appendLatency encodes a latency aggregate: format, count, successes, failures, sum of microseconds,
// represented count (float64), transaction type, then the histogram's populated buckets as (value
// delta, count) pairs in ascending order of value.
func appendLatency(b []byte, d *latencyDelta) []byte {
	b = append(b, aggFormat)
	for _, u := range [...]int64{d.count, d.successes, d.failures, d.sumMicros} {
		b = binary.AppendUvarint(b, uint64(u))
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(d.represented))
	b = binary.AppendUvarint(b, uint64(len(d.typ)))
	b = append(b, d.typ...)
	b = binary.AppendUvarint(b, uint64(d.hist.Populated()))
	prev := int64(0)
	d.hist.ForEachBucket(func(value, count int64) bool {
		b = binary.AppendUvarint(b, uint64(value-prev))
		b = binary.AppendUvarint(b, uint64(count))
		prev = value
		return true
	})
	return b
}

var errBadAggregate = errors.New("bad aggregate value")

// decodeLatency adds an encoded latency aggregate to d (whose histogram receives the buckets; the type
// is kept from d unless d has none).
func decodeLatency(v []byte, d *latencyDelta) error {
	return decodeLatencyInto(v, d, func(value, count int64) { _ = d.hist.RecordValues(value, count) })
}

func decodeLatencyInto(v []byte, d *latencyDelta, bucket func(value, count int64)) error {
	if len(v) == 0 || v[0] != aggFormat {
		return errBadAggregate
	}
	r := byteReader{b: v[1:]}
	var u [4]uint64
	for i := range u {
		u[i] = r.uvarint()
	}
	rep := math.Float64frombits(r.fixed64())
	typ := r.bytes()
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errBadAggregate
	}
	d.count += int64(u[0])
	d.successes += int64(u[1])
	d.failures += int64(u[2])
	d.sumMicros += int64(u[3])
	d.represented += rep
	if d.typ == "" {
		d.typ = string(typ)
	}
	value := int64(0)
	for range n {
		value += int64(r.uvarint())
		count := int64(r.uvarint())
		if r.err != nil {
			return errBadAggregate
		}
		if value < HistogramLowest || value > HistogramHighest || count < 0 {
			return errBadAggregate
		}
		bucket(value, count)
	}
	return r.err
}

// appendBreakdown encodes a breakdown: format, number of entries, then per entry type, subtype, count
// and sum of microseconds, sorted by type and subtype.
func appendBreakdown(b []byte, d breakdownDelta) []byte {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, aggFormat)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		t := d[k]
		b = binary.AppendUvarint(b, uint64(len(t.Type)))
		b = append(b, t.Type...)
		b = binary.AppendUvarint(b, uint64(len(t.Subtype)))
		b = append(b, t.Subtype...)
		b = binary.AppendUvarint(b, uint64(t.Count))
		b = binary.AppendUvarint(b, uint64(t.Sum/time.Microsecond))
	}
	return b
}

func decodeBreakdown(v []byte, d breakdownDelta) error {
	if len(v) == 0 || v[0] != aggFormat {
		return errBadAggregate
	}
	r := byteReader{b: v[1:]}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errBadAggregate
	}
	for range n {
		typ, sub := r.bytes(), r.bytes()
		count, micros := r.uvarint(), r.uvarint()
		if r.err != nil {
			return errBadAggregate
		}
		d.add(string(typ), string(sub), int64(count), int64(micros))
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

// Aggregate is what the store pre-aggregates of a group of transactions: counts by outcome and a
// latency histogram.
type Aggregate struct {
	// Count is the number of transactions stored.
	Count int64
	// Represented is the number of transactions they stand for: the sum of their representative counts
	// (1 / sample rate; 1 when the agent sent none). It is Count unless agents sample.
	Represented float64
	// Successes and Failures count event.outcome "success" and "failure" (the rest is "unknown").
	Successes, Failures int64
	// Sum is the sum of the durations, at microsecond precision.
	Sum time.Duration
	// Type is the transaction type ("request"...), for the aggregates of one transaction name.
	Type string
	// Latency is the histogram of durations in microseconds (HistogramLowest to HistogramHighest,
	// HistogramSignificantDigits): percentiles read from it are within 1% of the exact ones. Not nil.
	Latency *hdrhistogram.PackedHistogram
}

// SeriesPoint is the aggregate of one interval of a series, [Start, Start+interval).
type SeriesPoint struct {
	Start time.Time
	Aggregate
}

// AggregateQuery selects the pre-aggregated transactions of a service, or of one transaction name.
type AggregateQuery struct {
	Service string // required
	Name    string // a transaction name; "" for every transaction of the service
	// From and To bound the transactions' timestamps, widened to whole minutes (the aggregates'
	// resolution): From is rounded down, To up. A zero From is unbounded; a zero To is now.
	From, To time.Time
	// Interval, when positive, also asks for a series: one point per Interval from From (rounded down
	// to a multiple of Interval since the Unix epoch) to To. It must be a whole number of minutes, and
	// the series at most 10,000 points; From must then be set.
	Interval time.Duration
}

// AggregateResult is the answer to an AggregateQuery.
type AggregateResult struct {
	Total  Aggregate
	Series []SeriesPoint // with AggregateQuery.Interval; every point present, empty ones with Count 0
}

// TransactionAggregate returns the pre-aggregated figures of a service's transactions, or of one
// transaction name, over a time range, and optionally as a series. It reads one value per minute (and
// per ingest hour holding events of that minute), never the transactions themselves, so its cost grows
// with the range, not with the traffic.
func (s *Store) TransactionAggregate(ctx context.Context, q AggregateQuery) (AggregateResult, error) {
	if err := s.acquire(); err != nil {
		return AggregateResult{}, err
	}
	defer s.release()
	var res AggregateResult
	if q.Service == "" {
		return res, errors.New("store: aggregate: a service is required")
	}
	from, to := s.minuteRange(q.From, q.To)
	var step, first int64
	if q.Interval > 0 {
		if q.Interval%time.Minute != 0 {
			return res, fmt.Errorf("store: aggregate: interval %v is not a whole number of minutes", q.Interval)
		}
		if q.From.IsZero() {
			return res, errors.New("store: aggregate: a series needs a start")
		}
		step = int64(q.Interval / time.Minute)
		first = floorDiv(from, step) * step
		n := (to - first + step - 1) / step
		if n > maxSeriesPoints {
			return res, fmt.Errorf("store: aggregate: %d points, at most %d", n, maxSeriesPoints)
		}
		res.Series = make([]SeriesPoint, max(n, 0))
	}
	level, name := byte(aggEndpoint), q.Name
	if name == "" {
		level = aggService
	}
	// Windows are read one after the other, each from the partitions that may hold it, into a dense
	// histogram (constant-time adds) that is then packed: the series' points, or the whole range.
	windows := [][2]int64{{from, to}}
	if step > 0 {
		windows = windows[:0]
		for i := range res.Series {
			windows = append(windows, [2]int64{max(from, first+int64(i)*step), min(to, first+int64(i+1)*step)})
		}
	}
	total := hdrhistogram.New(HistogramLowest, HistogramHighest, HistogramSignificantDigits)
	var window *hdrhistogram.Histogram
	if step > 0 {
		window = hdrhistogram.New(HistogramLowest, HistogramHighest, HistogramSignificantDigits)
	}
	var tot latencyDelta
	it, err := s.iter(ctx, ksAgg)
	if err != nil {
		return res, err
	}
	defer it.Close()
	parts := s.parts.snapshot()
	var prefix, lo []byte
	for i, w := range windows {
		var d latencyDelta
		add := func(v, c int64) { _ = total.RecordValues(v, c) }
		if window != nil {
			window.Reset()
			add = func(v, c int64) {
				_ = total.RecordValues(v, c)
				_ = window.RecordValues(v, c)
			}
		}
		for _, p := range selectPartitions(parts, minuteTime(w[0]), minuteTime(w[1])) {
			prefix = aggPrefix(prefix[:0], p.P, q.Service, level, name, true)
			lo = binary.BigEndian.AppendUint64(append(lo[:0], prefix...), minuteKey(w[0]))
			for ok := it.SeekGE(lo); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
				k := it.Key()[len(prefix):]
				if len(k) != 8 {
					return res, fmt.Errorf("store: bad aggregate key %q", it.Key())
				}
				if m := int64(binary.BigEndian.Uint64(k) ^ 1<<63); m >= w[1] {
					break
				}
				if err := decodeLatencyInto(it.Value(), &d, add); err != nil {
					return res, fmt.Errorf("store: aggregate %q: %w", it.Key(), err)
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		d.hist = newHistogram()
		if window != nil {
			if d.count > 0 {
				d.hist.MergeFrom(window)
			}
			res.Series[i] = SeriesPoint{Start: time.Unix((first+int64(i)*step)*60, 0).UTC(), Aggregate: d.aggregate()}
		}
		tot.addCounts(&d)
	}
	if err := it.Error(); err != nil {
		return res, fmt.Errorf("store: read aggregates: %w", err)
	}
	tot.hist = newHistogram()
	tot.hist.MergeFrom(total)
	res.Total = tot.aggregate()
	return res, nil
}

// addCounts adds d's counts (not its histogram) to t.
func (t *latencyDelta) addCounts(d *latencyDelta) {
	t.count += d.count
	t.successes += d.successes
	t.failures += d.failures
	t.sumMicros += d.sumMicros
	t.represented += d.represented
	if t.typ == "" {
		t.typ = d.typ
	}
}

func (d *latencyDelta) aggregate() Aggregate {
	return Aggregate{Count: d.count, Represented: d.represented, Successes: d.successes, Failures: d.failures,
		Sum: time.Duration(d.sumMicros) * time.Microsecond, Type: d.typ, Latency: d.hist}
}

// EndpointAggregates returns the pre-aggregated figures of every transaction name of a service with
// transactions in [from, to) (widened to whole minutes; zero from: unbounded, zero to: now).
func (s *Store) EndpointAggregates(ctx context.Context, service string, from, to time.Time) (map[string]*Aggregate, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	if service == "" {
		return nil, errors.New("store: aggregate: a service is required")
	}
	lo, hi := s.minuteRange(from, to)
	deltas := map[string]*latencyDelta{}
	it, err := s.iter(ctx, ksAgg)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var prefix []byte
	for _, p := range selectPartitions(s.parts.snapshot(), minuteTime(lo), minuteTime(hi)) {
		prefix = aggPrefix(prefix[:0], p.P, service, aggEndpoint, "", false)
		for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
			name, rest, ok := readEscaped(it.Key()[len(prefix):])
			if !ok || len(rest) != 8 {
				return nil, fmt.Errorf("store: bad aggregate key %q", it.Key())
			}
			if m := int64(binary.BigEndian.Uint64(rest) ^ 1<<63); m < lo || m >= hi {
				continue
			}
			d := deltas[name]
			if d == nil {
				d = &latencyDelta{hist: newHistogram()}
				deltas[name] = d
			}
			if err := decodeLatency(it.Value(), d); err != nil {
				return nil, fmt.Errorf("store: aggregate %q: %w", it.Key(), err)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: read aggregates: %w", err)
	}
	out := make(map[string]*Aggregate, len(deltas))
	for name, d := range deltas {
		a := d.aggregate()
		out[name] = &a
	}
	return out, nil
}

// SpanTypeTime is the time spent in spans of one type and subtype (with "app" and no subtype for the
// transactions' own code between spans), as the agents' breakdown metrics report it: self time, so
// nested spans are not counted twice.
type SpanTypeTime struct {
	Type    string
	Subtype string
	Count   int64         // spans (or transactions, for "app")
	Sum     time.Duration // their self time, at microsecond precision
}

// Breakdown returns where the time of a service's transactions (or of those named name, when name is
// not "") went, by span type and subtype, over [from, to) widened to whole minutes, sorted by Sum,
// largest first. It reads the span_breakdown metricsets the agents send (the Go agent every metrics
// interval, 30 s by default), so the latest interval shows once the agent has sent it.
func (s *Store) Breakdown(ctx context.Context, service, name string, from, to time.Time) ([]SpanTypeTime, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	if service == "" {
		return nil, errors.New("store: breakdown: a service is required")
	}
	lo, hi := s.minuteRange(from, to)
	d := breakdownDelta{}
	it, err := s.iter(ctx, ksAgg)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var prefix []byte
	for _, p := range selectPartitions(s.parts.snapshot(), minuteTime(lo), minuteTime(hi)) {
		prefix = aggPrefix(prefix[:0], p.P, service, aggBreakdown, name, name != "")
		for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
			rest := it.Key()[len(prefix):]
			if name == "" {
				var ok bool
				if _, rest, ok = readEscaped(rest); !ok {
					return nil, fmt.Errorf("store: bad aggregate key %q", it.Key())
				}
			}
			if len(rest) != 8 {
				return nil, fmt.Errorf("store: bad aggregate key %q", it.Key())
			}
			if m := int64(binary.BigEndian.Uint64(rest) ^ 1<<63); m < lo || m >= hi {
				continue
			}
			if err := decodeBreakdown(it.Value(), d); err != nil {
				return nil, fmt.Errorf("store: aggregate %q: %w", it.Key(), err)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: read aggregates: %w", err)
	}
	out := make([]SpanTypeTime, 0, len(d))
	for _, t := range d {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b SpanTypeTime) int {
		switch {
		case a.Sum != b.Sum:
			if a.Sum > b.Sum {
				return -1
			}
			return 1
		case a.Type != b.Type:
			return cmpString(a.Type, b.Type)
		}
		return cmpString(a.Subtype, b.Subtype)
	})
	return out, nil
}

// minuteRange returns [from, to) as Unix minutes: from rounded down (math.MinInt64/2 when zero), to
// rounded up (now when zero).
func (s *Store) minuteRange(from, to time.Time) (lo, hi int64) {
	lo = math.MinInt64 / 2
	if !from.IsZero() {
		lo = unixMinute(from)
	}
	if to.IsZero() {
		to = s.cfg.Now()
	}
	hi = unixMinute(to)
	if !minuteTime(hi).Equal(to) {
		hi++
	}
	return lo, hi
}

func minuteTime(m int64) time.Time {
	if m <= math.MinInt64/2 {
		return time.Time{}
	}
	return time.Unix(m*60, 0).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
