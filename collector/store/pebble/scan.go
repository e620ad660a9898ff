package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/hotpath-apm/hotpath/collector"
)

// ScanLabel reads every stored transaction of a service with a timestamp in [from, to) (zero from or
// to: unbounded), with the value of its label key, in no particular order, until a call returns false
// or an error: the primitive for aggregating transactions by what the aggregates do not keep, such as
// a label's value. It reads the time index once, without the merging and paging of Transactions, and
// decodes of each summary only the name, duration, outcome and labels.
//
// The hourly partitions are read in parallel, by up to GOMAXPROCS goroutines: worker is called once
// for each (before they start, from ScanLabel's goroutine), and each goroutine calls only the function
// returned for it, so that each can aggregate on its own without locks, and the caller merges what
// they built after ScanLabel returns. A false or an error from any of them stops
// all of them (each finishes the call it is in); the first error is returned. The transaction passed
// is valid only during the call (its strings are views of the store's memory).
func (s *Store) ScanLabel(ctx context.Context, service, key string, from, to time.Time, worker func() func(*collector.LabelledTransaction) (bool, error)) error {
	if err := s.acquireService("scan transactions", service); err != nil {
		return err
	}
	defer s.release()
	parts := selectPartitions(s.parts.snapshot(), from, to)
	lo, hi := bounds(from, to)
	durable := s.LastSeq()
	var (
		next    atomic.Int64 // the next partition to read
		stopped atomic.Bool
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		stopped.Store(true)
	}
	for range max(1, min(runtime.GOMAXPROCS(0), len(parts))) {
		fn := worker()
		wg.Go(func() {
			it, err := s.iter(ctx, ksTxTime)
			if err != nil {
				fail(err)
				return
			}
			defer it.Close()
			var prefix []byte
			var lt collector.LabelledTransaction
			n := 0
			for i := int(next.Add(1) - 1); i < len(parts) && !stopped.Load(); i = int(next.Add(1) - 1) {
				prefix = appendEscaped(partKey(prefix[:0], ksTxTime, parts[i].P), service)
				for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
					if n++; n%4096 == 0 && ctx.Err() != nil {
						fail(ctx.Err())
						return
					}
					rest, ok := skipEscaped(it.Key()[len(prefix):]) // the name
					if !ok || len(rest) != 16 {
						fail(fmt.Errorf("store: bad transaction index key %q", it.Key()))
						return
					}
					if t := binary.BigEndian.Uint64(rest); t < lo || t >= hi || !indexDurable(rest, durable) {
						continue
					}
					v := it.Value()
					name := it.Key()[len(prefix) : len(it.Key())-len(rest)-2]
					if bytes.IndexByte(name, 0) >= 0 { // escaped: rare
						unescaped, _, _ := readEscaped(it.Key()[len(prefix):])
						name = []byte(unescaped)
					}
					if err := decodeLabelled(unsafe.String(unsafe.SliceData(v), len(v)), unsafe.String(unsafe.SliceData(name), len(name)), key, &lt); err != nil {
						fail(fmt.Errorf("store: transaction index: %w", err))
						return
					}
					if stopped.Load() {
						return
					}
					if more, err := fn(&lt); !more || err != nil {
						if err != nil {
							fail(err)
						}
						stopped.Store(true)
						return
					}
				}
			}
			if err := it.Error(); err != nil {
				fail(fmt.Errorf("store: scan transactions: %w", err))
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// decodeLabelled decodes of a transaction summary (appendTxSummary) what ScanLabel passes on, its
// strings views of v; name is the one its key holds, which a value of an earlier version overrides.
func decodeLabelled(v, name, label string, t *collector.LabelledTransaction) error {
	*t = collector.LabelledTransaction{Name: name}
	d := decoder{s: v}
	for d.more() {
		key, err := d.key()
		if err != nil {
			return err
		}
		switch key {
		case 1 << 3:
			i, err := d.varint()
			if err != nil {
				return err
			}
			t.Duration = time.Duration(i)
		case 4<<3 | 2:
			t.Outcome, err = d.bytes()
		case 8<<3 | 2:
			t.Name, err = d.bytes()
		case 10<<3 | 2:
			var l collector.SummaryLabel
			if l, err = decodeSummaryLabel(&d); err == nil && !t.Labelled && l.Key == label {
				t.Label, t.Labelled = l.Value, true
			}
		default:
			err = d.skip(key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
