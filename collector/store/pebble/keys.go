package pebble

import (
	"encoding/binary"
	"math"
	"time"
)

// Key layout. Every key starts with a one-byte keyspace. Integers are big-endian so that byte order is
// numeric order; strings are escaped (appendEscaped) so that they sort as strings and end unambiguously.
//
//	e seq                                   -> chunk: the events of one pending write from seq on (chunk.go)
//	t day   traceid               seq       -> uvarint gaps to the trace's next events (trace index)
//	x part  service name  time    seq       -> collector.TransactionSummary (transactions by time)
//	d part  service name  ^dur time seq     -> nothing: the x key without ^dur (transactions by duration, slowest first)
//	r part  service       time    seq       -> collector.ErrorSummary (errors by time)
//	n part  service type  name              -> nothing (names seen; type and name empty: the service only)
//	p part                                  -> partition meta (partition.go)
//	c name                                  -> cursor position (cursor.go)
//	s name                                  -> state saved with the cursor (cursor_state.go)
//	m name                                  -> store meta (last sequence number, format)
//	a part  service level name minute       -> pre-aggregated series (aggregate.go)
//	f g F H h i j                           -> profiles: records, data and indexes (profiles.go)
//
// part is the ingest hour (Unix time / 3600) of the group commit that wrote the event, day is part/24.
// Every index key of an event carries its partition first, so retention drops a partition with one range
// deletion per keyspace, and the random trace ids only scatter writes within the current day instead of
// across the whole store (the random-key degradation of a global B-tree index).
const (
	ksEvent     = 'e'
	ksTrace     = 't'
	ksTxTime    = 'x'
	ksTxDur     = 'd'
	ksError     = 'r'
	ksNames     = 'n'
	ksPartition = 'p'
	ksCursor    = 'c'
	ksMeta      = 'm'
)

// partitionsPerDay is the number of (hourly) partitions that share one trace-index day.
const partitionsPerDay = 24

// partitionWidth is the span of ingest time one partition covers.
const partitionWidth = time.Hour

func partitionOf(t time.Time) uint32 { return uint32(t.Unix() / int64(partitionWidth/time.Second)) }

func partitionStart(p uint32) time.Time {
	return time.Unix(int64(p)*int64(partitionWidth/time.Second), 0).UTC()
}

func eventKey(b []byte, seq uint64) []byte {
	b = append(b, ksEvent)
	return binary.BigEndian.AppendUint64(b, seq)
}

// appendEscaped appends s so that the result sorts as s does and cannot be a prefix of another escaped
// string: 0x00 becomes 0x00 0xff, and 0x00 0x01 ends the string.
func appendEscaped[S string | []byte](b []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xff)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
}

// readEscaped returns the string escaped at the start of b and the rest of b.
func readEscaped(b []byte) (string, []byte, bool) {
	var out []byte
	for i := 0; i+1 < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		switch b[i+1] {
		case 1:
			if out == nil {
				return string(b[:i]), b[i+2:], true
			}
			return string(append(out, b[:i]...)), b[i+2:], true
		case 0xff:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// skipEscaped is readEscaped without the string: the rest of b after an escaped string.
func skipEscaped(b []byte) ([]byte, bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		switch b[i+1] {
		case 1:
			return b[i+2:], true
		case 0xff:
			i++
		default:
			return nil, false
		}
	}
	return nil, false
}

// appendTraceID appends the trace-index form of a trace id: the bytes of a lowercase hex id (half the
// size), anything else as it is, behind a marker byte. Ids longer than 255 bytes are cut: readers compare
// the events' own trace ids, so a collision of cut ids costs a read, never a wrong answer.
func appendTraceID(b []byte, id string) []byte {
	if isHexID(id) {
		return appendUnhex(append(b, byte(len(id)/2)), id)
	}
	if len(id) > 255 {
		id = id[:255]
	}
	b = append(b, 0xff, byte(len(id)))
	return append(b, id...)
}

// isHexID reports whether id is stored as the bytes it spells: lowercase hex of 1 to 64 bytes.
func isHexID(id string) bool {
	n := len(id)
	return n > 0 && n%2 == 0 && n <= 128 && isLowerHex(id)
}

// appendUnhex appends the bytes the lowercase hex id spells (isHexID).
func appendUnhex(b []byte, id string) []byte {
	for i := 0; i < len(id); i += 2 {
		b = append(b, unhex(id[i])<<4|unhex(id[i+1]))
	}
	return b
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// timeKey is an order-preserving 8-byte form of t, saturating outside UnixNano's range.
func timeKey(t time.Time) uint64 {
	var n int64
	switch {
	case t.Before(minKeyTime):
		n = math.MinInt64
	case t.After(maxKeyTime):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return uint64(n) ^ 1<<63
}

var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// durKey orders durations from the longest: ^duration, negatives as zero.
func durKey(d time.Duration) uint64 {
	if d < 0 {
		d = 0
	}
	return ^uint64(d)
}

// prefixEnd returns the smallest key greater than every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

func partKey(b []byte, ks byte, p uint32) []byte {
	b = append(b, ks)
	return binary.BigEndian.AppendUint32(b, p)
}
