package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/minio/minlz"
)

// Events are stored in chunks: one key per pending write (one ProcessBatch call), "e" and the sequence number
// of its first event, whose value holds the pending write's events, which have consecutive sequence numbers.
// One key per event made the event keyspace most of the keys that flushes and compactions handle, though
// those keys never change after they are written; a chunk costs them one key for hundreds of events.
//
//	chunkVersion  uvarint(n)  n × uvarint(length)  n event bodies (appendEvent)
//
// Reading one event reads its chunk: a pending write's events are mostly read together anyway (a trace's
// events arrive in the same pending write, the exporter reads them in order).
//
// A chunk is stored compressed (chunkCompressed): the version byte, then the rest of the chunk as one
// MinLZ block. The events of one intake request share their metadata (service, agent, host, process,
// labels) and their shapes, so the block holds a tenth of the encoded bytes (about 40 bytes an event
// instead of 400), and compressing it in the caller's goroutine, before the group commit, is what keeps
// the WAL, the flushes and the blob files small: Pebble would compress the chunk only when it writes a
// table or a blob file, after the WAL had taken it whole. Chunks larger than MinLZ's largest block, or
// that do not compress, are stored as they are (chunkVersion); both forms are read.
const (
	chunkVersion    = 0xc1
	chunkCompressed = 0xc2
)

// maxChunkDecoded bounds a compressed chunk's decoded size: a reader refuses a block claiming more.
const maxChunkDecoded = minlz.MaxBlockSize

// sealChunk sets r.chunk to the stored chunk of r's events: compressed, unless it is too large for one
// block or compressing does not make it smaller.
func (r *pendingWrite) sealChunk() {
	r.raw = r.appendChunk(slices.Grow(r.raw[:0], r.chunkSize()))
	body := r.raw[1:]
	if len(body) <= maxChunkDecoded {
		need := 1 + minlz.MaxEncodedLen(len(body))
		r.chunk = slices.Grow(r.chunk[:0], need)[:need]
		r.chunk[0] = chunkCompressed
		// dst has room for any encoding, so the encoding is written in place.
		if enc, err := minlz.Encode(r.chunk[1:], body, minlz.LevelFastest); err == nil && len(enc) < len(body) {
			r.chunk = r.chunk[:1+len(enc)]
			return
		}
	}
	r.chunk = append(r.chunk[:0], r.raw...)
}

// chunkSize is the size of the chunk of r's events.
func (r *pendingWrite) chunkSize() int {
	n := 1 + uvarintLen(uint64(len(r.events)))
	for _, ev := range r.events {
		l := int(ev.end - ev.off)
		n += uvarintLen(uint64(l)) + l
	}
	return n
}

// appendChunk appends the chunk of r's events to dst.
func (r *pendingWrite) appendChunk(dst []byte) []byte {
	dst = append(dst, chunkVersion)
	dst = binary.AppendUvarint(dst, uint64(len(r.events)))
	for _, ev := range r.events {
		dst = binary.AppendUvarint(dst, uint64(ev.end-ev.off))
	}
	for _, ev := range r.events {
		dst = append(dst, r.bytes(ev)...)
	}
	return dst
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

var errChunk = errors.New("malformed chunk")

// openChunk returns the uncompressed form of the chunk v: v itself, or v's block decoded into a new
// slice.
func openChunk(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != chunkCompressed {
		return v, nil
	}
	n, err := minlz.DecodedLen(v[1:])
	if err != nil || n > maxChunkDecoded {
		return nil, fmt.Errorf("store: event chunk: %w (compressed block: %d bytes, %v)", errChunk, n, err)
	}
	out := make([]byte, 1+n)
	out[0] = chunkVersion
	if _, err := minlz.Decode(out[1:], v[1:]); err != nil {
		return nil, fmt.Errorf("store: event chunk: %w (compressed block: %v)", errChunk, err)
	}
	return out, nil
}

// chunkLen returns the number of events in an uncompressed chunk.
func chunkLen(v []byte) (int, error) {
	if len(v) == 0 || v[0] != chunkVersion {
		return 0, fmt.Errorf("store: event chunk: %w (version byte %#x)", errChunk, firstByte(v))
	}
	n, k := binary.Uvarint(v[1:])
	if k <= 0 || n > uint64(len(v)) {
		return 0, fmt.Errorf("store: event chunk: %w (count)", errChunk)
	}
	return int(n), nil
}

// eachInChunk calls fn for the events of the chunk v, whose first event has sequence number first, with
// sequence numbers in [from, to], in order, with the event's body (which fn must not retain). It returns
// the number of events in the chunk, and stops at fn's first error, which it returns.
func eachInChunk(v []byte, first, from, to uint64, fn func(seq uint64, body []byte) error) (int, error) {
	v, err := openChunk(v)
	if err != nil {
		return 0, err
	}
	n, err := chunkLen(v)
	if err != nil {
		return 0, err
	}
	lens := v[1+uvarintLen(uint64(n)):]
	// The bodies start after the lengths: walk the lengths once to find where.
	hdr := 0
	for range n {
		_, k := binary.Uvarint(lens[hdr:])
		if k <= 0 {
			return 0, fmt.Errorf("store: event chunk: %w (lengths)", errChunk)
		}
		hdr += k
	}
	bodies := lens[hdr:]
	off, seq := 0, first
	for i := 0; i < n && seq <= to; i, seq = i+1, seq+1 {
		l, k := binary.Uvarint(lens)
		lens = lens[k:]
		if l > uint64(len(bodies)-off) {
			return 0, fmt.Errorf("store: event chunk: %w (body %d of %d)", errChunk, i, n)
		}
		if seq >= from {
			if err := fn(seq, bodies[off:off+int(l)]); err != nil {
				return 0, err
			}
		}
		off += int(l)
	}
	return n, nil
}

func firstByte(v []byte) int {
	if len(v) == 0 {
		return -1
	}
	return int(v[0])
}
