package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/hotpath-apm/hotpath/collector"
)

// maxSeriesPoints bounds the points of a series a query may ask for.
const maxSeriesPoints = 10_000

// TransactionAggregate returns the pre-aggregated figures of a service's transactions, or of one
// transaction name, over a time range, and optionally as a series. It reads one value per minute (and
// per ingest hour holding events of that minute), never the transactions themselves, so its cost grows
// with the range, not with the traffic.
func (s *Store) TransactionAggregate(ctx context.Context, q collector.AggregateQuery) (collector.AggregateResult, error) {
	if err := s.acquireService("aggregate", q.Service); err != nil {
		return collector.AggregateResult{}, err
	}
	defer s.release()
	var res collector.AggregateResult
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
		res.Series = make([]collector.SeriesPoint, max(n, 0))
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
	total := newDenseHistogram()
	var rec recorder = total
	var window *hdrhistogram.Histogram
	if step > 0 {
		window = newDenseHistogram()
		rec = &recorders{total, window}
	}
	var tot latencyCounts
	it, err := s.iter(ctx, ksAgg)
	if err != nil {
		return res, err
	}
	defer it.Close()
	parts := s.parts.snapshot()
	var prefix, lo []byte
	for i, w := range windows {
		var d latencyCounts
		if window != nil {
			window.Reset()
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
				if err := decodeLatency(it.Value(), &d, rec); err != nil {
					return res, fmt.Errorf("store: aggregate %q: %w", it.Key(), err)
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if window != nil {
			h := newHistogram()
			if d.count > 0 {
				h.MergeFrom(window)
			}
			res.Series[i] = collector.SeriesPoint{Start: time.Unix((first+int64(i)*step)*60, 0).UTC(), Aggregate: d.aggregate(h)}
		}
		tot.addCounts(&d)
	}
	if err := it.Error(); err != nil {
		return res, fmt.Errorf("store: read aggregates: %w", err)
	}
	h := newHistogram()
	h.MergeFrom(total)
	res.Total = tot.aggregate(h)
	return res, nil
}

// namedLatency accumulates one transaction name's aggregates.
type namedLatency struct {
	latencyCounts
	hist *hdrhistogram.Histogram
}

// EndpointAggregates returns the pre-aggregated figures of every transaction name of a service with
// transactions in [from, to) (widened to whole minutes; zero from: unbounded, zero to: now).
func (s *Store) EndpointAggregates(ctx context.Context, service string, from, to time.Time) (map[string]collector.Aggregate, error) {
	if err := s.acquireService("aggregate", service); err != nil {
		return nil, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	return s.namedAggregates(ctx, lo, hi, func(b []byte, p uint32) []byte {
		return aggPrefix(b, p, service, aggEndpoint, "", false)
	})
}

// namedAggregates adds up, per transaction name, the latency aggregates under prefix (a prefix
// followed by the escaped name and the minute) whose minute is in [lo, hi).
func (s *Store) namedAggregates(ctx context.Context, lo, hi int64, prefix func(b []byte, p uint32) []byte) (map[string]collector.Aggregate, error) {
	deltas := map[string]*namedLatency{}
	var d *namedLatency // the last name's, read again while its minutes follow
	lastName := ""
	err := s.eachAggregateUnder(ctx, lo, hi, false, "", prefix, func(name string, _ int64, v []byte) error {
		if d == nil || name != lastName {
			if d = deltas[name]; d == nil {
				d = &namedLatency{hist: newDenseHistogram()}
				deltas[name] = d
			}
			lastName = name
		}
		return decodeLatency(v, &d.latencyCounts, d.hist)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]collector.Aggregate, len(deltas))
	for name, d := range deltas {
		h := newHistogram()
		h.MergeFrom(d.hist)
		out[name] = d.aggregate(h)
	}
	return out, nil
}

// Breakdown returns where the time of a service's transactions (or of those named name, when name is
// not "") went, by span type and subtype, over [from, to) widened to whole minutes, sorted by Sum,
// largest first. It reads the span_breakdown metricsets the agents send (the Go agent every metrics
// interval, 30 s by default), so the latest interval shows once the agent has sent it.
func (s *Store) Breakdown(ctx context.Context, service, name string, from, to time.Time) ([]collector.SpanTypeTime, error) {
	if err := s.acquireService("breakdown", service); err != nil {
		return nil, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	var d spanTypes
	err := s.eachAggregate(ctx, service, aggBreakdown, name, name != "", lo, hi, func(_ string, v []byte) error {
		return decodeBreakdown(v, &d)
	})
	if err != nil {
		return nil, err
	}
	return sortedBreakdown(d), nil
}

// sortedBreakdown returns d sorted by Sum, largest first (never nil).
func sortedBreakdown(d spanTypes) []collector.SpanTypeTime {
	out := []collector.SpanTypeTime(d)
	if out == nil {
		out = []collector.SpanTypeTime{}
	}
	slices.SortFunc(out, func(a, b collector.SpanTypeTime) int {
		return cmp.Or(cmp.Compare(b.Sum, a.Sum), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Subtype, b.Subtype))
	})
	return out
}

// eachAggregate calls fn with the transaction name and the value of each aggregate key of service at
// level whose minute is in [lo, hi), in the partitions that may hold that range. With withName, the
// keys read are name's; without, every name's (and fn gets each key's).
func (s *Store) eachAggregate(ctx context.Context, service string, level byte, name string, withName bool, lo, hi int64,
	fn func(name string, v []byte) error) error {
	return s.eachAggregateUnder(ctx, lo, hi, withName, name, func(b []byte, p uint32) []byte {
		return aggPrefix(b, p, service, level, name, withName)
	}, func(name string, _ int64, v []byte) error { return fn(name, v) })
}

// eachAggregateUnder is eachAggregate for the keys under prefix(b, partition) (appended to b): with
// withName, each followed by the minute only (and fn gets name); without, by an escaped name and the
// minute; fn also gets the key's minute.
func (s *Store) eachAggregateUnder(ctx context.Context, lo, hi int64, withName bool, name string,
	prefixOf func(b []byte, p uint32) []byte, fn func(name string, minute int64, v []byte) error) error {
	it, err := s.iter(ctx, ksAgg)
	if err != nil {
		return err
	}
	defer it.Close()
	var prefix []byte
	// A name's minutes are adjacent keys: its escaped form is compared, and unescaped once.
	var lastEscaped []byte
	lastName := ""
	for _, p := range selectPartitions(s.parts.snapshot(), minuteTime(lo), minuteTime(hi)) {
		prefix = prefixOf(prefix[:0], p.P)
		for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
			keyName, rest := name, it.Key()[len(prefix):]
			switch {
			case withName:
			case len(lastEscaped) > 0 && len(rest) == len(lastEscaped)+8 && bytes.HasPrefix(rest, lastEscaped):
				keyName, rest = lastName, rest[len(lastEscaped):]
			default:
				escaped := rest
				var ok bool
				if keyName, rest, ok = readEscaped(rest); !ok {
					return fmt.Errorf("store: bad aggregate key %q", it.Key())
				}
				lastEscaped, lastName = append(lastEscaped[:0], escaped[:len(escaped)-len(rest)]...), keyName
			}
			if len(rest) != 8 {
				return fmt.Errorf("store: bad aggregate key %q", it.Key())
			}
			m := int64(binary.BigEndian.Uint64(rest) ^ 1<<63)
			if m < lo || m >= hi {
				continue
			}
			if err := fn(keyName, m, it.Value()); err != nil {
				return fmt.Errorf("store: aggregate %q: %w", it.Key(), err)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: read aggregates: %w", err)
	}
	return nil
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
