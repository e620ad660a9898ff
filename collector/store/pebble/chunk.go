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
//	chunkShared  uvarint(n)  uvarint(s)  s × uvarint(length)  n × (uvarint(ref) uvarint(length))
//	             s shared encodings (encEventShared)  n event bodies (codecVersion, encEventOwn)
//
// The events of one intake stream share their metadata (agent, service, host, process, observer...:
// codecgen.EventShared), about half of their encoded bytes: a chunk holds each distinct encoding of
// those fields once, and each event refers to one (ref, from 1; 0 for none). The stored event is its
// body's version byte, the shared encoding it refers to, then the rest of its body (protobuf merges two
// encodings of a message that follow each other), which is what eachInChunk hands on. So the shared fields are encoded once per batch and per distinct value, not once per event, and
// compressing a chunk reads half the bytes. Chunks of earlier versions (chunkVersion) hold whole
// bodies:
//
//	chunkVersion  uvarint(n)  n × uvarint(length)  n event bodies (appendEvent)
//
// Reading one event reads its chunk: a pending write's events are mostly read together anyway (a trace's
// events arrive in the same pending write, the exporter reads them in order).
//
// A chunk is stored compressed (chunkSharedCompressed, earlier chunkCompressed): a version byte, then
// the rest of the chunk as one MinLZ block. The events of one intake request share their shapes too,
// so the block holds a tenth of the encoded bytes or less, and compressing it in the caller's
// goroutine, before the group commit, is what keeps the journal, the flushes and the blob files small:
// Pebble would compress the chunk only when it writes a table or a blob file. A chunk that does not
// compress is stored as it is; every form is read, and so are the chunks of earlier versions, which held
// a whole pending write.
const (
	chunkVersion          = 0xc1
	chunkCompressed       = 0xc2 // chunkVersion's
	chunkShared           = 0xc3
	chunkSharedCompressed = 0xc4 // chunkShared's
)

// chunkTarget is the size at which a pending write's events start a new chunk (the events' own
// encodings and the shared encodings they refer to, each once): a read of one event decompresses at
// most about this much (a chunk of one event may be larger), and a chunk this large compresses nearly
// as well as the whole request (BenchmarkPrepare's chunk-B/event).
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
	r.chunk, r.chunks, r.used = r.chunk[:0], r.chunks[:0], r.used[:0]
	if cap(r.local) < len(r.blocks) {
		r.local = make([]int32, len(r.blocks))
	}
	r.local = r.local[:len(r.blocks)]
	clear(r.local)
	for first := 0; first < len(r.events); {
		for _, bi := range r.used {
			r.local[bi] = 0
		}
		r.used = r.used[:0]
		end, size := first, 0
		for end < len(r.events) {
			add := int(r.events[end].end - r.events[end].off)
			bi := r.shared[end]
			fresh := bi >= 0 && r.local[bi] == 0 && r.blocks[bi].enc.end > r.blocks[bi].enc.off
			if fresh {
				add += int(r.blocks[bi].enc.end - r.blocks[bi].enc.off)
			}
			if end > first && size+add > chunkTarget {
				break
			}
			if fresh {
				r.used = append(r.used, bi)
				r.local[bi] = int32(len(r.used))
			}
			size += add
			end++
		}
		r.raw = r.appendChunk(r.raw[:0], first, end)
		off := len(r.chunk)
		r.chunk = sealed(r.chunk, r.raw)
		r.chunks = append(r.chunks, storedChunk{first: int32(first), value: bufRange{int32(off), int32(len(r.chunk))}})
		first = end
	}
}

// sealed appends the stored form of the uncompressed chunk raw to dst.
func sealed(dst, raw []byte) []byte {
	body := raw[1:]
	if len(body) <= maxChunkDecoded {
		off := len(dst)
		need := off + 1 + minlz.MaxEncodedLen(len(body))
		dst = slices.Grow(dst, need-off)[:need]
		dst[off] = raw[0] + 1 // the compressed form's version (chunkCompressed, chunkSharedCompressed)
		// dst has room for any encoding, so the encoding is written in place.
		if enc, err := minlz.Encode(dst[off+1:], body, minlz.LevelFastest); err == nil && len(enc) < len(body) {
			return dst[:off+1+len(enc)]
		}
		dst = dst[:off]
	}
	return append(dst, raw...)
}

// appendChunk appends the uncompressed chunk of r's events [first, end) to dst, whose shared encodings
// are r.used (sealChunks).
func (r *pendingWrite) appendChunk(dst []byte, first, end int) []byte {
	dst = append(dst, chunkShared)
	dst = binary.AppendUvarint(dst, uint64(end-first))
	dst = binary.AppendUvarint(dst, uint64(len(r.used)))
	for _, bi := range r.used {
		dst = binary.AppendUvarint(dst, uint64(r.blocks[bi].enc.end-r.blocks[bi].enc.off))
	}
	for i := first; i < end; i++ {
		ref := int32(0)
		if bi := r.shared[i]; bi >= 0 {
			ref = r.local[bi]
		}
		dst = binary.AppendUvarint(dst, uint64(ref))
		dst = binary.AppendUvarint(dst, uint64(r.events[i].end-r.events[i].off))
	}
	for _, bi := range r.used {
		dst = append(dst, r.bytes(r.blocks[bi].enc)...)
	}
	for _, ev := range r.events[first:end] {
		dst = append(dst, r.bytes(ev)...)
	}
	return dst
}

