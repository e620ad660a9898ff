package pebble

import (
	"bytes"
	"context"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

// Reads that start, end and skip inside chunks: every event once, in order, none invented.
func TestReadsAcrossChunks(t *testing.T) {
	s := openTest(t, Config{})
	g := newGen(21, t0)
	for _, n := range []int{1, 7, 250, 3, 60} { // one chunk per batch
		mustProcess(t, s, g.batch(n, 2))
	}
	last := s.LastSeq()
	all, err := s.ReadFrom(context.Background(), 1, int(last)+10)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(all)) != last {
		t.Fatalf("read %d events, LastSeq %d", len(all), last)
	}
	for i, r := range all {
		if r.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, r.Seq)
		}
	}
	// Pages of every size from every start read the same events.
	for _, limit := range []int{1, 2, 5, 64} {
		for from := uint64(1); from <= last; from += 37 {
			next, n := from, 0
			for next <= last {
				page, err := s.ReadFrom(context.Background(), next, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 || len(page) > limit || page[0].Seq != next {
					t.Fatalf("ReadFrom(%d, %d): %d events starting at %v", next, limit, len(page), page)
				}
				for _, r := range page {
					if !reflect.DeepEqual(r.Event, all[r.Seq-1].Event) {
						t.Fatalf("seq %d: %s, want %s", r.Seq, describe(r), describe(all[r.Seq-1]))
					}
				}
				n += len(page)
				next = page[len(page)-1].Seq + 1
			}
			if uint64(n) != last-from+1 {
				t.Fatalf("pages from %d by %d read %d events, want %d", from, limit, n, last-from+1)
			}
		}
	}
	// GetMany: unsorted, repeated, past the end, zero.
	got, err := s.GetMany(context.Background(), []uint64{last, 0, 9, 8, 8, last + 1, 1, 300})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{1, 8, 9, 300, last}
	if len(got) != len(want) {
		t.Fatalf("GetMany: %d events, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Seq != want[i] || !reflect.DeepEqual(r.Event, all[r.Seq-1].Event) {
			t.Fatalf("GetMany[%d]: %s", i, describe(r))
		}
	}
	if _, ok, err := s.Get(last + 1); ok || err != nil {
		t.Fatalf("Get past the end: %v %v", ok, err)
	}
	if r, ok, err := s.Get(11); !ok || err != nil || !reflect.DeepEqual(r.Event, all[10].Event) {
		t.Fatalf("Get(11): %v %v %s", ok, err, describe(r))
	}
}

// FuzzChunk: no chunk, however malformed, makes the reader panic, loop or report bodies outside it.
func FuzzChunk(f *testing.F) {
	g := newGen(22, t0)
	var r pendingWrite
	r.prepare(g.batch(5, 1))
	f.Add(appendChunk(nil, &r, r.events), uint64(1), uint64(3))
	f.Add(r.chunk, uint64(1), uint64(3)) // one compressed chunk
	f.Add([]byte{chunkVersion, 0x80}, uint64(0), uint64(10))
	f.Add([]byte{chunkVersion, 2, 1, 200, 1, 'x'}, uint64(0), uint64(10))
	f.Fuzz(func(t *testing.T, v []byte, from, to uint64) {
		n := 0
		_, _ = eachInChunk(v, 1, from, to, func(seq uint64, body []byte) error {
			n++
			if seq < from || seq > to || len(body) > max(len(v), maxChunkDecoded) {
				t.Fatalf("seq %d outside [%d, %d] or body of %d bytes in %d", seq, from, to, len(body), len(v))
			}
			return nil
		})
		if n > len(v) {
			t.Fatalf("%d events from %d bytes", n, len(v))
		}
	})
}

// A pending write's events are stored in compressed chunks of about chunkTarget bytes, which read as
// the uncompressed chunk of them all does (a chunk of earlier versions); a chunk that does not compress
// is stored as it is.
func TestChunkCompressed(t *testing.T) {
	var r pendingWrite
	r.prepare(newGen(23, t0).batch(500, 5))
	raw := appendChunk(nil, &r, r.events)
	read := func(v []byte, first uint64) (bodies [][]byte) {
		t.Helper()
		if _, err := eachInChunk(v, first, first, 1<<40, func(_ uint64, body []byte) error {
			bodies = append(bodies, bytes.Clone(body))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return bodies
	}
	var all [][]byte
	for i, c := range r.chunks {
		v := r.chunk[c.value.off:c.value.end]
		if v[0] != chunkCompressed {
			t.Fatalf("chunk %d stored as version %#x", i, v[0])
		}
		if want := int32(len(all)); c.first != want {
			t.Fatalf("chunk %d starts at event %d, want %d", i, c.first, want)
		}
		bodies := read(v, 10+uint64(c.first))
		size := 0
		for _, b := range bodies {
			size += len(b)
		}
		if size > chunkTarget || (i < len(r.chunks)-1 && size < chunkTarget*3/4) {
			t.Fatalf("chunk %d holds %d bytes of events (target %d)", i, size, chunkTarget)
		}
		all = append(all, bodies...)
	}
	if !reflect.DeepEqual(all, read(raw, 10)) {
		t.Fatal("the compressed chunks read differently from the uncompressed chunk of all the events")
	}
	if len(r.chunk) > len(raw)/4 {
		t.Fatalf("%d bytes stored for %d uncompressed", len(r.chunk), len(raw))
	}

	noise := make([]byte, 4000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	e := newGen(24, t0).trace(0)[0]
	e.Message = string(noise)
	r.prepare(collector.Batch{e})
	if len(r.chunks) != 1 || r.chunk[0] != chunkVersion || !bytes.Equal(r.chunk, appendChunk(nil, &r, r.events)) {
		t.Fatalf("an incompressible event is stored in %d chunks, version %#x, %d bytes", len(r.chunks), r.chunk[0], len(r.chunk))
	}
	bad := append([]byte{chunkCompressed}, r.chunk[1:]...) // marked compressed, but not
	if _, err := eachInChunk(bad, 1, 1, 1, func(uint64, []byte) error { return nil }); err == nil {
		t.Fatal("a chunk marked compressed that is not was read without an error")
	}
}
