package pebble

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/hotpath-apm/hotpath/collector"
)

// Query limits.
const (
	DefaultLimit = 50
	MaxLimit     = 10_000
)

func bounds(from, to time.Time) (lo, hi uint64) {
	lo, hi = 0, math.MaxUint64
	if !from.IsZero() {
		lo = timeKey(from)
	}
	if !to.IsZero() {
		hi = timeKey(to)
	}
	return lo, hi
}

// timeSource is the source of the entries of a time index under prefix (its keys prefix, then a
// timeKey) whose time is in [lo, hi) (bounds).
func timeSource(prefix []byte, lo, hi uint64) source {
	src := source{prefix: prefix, lo: binary.BigEndian.AppendUint64(slices.Clip(prefix), lo)}
	if hi == math.MaxUint64 {
		src.hi = prefixEnd(prefix)
	} else {
		src.hi = binary.BigEndian.AppendUint64(slices.Clip(prefix), hi)
	}
	return src
}

// resume narrows src to the entries that follow the one whose suffix is after (a cursor's; nil: from
// the start) in the order they are read: those before it when newestFirst, else those after it.
func (src *source) resume(after []byte, newestFirst bool) {
	if after == nil {
		return
	}
	k := append(slices.Clip(src.prefix), after...)
	if newestFirst {
		src.hi = k
	} else {
		src.lo = append(k, 0)
	}
}

func normLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// cursors of pages are the suffix of the last key returned, behind a byte naming the listing.
func encodeCursor(kind byte, suffix []byte) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{kind}, suffix...))
}

func decodeCursor(kind byte, c string, size int) ([]byte, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 1+size || b[0] != kind {
		return nil, fmt.Errorf("store: %w", collector.ErrBadCursor)
	}
	return b[1:], nil
}

// indexDurable reports whether the event an index key (suffix: its end, which is the event's sequence
// number) points at is durable. Pebble shows a group commit's keys as soon as it is applied, before
// its fsync (writer.go), so listings hide the entries past LastSeq as reads of events do: a transaction
// listed is one whose trace can be read.
func indexDurable(suffix []byte, durable uint64) bool {
	return binary.BigEndian.Uint64(suffix[len(suffix)-8:]) <= durable
}

func (s *Store) iter(ctx context.Context, ks byte) (*pebbledb.Iterator, error) {
	it, err := s.db.NewIterWithContext(ctx, &pebbledb.IterOptions{LowerBound: []byte{ks}, UpperBound: []byte{ks + 1}})
	if err != nil {
		return nil, fmt.Errorf("store: new iterator: %w", err)
	}
	return it, nil
}

// Transactions lists transactions of a service (and name) in a time range, ordered by time or by
// duration, a page at a time. It reads only the transaction indexes: one source per hourly partition
// that may hold the range (and per name when Name is ""), merged.
func (s *Store) Transactions(ctx context.Context, q collector.TransactionQuery) (collector.TransactionPage, error) {
	if err := s.acquireService("transactions", q.Service); err != nil {
		return collector.TransactionPage{}, err
	}
	defer s.release()
	var page collector.TransactionPage
	limit := normLimit(q.Limit)
	ks, kind, suffixLen := byte(ksTxTime), byte('t'), 16
	if q.Order == collector.SlowestFirst {
		ks, kind, suffixLen = ksTxDur, 'd', 24
	}
	after, err := decodeCursor(kind+byte(q.Order), q.Cursor, suffixLen)
	if err != nil {
		return page, err
	}
	parts := selectPartitions(s.parts.snapshot(), q.From, q.To)
	names := []string{q.Name}
	var srcs []source
	var srcNames []string // the transaction name of each source: the value does not hold it
	it, err := s.iter(ctx, ks)
	if err != nil {
		return page, err
	}
	defer it.Close()
	lo, hi := bounds(q.From, q.To)
	for _, p := range parts {
		if q.Name == "" {
			if names, err = s.txNames(ctx, p.P, q.Service); err != nil {
				return page, err
			}
		}
		for _, name := range names {
			prefix := appendEscaped(appendEscaped(partKey(nil, ks, p.P), q.Service), name)
			var src source
			if ks == ksTxTime {
				src = timeSource(prefix, lo, hi)
			} else {
				src = source{prefix: prefix, lo: prefix, hi: prefixEnd(prefix)}
				if q.MinDuration > 0 {
					src.hi = prefixEnd(binary.BigEndian.AppendUint64(slices.Clip(prefix), durKey(q.MinDuration)))
				}
			}
			src.resume(after, q.Order == collector.NewestFirst)
			srcs = append(srcs, src)
			srcNames = append(srcNames, name)
		}
	}
	m := newMerger(it, srcs, q.Order == collector.NewestFirst)
	var h head
	var last, summary []byte
	durable := s.LastSeq()
	for n := 0; m.next(&h); n++ {
		if n%1024 == 1023 && ctx.Err() != nil {
			return page, ctx.Err()
		}
		suffix := h.key[len(m.srcs[h.src].prefix):]
		if !indexDurable(suffix, durable) {
			continue
		}
		if ks == ksTxDur {
			if t := binary.BigEndian.Uint64(suffix[8:]); t < lo || t >= hi {
				continue
			}
		}
		value := h.value
		if ks == ksTxDur && len(value) == 0 {
			var found bool
			if summary, found, err = s.txSummaryOf(m.srcs[h.src].prefix, suffix, summary); err != nil {
				return page, err
			}
			if !found {
				continue // deleted by retention meanwhile
			}
			value = summary
		}
		var ts collector.TransactionSummary
		at := suffix[:8] // the time index's suffix: time, sequence number
		if ks == ksTxDur {
			at = suffix[8:16] // the duration index's: duration, time, sequence number
		}
		withKeyFields(&ts, srcNames[h.src], binary.BigEndian.Uint64(at))
		if err := decodeTxSummary(value, &ts); err != nil {
			return page, fmt.Errorf("store: transaction index: %w", err)
		}
		if (q.Result != "" && ts.Result != q.Result) || ts.Duration < q.MinDuration || !hasLabels(ts.Labels, q.Labels) {
			continue
		}
		if len(page.Transactions) == limit {
			page.Next = encodeCursor(kind+byte(q.Order), last)
			break
		}
		ts.Seq = binary.BigEndian.Uint64(suffix[len(suffix)-8:])
		ts.Service = q.Service
		page.Transactions = append(page.Transactions, ts)
		last = append(last[:0], suffix...)
	}
	return page, it.Error()
}