var errChunk = errors.New("malformed chunk")

// openChunk returns the uncompressed form of the chunk v: v itself, or v's block decoded into a new
// slice.
func openChunk(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != chunkCompressed && v[0] != chunkSharedCompressed {
		return v, nil
	}
	n, err := minlz.DecodedLen(v[1:])
	if err != nil || n > maxChunkDecoded {
		return nil, fmt.Errorf("store: event chunk: %w (compressed block: %d bytes, %v)", errChunk, n, err)
	}
	out := make([]byte, 1+n)
	out[0] = v[0] - 1
	if _, err := minlz.Decode(out[1:], v[1:]); err != nil {
		return nil, fmt.Errorf("store: event chunk: %w (compressed block: %v)", errChunk, err)
	}
	return out, nil
}

// eachInChunk calls fn for the events of the chunk v, whose first event has sequence number first, with
// sequence numbers in [from, to], in order, with the event's body (which fn must not retain). It returns
// the number of events in the chunk, and stops at fn's first error, which it returns.
func eachInChunk(v []byte, first, from, to uint64, fn func(seq uint64, body []byte) error) (int, error) {
	v, err := openChunk(v)
	if err != nil {
		return 0, err
	}
	if len(v) == 0 || v[0] != chunkVersion && v[0] != chunkShared {
		return 0, fmt.Errorf("store: event chunk: %w (version byte %#x)", errChunk, firstByte(v))
	}
	hdr := v[1:]
	n, ok := chunkCount(&hdr)
	if !ok {
		return 0, fmt.Errorf("store: event chunk: %w (count)", errChunk)
	}
	var s int
	var shared [][]byte // the shared encodings, by ref - 1
	if v[0] == chunkShared {
		if s, ok = chunkCount(&hdr); !ok {
			return 0, fmt.Errorf("store: event chunk: %w (shared count)", errChunk)
		}
		shared = make([][]byte, s)
	}
	// The bodies start after the lengths: walk them once to find where, and where each shared
	// encoding is.
	size := uint64(0)
	for i := range s {
		l, k := binary.Uvarint(hdr)
		if k <= 0 || l > uint64(len(v)) {
			return 0, fmt.Errorf("store: event chunk: %w (shared lengths)", errChunk)
		}
		hdr, size = hdr[k:], size+l
		shared[i] = v[:l] // the length, until the encodings' start is known
	}
	lens := hdr
	for range n {
		if shared != nil {
			ref, k := binary.Uvarint(hdr)
			if k <= 0 || ref > uint64(s) {
				return 0, fmt.Errorf("store: event chunk: %w (shared reference)", errChunk)
			}
			hdr = hdr[k:]
		}
		_, k := binary.Uvarint(hdr)
		if k <= 0 {
			return 0, fmt.Errorf("store: event chunk: %w (lengths)", errChunk)
		}
		hdr = hdr[k:]
	}
	if size > uint64(len(hdr)) {
		return 0, fmt.Errorf("store: event chunk: %w (shared encodings)", errChunk)
	}
	for i := range shared {
		shared[i], hdr = hdr[:len(shared[i])], hdr[len(shared[i]):]
	}
	bodies := hdr
	off, seq := 0, first
	var buf []byte // an event's body with the shared encoding it refers to
	for i := 0; i < n && seq <= to; i, seq = i+1, seq+1 {
		ref := uint64(0)
		if shared != nil {
			var k int
			ref, k = binary.Uvarint(lens)
			lens = lens[k:]
		}
		l, k := binary.Uvarint(lens)
		lens = lens[k:]
		if l > uint64(len(bodies)-off) || ref > 0 && l == 0 {
			return 0, fmt.Errorf("store: event chunk: %w (body %d of %d)", errChunk, i, n)
		}
		if seq >= from {
			body := bodies[off : off+int(l)]
			if ref > 0 {
				buf = append(append(append(buf[:0], body[0]), shared[ref-1]...), body[1:]...)
				body = buf
			}
			if err := fn(seq, body); err != nil {
				return 0, err
			}
		}
		off += int(l)
	}
	return n, nil
}

// chunkCount reads a count from a chunk's header hdr and moves past it. Each item counted takes at
// least a byte of what follows: a larger count is malformed.
func chunkCount(hdr *[]byte) (int, bool) {
	n, k := binary.Uvarint(*hdr)
	if k <= 0 || n > uint64(len(*hdr)-k) {
		return 0, false
	}
	*hdr = (*hdr)[k:]
	return int(n), true
}

func firstByte(v []byte) int {
	if len(v) == 0 {
		return -1
	}
	return int(v[0])
}
