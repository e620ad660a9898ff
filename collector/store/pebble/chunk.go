package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/minio/minlz"
)

// Events are stored in chunks: "e" and the sequence number of the chunk's first event, whose value holds
// consecutive events of one pending write (one ProcessBatch call), up to chunkTarget bytes of them. One
// key per event made the event keyspace most of the keys that flushes and compactions handle, though
// those keys never change after they are written; a chunk costs them one key for dozens of events.
//
//	chunkVersion  uvarint(n)  n × uvarint(length)  n event bodies (appendEvent)
//
// Reading one event reads its chunk: a pending write's events are mostly read together anyway (a trace's
// events arrive in the same pending write, the exporter reads them in order).
//
// A chunk is stored compressed (chunkCompressed): the version byte, then the rest of the chunk as one
// MinLZ block. The events of one intake request share their metadata (service, agent, host, process,
// labels) and their shapes, so the block holds a tenth of the encoded bytes (about 45 bytes an event
// instead of 400), and compressing it in the caller's goroutine, before the group commit, is what keeps
// the journal, the flushes and the blob files small: Pebble would compress the chunk only when it writes
// a table or a blob file. A chunk that does not compress is stored as
// it is (chunkVersion); both forms are read, and so are the chunks of earlier versions, which held a
// whole pending write.
const (
	chunkVersion    = 0xc1
	chunkCompressed = 0xc2
)

// chunkTarget is the encoded size at which a pending write's events start a new chunk: a read of one
// event decompresses at most about this much (a chunk of one event may be larger), and a chunk this
// large compresses nearly as well as the whole request (BenchmarkPrepare's chunk-B/event).
const chunkTarget = 32 << 10

// maxChunkDecoded bounds a compressed chunk's decoded size: a reader refuses a block claiming more.
// A chunk of one event larger than this (intake refuses events over 300 KiB) is stored uncompressed.
const maxChunkDecoded = minlz.MaxBlockSize

// storedChunk is one chunk of a pending write: its first event (an index into events) and its stored
// value in the pending write's chunk buffer.
type storedChunk struct {
	first int32
	value bufRange
}

// sealChunks sets r.chunks to the stored chunks of r's events, in r.chunk: each compressed, unless
// compressing does not make it smaller.
func (r *pendingWrite) sealChunks() {
	r.chunk, r.chunks = r.chunk[:0], r.chunks[:0]
	for first := 0; first < len(r.events); {
		end, size := first+1, int(r.events[first].end-r.events[first].off)
		for end < len(r.events) && size+int(r.events[end].end-r.events[end].off) <= chunkTarget {
			size += int(r.events[end].end - r.events[end].off)
			end++
		}
		r.raw = appendChunk(r.raw[:0], r, r.events[first:end])
		off := len(r.chunk)
		r.chunk = r.sealed(r.chunk, r.raw)
		r.chunks = append(r.chunks, storedChunk{first: int32(first), value: bufRange{int32(off), int32(len(r.chunk))}})
		first = end
	}
}

// sealed appends the stored form of the uncompressed chunk raw to dst.
func (r *pendingWrite) sealed(dst, raw []byte) []byte {
	body := raw[1:]
	if len(body) <= maxChunkDecoded {
		off := len(dst)
		need := off + 1 + minlz.MaxEncodedLen(len(body))
		dst = slices.Grow(dst, need-off)[:need]
		dst[off] = chunkCompressed
		// dst has room for any encoding, so the encoding is written in place.
		if enc, err := minlz.Encode(dst[off+1:], body, minlz.LevelFastest); err == nil && len(enc) < len(body) {
			return dst[:off+1+len(enc)]
		}
		dst = dst[:off]
	}
	return append(dst, raw...)
}

// appendChunk appends the uncompressed chunk of r's events evs to dst.
func appendChunk(dst []byte, r *pendingWrite, evs []bufRange) []byte {
	dst = append(dst, chunkVersion)
	dst = binary.AppendUvarint(dst, uint64(len(evs)))
	for _, ev := range evs {
		dst = binary.AppendUvarint(dst, uint64(ev.end-ev.off))
	}
	for _, ev := range evs {
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
