package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
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

// chunkV1 is the uncompressed chunk of whole event bodies that earlier versions wrote (chunkVersion).
func chunkV1(bodies [][]byte) []byte {
	dst := []byte{chunkVersion}
	dst = binary.AppendUvarint(dst, uint64(len(bodies)))
	for _, b := range bodies {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
	}
	for _, b := range bodies {
		dst = append(dst, b...)
	}
	return dst
}

// encoded returns the whole stored form of each event of b (appendEvent).
func encoded(b collector.Batch) [][]byte {
	var out [][]byte
	for i := range b {
		out = append(out, appendEvent(nil, &b[i]))
	}
	return out
}

// FuzzChunk: no chunk, however malformed, makes the reader panic, loop or report bodies outside it.
func FuzzChunk(f *testing.F) {
	g := newGen(22, t0)
	var r pendingWrite
	batch := g.batch(5, 1)
	r.prepare(batch)
	f.Add(bytes.Clone(r.raw), uint64(1), uint64(3)) // the uncompressed chunk
	f.Add(r.chunk, uint64(1), uint64(3))            // compressed
	f.Add(chunkV1(encoded(batch)), uint64(1), uint64(3))
	f.Add([]byte{chunkVersion, 0x80}, uint64(0), uint64(10))
	f.Add([]byte{chunkVersion, 2, 1, 200, 1, 'x'}, uint64(0), uint64(10))
	f.Add([]byte{chunkShared, 2, 1, 3, 1, 2, 0, 1, 'a', 'b', 'c', 1, 'x', 'y'}, uint64(0), uint64(10))
	f.Add([]byte{chunkShared, 1, 1, 3, 2, 0, 'a', 'b', 'c'}, uint64(0), uint64(10))
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
// the uncompressed chunk of their whole encodings does (a chunk of earlier versions, which still reads,
// compressed or not); a chunk that does not compress is stored as it is.
func TestChunkCompressed(t *testing.T) {
	var r pendingWrite
	batch := newGen(23, t0).batch(500, 5)
	r.prepare(batch)
	raw := chunkV1(encoded(batch))
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
		if v[0] != chunkSharedCompressed {
			t.Fatalf("chunk %d stored as version %#x", i, v[0])
		}
		if want := int32(len(all)); c.first != want {
			t.Fatalf("chunk %d starts at event %d, want %d", i, c.first, want)
		}
		bodies := read(v, 10+uint64(c.first))
		open, err := openChunk(v)
		if err != nil {
			t.Fatal(err)
		}
		// The target counts the encodings, not the header's lengths (a few bytes an event).
		if size := len(open) - 4*len(bodies); size > chunkTarget || (i < len(r.chunks)-1 && size < chunkTarget*3/4) {
			t.Fatalf("chunk %d holds %d bytes of events (target %d)", i, size, chunkTarget)
		}
		all = append(all, bodies...)
	}
	if len(r.chunks) < 2 {
		t.Fatalf("%d chunks", len(r.chunks))
	}
	if !reflect.DeepEqual(all, read(raw, 10)) {
		t.Fatal("the chunks read differently from the uncompressed chunk of all the events' encodings")
	}
	if !reflect.DeepEqual(all, read(sealed(nil, raw), 10)) || sealed(nil, raw)[0] != chunkCompressed {
		t.Fatal("the chunks read differently from the compressed chunk of all the events' encodings")
	}
	if len(r.chunk) > len(raw)/8 {
		t.Fatalf("%d bytes stored for %d encoded", len(r.chunk), len(raw))
	}

	noise := make([]byte, 4000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	e := newGen(24, t0).trace(0)[0]
	e.Message = string(noise)
	r.prepare(collector.Batch{e})
	if len(r.chunks) != 1 || r.chunk[0] != chunkShared || !bytes.Equal(r.chunk, r.raw) {
		t.Fatalf("an incompressible event is stored in %d chunks, version %#x, %d bytes", len(r.chunks), r.chunk[0], len(r.chunk))
	}
	if got := read(r.chunk, 1); len(got) != 1 || !bytes.Equal(got[0], appendEvent(nil, &e)) {
		t.Fatal("the incompressible event reads differently")
	}
	bad := append([]byte{chunkSharedCompressed}, r.chunk[1:]...) // marked compressed, but not
	if _, err := eachInChunk(bad, 1, 1, 1, func(uint64, []byte) error { return nil }); err == nil {
		t.Fatal("a chunk marked compressed that is not was read without an error")
	}
}

// Events that share their metadata in memory, as those intake decodes from one stream do, are stored
// with one encoding of it per distinct value of the shared fields, and read back whole.
func TestChunkShared(t *testing.T) {
	batch := newGen(25, t0).batch(300, 5)
	shareMetadata(batch)
	services := map[collector.Service]bool{} // what differs between the events' shared fields
	for i := range batch {
		batch[i].Service.Name = batch[0].Service.Name // one stream's
		if i%3 == 0 {
			// The same value in other memory: compared by value for a service target.
			batch[i].Service.Target = collector.ServiceTarget{Type: strings.Clone("db"), Name: fmt.Sprint("shard-", i%4)}
		}
		services[batch[i].Service] = true
	}
	var r pendingWrite
	r.prepare(batch)
	if len(r.blocks) != len(services) || len(services) < 6 {
		t.Fatalf("%d shared encodings for %d distinct services", len(r.blocks), len(services))
	}
	want := encoded(batch)
	var got [][]byte
	for _, c := range r.chunks {
		if _, err := eachInChunk(r.chunk[c.value.off:c.value.end], 1, 1, 1<<40, func(_ uint64, body []byte) error {
			got = append(got, bytes.Clone(body))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the events read differ from their encodings")
	}
	for i := range batch {
		var e collector.Event
		if err := decodeEvent(got[i], &e); err != nil || !reflect.DeepEqual(e, batch[i]) {
			t.Fatalf("event %d: %v\n%+v\nwant %+v", i, err, e, batch[i])
		}
	}
	if enc := len(r.chunk) / len(batch); enc > 60 {
		t.Fatalf("%d bytes stored per event", enc)
	}
}

// eqEventShared compares strings and slices by where their bytes are, but for the fields compared by
// value; what it finds equal encodes the same.
func TestEqEventShared(t *testing.T) {
	e := newGen(26, t0).trace(1)[1]
	same := e
	same.Span, same.Labels = nil, nil // not shared fields
	moved := e
	moved.Host.Hostname = strings.Clone(e.Host.Hostname)
	target := e
	target.Service.Target.Type = strings.Clone(e.Service.Target.Type)
	other := e
	other.Service.Target.Name = "other"
	argv := e
	argv.Process.Argv = slices.Clone(e.Process.Argv)
	for name, c := range map[string]struct {
		b    collector.Event
		want bool
	}{
		"copy":                    {same, true},
		"a string moved":          {moved, false},
		"a target moved":          {target, true},
		"another target":          {other, false},
		"a slice in other memory": {argv, false},
	} {
		if got := eqEventShared(&e, &c.b); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
		if eqEventShared(&e, &c.b) && !bytes.Equal(encEventShared(nil, &e), encEventShared(nil, &c.b)) {
			t.Errorf("%s: equal, but encoded differently", name)
		}
	}
}