// txSummaryOf returns the value of the time-index entry that the duration-index entry prefix+suffix
// points at (its key holds the time index's: partition, service, name, then time and sequence number
// after the duration), in buf; found is false if there is none.
func (s *Store) txSummaryOf(prefix, suffix, buf []byte) (_ []byte, found bool, err error) {
	key := make([]byte, 0, len(prefix)+len(suffix)-8)
	key = append(append(append(key, ksTxTime), prefix[1:]...), suffix[8:]...)
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return buf, false, nil
	}
	if err != nil {
		return buf, false, fmt.Errorf("store: transaction index: %w", err)
	}
	buf = append(buf[:0], v...)
	return buf, true, closer.Close()
}

// txNames returns the transaction names of a service in a partition, sorted, from its name keys.
func (s *Store) txNames(ctx context.Context, p uint32, service string) ([]string, error) {
	it, err := s.iter(ctx, ksNames)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var names []string
	prefix := appendEscaped(partKey(nil, ksNames, p), service)
	for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
		typ, rest, ok1 := readEscaped(it.Key()[len(prefix):])
		name, _, ok2 := readEscaped(rest)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("store: bad name key %q", it.Key())
		}
		if typ == "" && name == "" {
			continue // the service-only marker
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names), it.Error()
}

// Errors lists errors of a service in a time range, newest first, a page at a time.
func (s *Store) Errors(ctx context.Context, q collector.ErrorQuery) (collector.ErrorPage, error) {
	if err := s.acquireService("errors", q.Service); err != nil {
		return collector.ErrorPage{}, err
	}
	defer s.release()
	var page collector.ErrorPage
	limit := normLimit(q.Limit)
	after, err := decodeCursor('e', q.Cursor, 16)
	if err != nil {
		return page, err
	}
	it, err := s.iter(ctx, ksError)
	if err != nil {
		return page, err
	}
	defer it.Close()
	lo, hi := bounds(q.From, q.To)
	var srcs []source
	for _, p := range selectPartitions(s.parts.snapshot(), q.From, q.To) {
		src := timeSource(appendEscaped(partKey(nil, ksError, p.P), q.Service), lo, hi)
		src.resume(after, true)
		srcs = append(srcs, src)
	}
	m := newMerger(it, srcs, true)
	var h head
	var last []byte
	durable := s.LastSeq()
	for m.next(&h) {
		suffix := h.key[len(m.srcs[h.src].prefix):]
		if !indexDurable(suffix, durable) {
			continue
		}
		if len(page.Errors) == limit {
			page.Next = encodeCursor('e', last)
			break
		}
		var es collector.ErrorSummary
		if err := decodeErrSummary(h.value, &es); err != nil {
			return page, fmt.Errorf("store: error index: %w", err)
		}
		es.Seq = binary.BigEndian.Uint64(suffix[8:])
		es.Service = q.Service
		page.Errors = append(page.Errors, es)
		last = append(last[:0], suffix...)
	}
	return page, it.Error()
}

// Services returns the names of the services that sent events stored in partitions that may hold
// events with timestamps in [from, to) (zero: unbounded), sorted.
func (s *Store) Services(ctx context.Context, from, to time.Time) ([]string, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	it, err := s.iter(ctx, ksNames)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []string
	for _, p := range selectPartitions(s.parts.snapshot(), from, to) {
		prefix := partKey(nil, ksNames, p.P)
		for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
			svc, _, ok := readEscaped(it.Key()[len(prefix):])
			if !ok {
				return nil, fmt.Errorf("store: bad name key %q", it.Key())
			}
			if len(out) == 0 || out[len(out)-1] != svc {
				out = append(out, svc)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), it.Error()
}
