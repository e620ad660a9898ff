package pebble

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

const maxSummaryMessage = 1 << 10

// txSummaryOf returns the summary of the transaction e, its labels in the array of labels.
func txSummaryOf(e *collector.Event, labels []collector.SummaryLabel) collector.TransactionSummary {
	t := e.Transaction
	return collector.TransactionSummary{
		Timestamp: e.Timestamp, Duration: e.Event.Duration, Service: e.Service.Name,
		Name: t.Name, Type: t.Type, Result: t.Result, Outcome: e.Event.Outcome,
		TraceID: e.TraceID, TransactionID: t.ID, Sampled: t.Sampled, Labels: summaryLabels(labels, e),
	}
}

func errSummaryOf(e *collector.Event) collector.ErrorSummary {
	er := e.Error
	s := collector.ErrorSummary{
		Timestamp: e.Timestamp, Service: e.Service.Name, ErrorID: er.ID, GroupingKey: er.GroupingKey,
		Culprit: er.Culprit, Type: er.Type, Message: er.Message, TraceID: e.TraceID,
	}
	switch {
	case er.Exception != nil:
		s.Type, s.Handled = er.Exception.Type, er.Exception.Handled
		if er.Exception.Message != "" {
			s.Message = er.Exception.Message
		}
	case er.Log != nil && er.Log.Message != "":
		s.Message = er.Log.Message
	}
	if s.Message == "" {
		s.Message = e.Message
	}
	if len(s.Message) > maxSummaryMessage {
		s.Message = s.Message[:maxSummaryMessage]
	}
	if e.Transaction != nil {
		s.TransactionID, s.TransactionName = e.Transaction.ID, e.Transaction.Name
	}
	return s
}

// Summaries are stored with the event codec's wire format. A transaction's time-index key holds its
// service, name and timestamp, so its value does not: the reader takes them from the key
// (withKeyFields). Lowercase hex ids are stored as their bytes (fields 11 and 12), half the size. Values
// written by earlier versions hold the name (8), the timestamp (9) and the ids as strings (5, 6), and
// are read as they are: a field in the value wins over the key's.
func appendTxSummary(b []byte, s *collector.TransactionSummary) []byte {
	if s.Duration != 0 {
		b = appendInt(b, 1<<3, int64(s.Duration))
	}
	b = appendString(b, 2<<3|2, s.Type)
	b = appendString(b, 3<<3|2, s.Result)
	b = appendString(b, 4<<3|2, s.Outcome)
	b = appendHexID(b, 5<<3|2, 11<<3|2, s.TraceID)
	b = appendHexID(b, 6<<3|2, 12<<3|2, s.TransactionID)
	if s.Sampled {
		b = appendBool(b, 7<<3, true)
	}
	if !s.Timestamp.IsZero() && !timeInKey(s.Timestamp) {
		b = appendTime(b, 9<<3|2, s.Timestamp)
	}
	return appendSummaryLabels(b, 10<<3|2, s.Labels)
}

// appendHexID appends id under rawKey as the bytes it spells if it is lowercase hex, else as it is
// under strKey.
func appendHexID(b []byte, strKey, rawKey uint64, id string) []byte {
	if !isHexID(id) {
		return appendString(b, strKey, id)
	}
	b = binary.AppendUvarint(binary.AppendUvarint(b, rawKey), uint64(len(id)/2))
	return appendUnhex(b, id)
}

// timeInKey reports whether timeKey holds t exactly: UnixNano's range, without its saturated ends.
func timeInKey(t time.Time) bool {
	_, ok := keyTime(timeKey(t))
	return ok
}

// keyTime is the time a timeKey holds, if it is not saturated.
func keyTime(k uint64) (time.Time, bool) {
	n := int64(k ^ 1<<63)
	if n == math.MinInt64 || n == math.MaxInt64 {
		return time.Time{}, false
	}
	return time.Unix(0, n).UTC(), true
}

// withKeyFields sets of s what a time-index entry's key holds: the transaction's name and, from the
// key's timestamp (the 8 bytes after the name), its time. decodeTxSummary then reads the value over it.
func withKeyFields(s *collector.TransactionSummary, name string, ts uint64) {
	s.Name = name
	s.Timestamp, _ = keyTime(ts)
}

func decodeTxSummary(v []byte, s *collector.TransactionSummary) error {
	// The string fields, by field number.
	strs := [...]*string{2: &s.Type, 3: &s.Result, 4: &s.Outcome, 5: &s.TraceID, 6: &s.TransactionID, 8: &s.Name}
	d := decoder{s: string(v)}
	for d.more() {
		key, err := d.key()
		if err != nil {
			return err
		}
		var str string
		switch key {
		case 1 << 3:
			i, err := d.varint()
			if err != nil {
				return err
			}
			s.Duration = time.Duration(i)
			continue
		case 7 << 3:
			u, err := d.uvarint()
			if err != nil {
				return err
			}
			s.Sampled = u != 0
			continue
		case 9<<3 | 2:
			if s.Timestamp, err = d.time(); err != nil {
				return err
			}
			continue
		case 10<<3 | 2:
			l, err := decodeSummaryLabel(&d)
			if err != nil {
				return err
			}
			s.Labels = append(s.Labels, l)
			continue
		case 2<<3 | 2, 3<<3 | 2, 4<<3 | 2, 5<<3 | 2, 6<<3 | 2, 8<<3 | 2:
			if str, err = d.bytes(); err != nil {
				return err
			}
		case 11<<3 | 2, 12<<3 | 2:
			raw, err := d.bytes()
			if err != nil {
				return err
			}
			str = hex.EncodeToString([]byte(raw))
			key -= 6 << 3 // the string field of the same id
		default:
			if err := d.skip(key); err != nil {
				return err
			}
			continue
		}
		*strs[key>>3] = str
	}
	return nil
}

func appendErrSummary(b []byte, s *collector.ErrorSummary) []byte {
	for i, str := range [...]string{s.ErrorID, s.GroupingKey, s.Culprit, s.Type, s.Message, s.TraceID, s.TransactionID, s.TransactionName} {
		if str != "" {
			b = appendString(b, uint64(i+1)<<3|2, str)
		}
	}
	if s.Handled.Valid {
		b = appendBool(b, 9<<3, s.Handled.V)
	}
	if !s.Timestamp.IsZero() {
		b = appendTime(b, 10<<3|2, s.Timestamp)
	}
	return b
}

func decodeErrSummary(v []byte, s *collector.ErrorSummary) error {
	d := decoder{s: string(v)}
	fields := [...]*string{&s.ErrorID, &s.GroupingKey, &s.Culprit, &s.Type, &s.Message, &s.TraceID, &s.TransactionID, &s.TransactionName}
	for d.more() {
		key, err := d.key()
		if err != nil {
			return err
		}
		switch n := key >> 3; {
		case key&7 == 2 && n >= 1 && int(n) <= len(fields):
			if *fields[n-1], err = d.bytes(); err != nil {
				return err
			}
		case key == 9<<3:
			u, err := d.uvarint()
			if err != nil {
				return err
			}
			s.Handled = collector.Some(u != 0)
		case key == 10<<3|2:
			if s.Timestamp, err = d.time(); err != nil {
				return err
			}
		default:
			if err := d.skip(key); err != nil {
				return fmt.Errorf("error summary: %w", err)
			}
		}
	}
	return nil
}
