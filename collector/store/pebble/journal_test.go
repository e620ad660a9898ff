package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/hotpath-apm/hotpath/collector"
)

// journalConfig configures a store on fs whose memtables are small, so that some commits reach the tables
// and the last ones are only in the memtable and the journal.
func journalConfig(fs vfs.FS, clk *clock) Config {
	return Config{Dir: "/store", fs: fs, Now: clk.Now, MinFreeDisk: -1, DiskReserve: -1, MemTableBytes: 256 << 10}
}

// writeMix writes the same 40 mixed batches (traces, breakdowns, Elasticsearch calls, late events, an
// hour's change of partition, cursor commits) to each store.
func writeMix(t *testing.T, clk *clock, stores ...*Store) {
	t.Helper()
	g := newGen(21, t0)
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range stores {
		if _, err := s.RegisterCursor("elasticsearch"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		if i == 25 {
			clk.Add(time.Hour)
		}
		b := cacheMix(g, r, clk.Now())
		for _, s := range stores {
			mustProcess(t, s, b)
			if i%7 == 6 {
				if err := s.CommitCursor("elasticsearch", s.LastSeq()/2); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// checkSameStore fails unless got answers as want does: every event, every aggregate value byte for
// byte, the partitions, the cursor, a trace.
func checkSameStore(t *testing.T, got, want *Store) {
	t.Helper()
	if g, w := got.LastSeq(), want.LastSeq(); g != w {
		t.Fatalf("LastSeq %d, want %d", g, w)
	}
	gr, wr := readPaged(t, got, 500), readPaged(t, want, 500)
	if len(gr) != len(wr) {
		t.Fatalf("%d events, want %d", len(gr), len(wr))
	}
	for i := range wr {
		if !reflect.DeepEqual(gr[i], wr[i]) {
			t.Fatalf("event %d: %s, want %s", i, describe(gr[i]), describe(wr[i]))
		}
	}
	ga, wa := aggValues(t, got), aggValues(t, want)
	if len(ga) != len(wa) {
		t.Fatalf("%d aggregate keys, want %d", len(ga), len(wa))
	}
	for k, v := range wa {
		if !bytes.Equal(ga[k], v) {
			t.Fatalf("aggregate %q differs", k)
		}
	}
	if g, w := got.parts.snapshot(), want.parts.snapshot(); !reflect.DeepEqual(g, w) {
		t.Fatalf("partitions %+v, want %+v", g, w)
	}
	gc, _ := got.Cursor("elasticsearch")
	wc, _ := want.Cursor("elasticsearch")
	if gc != wc {
		t.Fatalf("cursor at %d, want %d", gc, wc)
	}
	trace := wr[len(wr)-1].Event.TraceID
	gt, err := got.GetTrace(context.Background(), trace, 1000)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := want.GetTrace(context.Background(), trace, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(gt) != len(wt) || len(wt) == 0 {
		t.Fatalf("trace %s: %d events, want %d", trace, len(gt), len(wt))
	}
}

// After a crash the store holds exactly what a store that never crashed holds: the journal's records
// that the tables lacked are replayed, their index entries, aggregates and partition meta derived
// again from the events. The crash keeps only what was synced (a power cut).
func TestJournalReplayRebuildsWhatACrashLost(t *testing.T) {
	mem := vfs.NewCrashableMem()
	clk := newClock(t0)
	cfg := journalConfig(mem, clk)
	s := openTest(t, cfg)
	ref := openTest(t, Config{Now: clk.Now, MemTableBytes: 256 << 10})
	writeMix(t, clk, s, ref)

	cfg.fs = mem.CrashClone(vfs.CrashCloneCfg{}) // s goes on, on mem; the clone is the disk after the crash
	after := openTest(t, cfg)
	if n := counterValue(t, after.metrics.replayed); n == 0 {
		t.Fatal("nothing replayed: every commit had reached the tables, the test proves nothing")
	}
	checkSameStore(t, after, ref)

	// Writes go on after it, in both, and it replays nothing more after a clean close.
	b := newGen(22, clk.Now()).batch(30, 2)
	mustProcess(t, after, b)
	mustProcess(t, ref, b)
	checkSameStore(t, after, ref)
	if err := after.Close(); err != nil {
		t.Fatal(err)
	}
	again := openTest(t, cfg)
	if n := counterValue(t, again.metrics.replayed); n != 0 {
		t.Fatalf("%v records replayed after a clean close", n)
	}
	checkSameStore(t, again, ref)
}

// A record cut short by the crash (its write had begun, its fsync not returned: it was never
// acknowledged) ends the replay of its segment; everything before it is kept.
func TestJournalTornRecordEndsReplay(t *testing.T) {
	mem := vfs.NewCrashableMem()
	clk := newClock(t0)
	cfg := journalConfig(mem, clk)
	s := openTest(t, cfg)
	ref := openTest(t, Config{Now: clk.Now})
	writeMix(t, clk, s, ref)
	crashed := mem.CrashClone(vfs.CrashCloneCfg{})

	// Half of a group's record at the end of the segment being written.
	var pw pendingWrite
	pw.prepare(newGen(23, t0).batch(40, 2))
	rec := appendGroupRecord(nil, partitionOf(t0), s.LastSeq()+1, []*pendingWrite{&pw})
	appendToJournal(t, crashed, rec[:len(rec)/2])

	cfg.fs = crashed
	after := openTest(t, cfg)
	checkSameStore(t, after, ref)
	mustProcess(t, after, collector.Batch{{Kind: collector.KindLog, Message: "after"}})
	if after.LastSeq() != ref.LastSeq()+1 {
		t.Fatalf("LastSeq %d after the torn record, want %d", after.LastSeq(), ref.LastSeq()+1)
	}
}

// The journal does not grow past a few memtables: once it holds Config.MemTableBytes, a checkpoint
// flushes the memtables and deletes the older segments; Close leaves none.
func TestJournalCheckpoints(t *testing.T) {
	mem := vfs.NewCrashableMem()
	clk := newClock(t0)
	cfg := journalConfig(mem, clk)
	cfg.MemTableBytes = 64 << 10
	s := openTest(t, cfg)
	g := newGen(24, t0)
	var written int64
	for written < 20*int64(cfg.MemTableBytes) {
		before := s.journal.size()
		mustProcess(t, s, g.batch(200, 3))
		if grown := s.journal.size() - before; grown > 0 {
			written += grown
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for counterValue(t, s.metrics.checkpoints) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%v checkpoints after %d bytes of journal", counterValue(t, s.metrics.checkpoints), written)
		}
		time.Sleep(10 * time.Millisecond) // waiting for the checkpoint loop, not synchronising with it
	}
	if err := s.checkpoint(0); err != nil {
		t.Fatal(err)
	}
	if n := s.journal.size(); n != 0 {
		t.Fatalf("journal holds %d bytes after a checkpoint", n)
	}
	// Again, with nothing written since: the current segment is empty, and stays the one written to.
	if err := s.checkpoint(0); err != nil {
		t.Fatal(err)
	}
	mustProcess(t, s, g.batch(10, 1))
	names, err := mem.List("/store/journal")
	if err != nil || len(names) != 1 || s.journal.size() == 0 {
		t.Fatalf("segments after two checkpoints and a write: %v (%v), %d bytes", names, err, s.journal.size())
	}
	last := s.LastSeq()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if names, err := mem.List("/store/journal"); err != nil || len(names) != 0 {
		t.Fatalf("segments after Close: %v (%v)", names, err)
	}
	again := openTest(t, cfg)
	if again.LastSeq() != last {
		t.Fatalf("LastSeq %d after reopening, want %d", again.LastSeq(), last)
	}
}

// The records' framing and a group's payload: what is written is read back, and a record damaged
// anywhere is refused rather than misread.
func TestJournalRecords(t *testing.T) {
	var a, b pendingWrite
	a.prepare(newGen(25, t0).batch(300, 3))
	b.prepare(collector.Batch{{Kind: collector.KindLog, Message: "one"}})
	rec := appendGroupRecord(nil, 12345, 77, []*pendingWrite{&a, &b})
	kind, payload, n, err := nextRecord(rec)
	if err != nil || kind != recGroup || n != len(rec) {
		t.Fatalf("kind %d, %d of %d bytes: %v", kind, n, len(rec), err)
	}
	g, err := decodeGroupRecord(payload)
	if err != nil {
		t.Fatal(err)
	}
	if g.part != 12345 || g.firstSeq != 77 || len(g.chunks) != 2 || len(g.chunks[0]) != len(a.chunks) || len(g.chunks[1]) != 1 {
		t.Fatalf("decoded %d, %d, %d writes", g.part, g.firstSeq, len(g.chunks))
	}
	for i, c := range a.chunks {
		if !bytes.Equal(g.chunks[0][i], a.chunk[c.value.off:c.value.end]) {
			t.Fatalf("chunk %d differs", i)
		}
	}
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 0x10
		if _, _, _, err := nextRecord(bad); err == nil {
			t.Fatalf("a record with byte %d changed was read", i)
		}
	}
	for _, cut := range []int{0, 1, recHeader - 1, recHeader, len(rec) - 1} {
		if _, _, _, err := nextRecord(rec[:cut]); err == nil {
			t.Fatalf("a record cut at %d of %d bytes was read", cut, len(rec))
		}
	}
}

// FuzzJournalRecord: any bytes are a record and a group payload, or an error; never a panic, and a
// payload that decodes encodes back to what decodes the same.
func FuzzJournalRecord(f *testing.F) {
	var a pendingWrite
	a.prepare(newGen(26, t0).batch(20, 2))
	f.Add(appendGroupRecord(nil, 7, 1, []*pendingWrite{&a}))
	f.Add([]byte{})
	f.Add(make([]byte, recHeader))
	f.Fuzz(func(t *testing.T, data []byte) {
		for b := data; len(b) > 0; {
			_, _, n, err := nextRecord(b)
			if err != nil {
				break
			}
			b = b[n:]
		}
		g, err := decodeGroupRecord(data)
		if err != nil {
			return
		}
		reqs := make([]*pendingWrite, len(g.chunks))
		for i, chunks := range g.chunks {
			r := &pendingWrite{}
			for _, c := range chunks {
				off := int32(len(r.chunk))
				r.chunk = append(r.chunk, c...)
				r.chunks = append(r.chunks, storedChunk{value: bufRange{off, int32(len(r.chunk))}})
			}
			reqs[i] = r
		}
		rec := appendGroupRecord(nil, g.part, g.firstSeq, reqs)
		_, payload, _, err := nextRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeGroupRecord(payload)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalizeGroup(again), normalizeGroup(g)) {
			t.Fatalf("decoded %+v, encoded and decoded again %+v", g, again)
		}
	})
}

// normalizeGroup makes empty chunks comparable (nil and empty slices alike).
func normalizeGroup(g groupRecord) groupRecord {
	for i := range g.chunks {
		for j := range g.chunks[i] {
			if len(g.chunks[i][j]) == 0 {
				g.chunks[i][j] = nil
			}
		}
	}
	return g
}

// appendToJournal writes b at the end of the journal's last segment in fs, as a write the crash
// interrupted (or a later version) would have left it, and returns the segment's name and new size.
func appendToJournal(t *testing.T, fs vfs.FS, b []byte) (name string, size int64) {
	t.Helper()
	names, err := fs.List("/store/journal")
	if err != nil || len(names) == 0 {
		t.Fatalf("journal segments %v: %v", names, err)
	}
	name = fs.PathJoin("/store/journal", names[len(names)-1])
	f, err := fs.OpenReadWrite(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, st.Size()); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return name, st.Size() + int64(len(b))
}

// A record the replay cannot apply (a kind this version does not know) stops Open with an error that
// names it, and leaves the journal as it was: nothing acknowledged is dropped to get the store open.
func TestJournalUnknownRecordRefusesOpen(t *testing.T) {
	mem := vfs.NewCrashableMem()
	clk := newClock(t0)
	cfg := journalConfig(mem, clk)
	s := openTest(t, cfg)
	mustProcess(t, s, newGen(27, t0).batch(20, 2))
	crashed := mem.CrashClone(vfs.CrashCloneCfg{})
	rec := beginRecord(nil)
	rec = append(rec, "from a later version"...)
	endRecord(rec, 0, 99)
	name, size := appendToJournal(t, crashed, rec)

	cfg.fs = crashed
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "unknown kind 99") {
		t.Fatalf("Open over a record of an unknown kind: %v", err)
	}
	if st, err := crashed.Stat(name); err != nil || st.Size() != size {
		t.Fatalf("the segment after the refused Open: %v, %v; want %d bytes", st, err, size)
	}
}

// A record's length above maxRecord is refused before anything is read for it.
func TestJournalRecordLengthBound(t *testing.T) {
	h := make([]byte, recHeader)
	binary.LittleEndian.PutUint32(h[4:], maxRecord+1)
	if _, _, _, err := nextRecord(h); err == nil || !errors.Is(err, errTornRecord) {
		t.Fatalf("a length of maxRecord+1: %v", err)
	}
}
