package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// How the writer maintains the aggregates (aggregate.go): prepare, in the caller's goroutine, notes
// each event's contribution (aggInput) with the escaped names in the pending write's buffer. The writer, in
// commit, adds a group commit's contributions up per key, then adds them to the key's value as an
// earlier commit of the same hour wrote it (its decoded copy in the writer's cache, aggregate_cache.go,
// else read from the database), and writes the sum in the same Pebble batch as the events. Only the
// writer writes these keys, so the read-modify-write needs no lock. Its state (aggWriter) is reused from
// commit to commit, so a commit allocates only for the keys it touches.

// aggInput is what prepare records of an event for the aggregates.
type aggInput struct {
	level   byte     // aggEndpoint (a transaction, also counted at aggService) or aggBreakdown
	outcome byte     // 's' success, 'f' failure, 0 otherwise
	svc     bufRange // escaped service name
	name    bufRange // escaped transaction name
	typ     bufRange // transaction type, or span type
	subtype bufRange
	ver     bufRange // escaped service.version, empty when there is none (version_aggregate.go)
	minute  int64
	micros  int64   // transaction duration, or self-time sum
	count   int64   // breakdown: self-time count
	rep     float64 // transaction: representative count
}

// prepareAggregate records e's contribution to the aggregates, if it makes one.
func (r *pendingWrite) prepareAggregate(e *collector.Event) {
	if e.Service.Name == "" || e.Timestamp.IsZero() {
		return
	}
	in := aggInput{minute: unixMinute(e.Timestamp)}
	var name string
	switch {
	case e.Kind == collector.KindTransaction && e.Transaction != nil && e.Transaction.Type == breakerTransactionType:
		return // a breaker's state change, not a request: the failover aggregates count it
	case e.Kind == collector.KindTransaction && e.Transaction != nil:
		t := e.Transaction
		in.level, in.micros, in.rep, name = aggEndpoint, max(int64(e.Event.Duration/time.Microsecond), 0), t.RepresentativeCount, t.Name
		switch e.Event.Outcome {
		case "success":
			in.outcome = 's'
		case "failure":
			in.outcome = 'f'
		}
		in.typ = r.appendToBuf(t.Type)
		in.ver = r.appendVersion(e.Service.Version)
	case e.Kind == collector.KindMetricset && e.Transaction != nil && e.Span != nil && e.Span.SelfTime != nil:
		st := e.Span.SelfTime
		in.level, in.micros, in.count, name = aggBreakdown, max(int64(st.Sum/time.Microsecond), 0), max(st.Count, 0), e.Transaction.Name
		in.typ = r.appendToBuf(e.Span.Type)
		in.subtype = r.appendToBuf(e.Span.Subtype)
		in.ver = r.appendVersion(e.Service.Version)
	default:
		return
	}
	start := r.mark()
	r.buf = appendEscaped(r.buf, e.Service.Name)
	in.svc = bufRange{start, r.mark()}
	r.buf = appendEscaped(r.buf, name)
	in.name = bufRange{in.svc.end, r.mark()}
	r.aggs = append(r.aggs, in)
}

func (r *pendingWrite) appendToBuf(s string) bufRange {
	start := r.mark()
	r.buf = append(r.buf, s...)
	return bufRange{start, r.mark()}
}

// aggWriter is the writer goroutine's state for the aggregates.
type aggWriter struct {
	index map[string]int // aggregate key -> index in lat or bd (the key's level tells which)
	lat   []latencyDelta
	bd    []breakdownDelta
	key   []byte
	val   []byte
	types []string // transaction types seen, so that each is allocated once
	cache aggCache // the values written lately, decoded (aggregate_cache.go)
}

// maxInternedTypes bounds aggWriter.types.
const maxInternedTypes = 64

