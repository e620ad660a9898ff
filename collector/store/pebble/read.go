package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// MaxTraceEvents bounds what GetTrace reads of one trace id, whatever limit it is given.
const MaxTraceEvents = 100_000

// OldestSeq returns the sequence number of the oldest stored event, or LastSeq()+1 when the store holds
// none.
func (s *Store) OldestSeq() uint64 {
	for _, p := range s.parts.snapshot() {
		if p.Events > 0 {
			return p.FirstSeq
		}
	}
	return s.LastSeq() + 1
}

// Get returns the event with sequence number seq; ok is false when there is none (never written, or
// deleted by retention).
func (s *Store) Get(seq uint64) (rec collector.Record, ok bool, err error) {
	recs, err := s.GetMany(context.Background(), []uint64{seq})
	if err != nil || len(recs) == 0 {
		return collector.Record{}, false, err
	}
	return recs[0], true, nil
}

// GetMany returns the events with the given sequence numbers that exist, in ascending order of
// sequence number.
func (s *Store) GetMany(ctx context.Context, seqs []uint64) ([]collector.Record, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	last := s.LastSeq()
	var hi [9]byte
	it, err := s.db.NewIterWithContext(ctx, &pebbledb.IterOptions{
		LowerBound: []byte{ksEvent}, UpperBound: eventKey(hi[:0], last+1),
	})
	if err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	defer it.Close()
	out := make([]collector.Record, 0, len(seqs))
	var key [9]byte
	for len(seqs) > 0 && seqs[0] <= last {
		// The chunk holding seqs[0] is the last one that starts at or before it.
		if !it.SeekLT(eventKey(key[:0], seqs[0]+1)) {
			seqs = seqs[1:] // before the oldest stored event
			continue
		}
		first := binary.BigEndian.Uint64(it.Key()[1:])
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("store: read events: %w", err)
		}
		want := seqs
		n, err := eachInChunk(v, first, seqs[0], min(last, seqs[len(seqs)-1]), func(seq uint64, body []byte) error {
			for len(want) > 0 && want[0] < seq {
				want = want[1:]
			}
			if len(want) == 0 || want[0] != seq {
				return nil
			}
			var err error
			out, err = appendRecord(out, seq, body)
			return err
		})
		if err != nil {
			return nil, err
		}
		// Every wanted number the chunk could hold is done: those it did not have do not exist.
		end := max(first+uint64(n), seqs[0]+1)
		for len(seqs) > 0 && seqs[0] < end {
			seqs = seqs[1:]
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	return out, nil
}

// ReadFrom returns up to limit events with sequence numbers from `from` on, in order, all durably
// committed. The next call's from is the last returned Seq + 1. Events deleted by retention are skipped
// (a registered cursor prevents that). It returns no events when there is nothing after from yet:
// WaitFor waits for more.
func (s *Store) ReadFrom(ctx context.Context, from uint64, limit int) ([]collector.Record, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	if limit <= 0 {
		return nil, nil
	}
	last := s.LastSeq()
	if from > last {
		return nil, nil
	}
	var hi, key [9]byte
	it, err := s.db.NewIterWithContext(ctx, &pebbledb.IterOptions{
		LowerBound: []byte{ksEvent}, UpperBound: eventKey(hi[:0], last+1),
	})
	if err != nil {
		return nil, fmt.Errorf("store: read from %d: %w", from, err)
	}
	defer it.Close()
	out := make([]collector.Record, 0, min(limit, int(last-from+1)))
	// Start at the chunk holding from, or at the first one after it.
	ok := it.SeekLT(eventKey(key[:0], from+1))
	if !ok {
		ok = it.First()
	}
	for ; ok && len(out) < limit; ok = it.Next() {
		first := binary.BigEndian.Uint64(it.Key()[1:])
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("store: read from %d: %w", from, err)
		}
		// A chunk's sequence numbers are consecutive: what is left of limit bounds the last one to read.
		lo := max(from, first)
		to := min(last, lo+uint64(limit-len(out))-1)
		_, err = eachInChunk(v, first, lo, to, func(seq uint64, body []byte) error {
			var err error
			out, err = appendRecord(out, seq, body)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: read from %d: %w", from, err)
	}
	return out, nil
}

// WaitFor blocks until an event with sequence number seq or later is durably committed (LastSeq() >=
// seq), ctx ends (its error is returned) or the store is closed (collector.ErrShuttingDown).
func (s *Store) WaitFor(ctx context.Context, seq uint64) error {
	for {
		ch := s.updated()
		if s.LastSeq() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stop:
			return collector.ErrShuttingDown
		}
	}
}

// GetTrace returns the stored events (transactions, spans, errors, logs) of the trace, in the order
// they were stored: the first limit of them (MaxTraceEvents when limit is <= 0 or larger). It stops
// reading the index at limit and reads only those events, so a trace of millions of events costs what
// limit events cost. It looks the trace id up once per stored day, so its cost does not grow with the
// number of events stored.
func (s *Store) GetTrace(ctx context.Context, traceID string, limit int) ([]collector.Record, error) {
	if limit <= 0 || limit > MaxTraceEvents {
		limit = MaxTraceEvents
	}
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	if traceID == "" {
		return nil, nil
	}
	parts := s.parts.snapshot()
	if len(parts) == 0 {
		return nil, nil
	}
	lower := partKey(nil, ksTrace, parts[0].P/partitionsPerDay)
	upper := partKey(nil, ksTrace, parts[len(parts)-1].P/partitionsPerDay+1)
	it, err := s.db.NewIterWithContext(ctx, &pebbledb.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: trace %s: %w", traceID, err)
	}
	var seqs []uint64
	var prefix []byte
	var valueErr error
	lastDay := ^uint32(0)
	for _, p := range parts {
		day := p.P / partitionsPerDay
		if day == lastDay {
			continue
		}
		lastDay = day
		prefix = appendTraceID(partKey(prefix[:0], ksTrace, day), traceID)
		for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
			k := it.Key()
			if len(seqs) >= limit {
				break
			}
			if len(k) != len(prefix)+8 {
				continue
			}
			seq := binary.BigEndian.Uint64(k[len(prefix):])
			seqs = append(seqs, seq)
			v, verr := it.ValueAndErr()
			if verr != nil {
				valueErr = verr
				break
			}
			// The trace's other events of the same batch: gaps between sequence numbers (prepare.go).
			for len(v) > 0 && len(seqs) < limit {
				gap, n := binary.Uvarint(v)
				if n <= 0 || gap == 0 {
					break // not ours: ignore the rest rather than invent events
				}
				seq += gap
				seqs = append(seqs, seq)
				v = v[n:]
			}
		}
	}
	err = cmp.Or(it.Error(), valueErr)
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("store: trace %s: %w", traceID, err)
	}
	recs, err := s.GetMany(ctx, seqs)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, r := range recs {
		if r.Event.TraceID == traceID { // cut or colliding ids
			out = append(out, r)
		}
	}
	return out, nil
}

// appendRecord appends the record of event seq, decoded from its stored body, to out.
func appendRecord(out []collector.Record, seq uint64, body []byte) ([]collector.Record, error) {
	out = append(out, collector.Record{Seq: seq})
	if err := decodeEvent(body, &out[len(out)-1].Event); err != nil {
		return out, fmt.Errorf("store: event %d: %w", seq, err)
	}
	return out, nil
}
