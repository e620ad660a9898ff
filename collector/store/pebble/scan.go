package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// ScanTransactions calls fn with every stored transaction of a service with a timestamp in
// [from, to) (zero from or to: unbounded), in no particular order (partition by partition, then name
// by name), until fn returns false or an error. It reads the time index once, without the merging and
// paging of Transactions: the primitive for aggregating transactions by what the aggregates do not
// keep, such as a label's value. The summary passed to fn is valid only during the call.
func (s *Store) ScanTransactions(ctx context.Context, service string, from, to time.Time, fn func(*collector.TransactionSummary) (bool, error)) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	if service == "" {
		return errors.New("store: scan transactions: a service is required")
	}
	it, err := s.iter(ctx, ksTxTime)
	if err != nil {
		return err
	}
	defer it.Close()
	lo, hi := bounds(from, to)
	durable := s.LastSeq()
	var prefix []byte
	var ts collector.TransactionSummary
	n := 0
	for _, p := range selectPartitions(s.parts.snapshot(), from, to) {
		prefix = appendEscaped(partKey(prefix[:0], ksTxTime, p.P), service)
		for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			_, rest, ok := readEscaped(it.Key()[len(prefix):])
			if !ok || len(rest) != 16 {
				return fmt.Errorf("store: bad transaction index key %q", it.Key())
			}
			if t := binary.BigEndian.Uint64(rest); t < lo || t >= hi || !indexDurable(rest, durable) {
				continue
			}
			ts = collector.TransactionSummary{Labels: ts.Labels[:0]}
			if err := decodeTxSummary(it.Value(), &ts); err != nil {
				return fmt.Errorf("store: transaction index: %w", err)
			}
			ts.Seq = binary.BigEndian.Uint64(rest[8:])
			ts.Service = service
			if more, err := fn(&ts); !more || err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: scan transactions: %w", err)
	}
	return ctx.Err()
}