func (w *aggWriter) intern(b []byte) string {
	for _, s := range w.types {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	if len(w.types) < maxInternedTypes {
		w.types = append(w.types, s)
	}
	return s
}

// latencyDelta is what a commit adds to a latency key: counts and the new durations.
type latencyDelta struct {
	key    []byte // reused from commit to commit
	micros []int64
	latencyCounts
}

// breakdownDelta is what a commit adds to a breakdown key.
type breakdownDelta struct {
	key   []byte
	types spanTypes
}

// escapedEmpty is appendEscaped(nil, ""): the name of the service-wide latency key.
const escapedEmpty = "\x00\x01"

// commitAggregates adds the aggregates of reqs' events to batch, in partition p.
func (s *Store) commitAggregates(batch *pebbledb.Batch, p uint32, reqs []*pendingWrite) error {
	w := &s.agg
	if w.index == nil {
		w.index = map[string]int{}
	}
	clear(w.index)
	w.lat, w.bd = w.lat[:0], w.bd[:0]
	for _, r := range reqs {
		for i := range r.aggs {
			in := &r.aggs[i]
			if in.level == aggBreakdown {
				d := w.breakdown(w.aggKey(p, r.bytes(in.svc), aggBreakdown, r.bytes(in.name), in.minute))
				d.types.add(r.bytes(in.typ), r.bytes(in.subtype), in.count, in.micros)
				w.addVersionBreakdown(p, r, in)
				continue
			}
			w.latency(w.aggKey(p, r.bytes(in.svc), aggService, []byte(escapedEmpty), in.minute), nil).add(in)
			w.latency(w.aggKey(p, r.bytes(in.svc), aggEndpoint, r.bytes(in.name), in.minute), r.bytes(in.typ)).add(in)
			w.addVersion(p, r, in)
		}
	}
	for i := range w.lat {
		d := &w.lat[i]
		v, err := cachedAgg(s, d.key, newLatencyValue, (*latencyValue).decode)
		if err != nil {
			return err
		}
		v.addCounts(&d.latencyCounts)
		if d.typ != "" { // the latest transaction's type names the endpoint
			v.typ = d.typ
		}
		for _, us := range d.micros {
			_ = v.h.RecordValue(clampMicros(us)) // in range: cannot fail
		}
		w.val = appendLatency(w.val[:0], &v.latencyCounts, v.h)
		s.setAgg(batch, d.key, w.val)
	}
	for i := range w.bd {
		d := &w.bd[i]
		v, err := cachedAgg(s, d.key, newSpanTypes, (*spanTypes).decode)
		if err != nil {
			return err
		}
		for _, t := range d.types {
			v.addTime(t)
		}
		w.val = appendBreakdown(w.val[:0], *v)
		s.setAgg(batch, d.key, w.val)
	}
	return nil
}

func (w *aggWriter) aggKey(p uint32, escSvc []byte, level byte, escName []byte, minute int64) []byte {
	w.key = partKey(w.key[:0], ksAgg, p)
	w.key = append(w.key, escSvc...)
	w.key = append(w.key, level)
	w.key = append(w.key, escName...)
	w.key = binary.BigEndian.AppendUint64(w.key, minuteKey(minute))
	return w.key
}

// deltaOf returns the commit's entry of key in *ds (index maps keys to positions in it), adding it if
// it is new: an element of an earlier commit is reused, reset by its reuse method, so that a commit
// allocates only for the keys beyond the most an earlier one had.
func deltaOf[T any, P interface {
	*T
	reuse(key []byte)
}](index map[string]int, ds *[]T, key []byte) P {
	return &(*ds)[deltaAt[T, P](index, ds, key)]
}

// deltaAt is deltaOf's index in ds.
func deltaAt[T any, P interface {
	*T
	reuse(key []byte)
}](index map[string]int, ds *[]T, key []byte) int {
	if i, ok := index[string(key)]; ok {
		return i
	}
	i := len(*ds)
	if i < cap(*ds) {
		*ds = (*ds)[:i+1]
	} else {
		*ds = append(*ds, *new(T))
	}
	P(&(*ds)[i]).reuse(key)
	index[string(key)] = i
	return i
}

// latency returns the commit's delta of key, adding it (with type typ) if it is new.
func (w *aggWriter) latency(key, typ []byte) *latencyDelta {
	n := len(w.lat)
	d := deltaOf(w.index, &w.lat, key)
	if len(w.lat) > n {
		d.typ = w.intern(typ)
	}
	return d
}

func (w *aggWriter) breakdown(key []byte) *breakdownDelta { return deltaOf(w.index, &w.bd, key) }

func (d *latencyDelta) reuse(key []byte) {
	d.latencyCounts, d.micros, d.key = latencyCounts{}, d.micros[:0], append(d.key[:0], key...)
}

func (d *breakdownDelta) reuse(key []byte) { d.types, d.key = d.types[:0], append(d.key[:0], key...) }

func (d *latencyDelta) add(in *aggInput) {
	d.count++
	rep := in.rep
	if rep <= 0 || math.IsNaN(rep) || math.IsInf(rep, 0) {
		rep = 1
	}
	d.represented += rep
	d.sumMicros += in.micros
	switch in.outcome {
	case 's':
		d.successes++
	case 'f':
		d.failures++
	}
	d.micros = append(d.micros, in.micros)
}

// aggGet calls decode with the committed value of an aggregate key, if there is one.
func (s *Store) aggGet(key []byte, decode func(v []byte) error) error {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read aggregate: %w", err)
	}
	err = decode(v)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: aggregate %q: %w", key, err)
	}
	return nil
}

// setAgg adds key and value to batch, copying them, and records the value's size in the cache.
func (s *Store) setAgg(batch *pebbledb.Batch, key, val []byte) {
	s.agg.cache.written(key, len(val))
	op := batch.SetDeferred(len(key), len(val))
	copy(op.Key, key)
	copy(op.Value, val)
	_ = op.Finish() // only fails for an indexed batch, which this is not
}
