package pebble

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// stallTimeout is the tests' Config.StallTimeout: long enough that no fsync of a healthy disk reaches it
// on a loaded machine, short enough for a quick test.
const stallTimeout = time.Second

// A disk whose fsync hangs: once it has hung for StallTimeout, new batches and the callers waiting are
// answered ErrStorageUnavailable at once (not after the disk), reads go on; a batch still queued is
// never written, those applied behind the fsync become durable when it returns; then writes resume by
// themselves.
func TestStalledDiskRefusesAndRecovers(t *testing.T) {
	fs := newGateFS()
	// One pending write per group commit, so that the groups are known: five applied behind the stalled
	// fsync (the one syncing and maxGroupsSyncing more), the sixth queued.
	s := openTest(t, Config{fs: fs, MinFreeDisk: -1, StallTimeout: stallTimeout, MaxCommitBytes: 1, QueueBytes: 1 << 30})
	t.Cleanup(fs.release) // before Close (cleanups run last first)
	g := newGen(3, t0)
	mustProcess(t, s, g.batch(10, 2))
	acked := s.LastSeq()

	fs.block()
	start := time.Now()
	// The first batch's group is in the fsync that hangs; the writer applies maxGroupsSyncing more behind
	// it and has no free group for the last: at least that one is still queued when the stall begins.
	batches := make([]collector.Batch, maxGroupsSyncing+2)
	waiting := make([]<-chan error, len(batches))
	for i := range batches {
		batches[i] = g.batch(10, 2)
		waiting[i] = processAsync(s, batches[i])
		if i == 0 {
			<-fs.waiting
		}
	}
	waitHeld(t, s, len(waiting))

	waitHealth(t, s, false)
	err := s.writableErr()
	if !errors.Is(err, collector.ErrStorageUnavailable) || !strings.Contains(err.Error(), "has not returned") {
		t.Fatalf("stalled store's refusal: %v", err)
	}
	if d := time.Since(start); d < stallTimeout {
		t.Fatalf("stalled after %v, before the timeout of %v", d, stallTimeout)
	}
	perhaps, never := 0, 0 // events answered "stored if the disk returns", and batches answered plainly
	for i, ch := range waiting {
		err := <-ch
		if !errors.Is(err, collector.ErrStorageUnavailable) {
			t.Fatalf("waiting batch %d in a stall: %v", i, err)
		}
		if strings.Contains(err.Error(), "is stored if") {
			perhaps += len(batches[i])
		} else {
			never++
		}
	}
	if perhaps < len(batches[0]) || never == 0 {
		t.Fatalf("answers in a stall: %d events perhaps stored, %d batches never written; want the first batch "+
			"written (it is in the fsync) and the last still queued", perhaps, never)
	}
	b := g.batch(10, 2)
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrStorageUnavailable) {
		t.Fatalf("a new batch in a stall: %v", err)
	}
	if recs, err := s.ReadFrom(context.Background(), 1, 100000); err != nil || uint64(len(recs)) != acked {
		t.Fatalf("read in a stall: %d events, %v; want %d", len(recs), err, acked)
	}
	if v := counterValue(t, s.metrics.writable); v != 0 {
		t.Fatalf("hotpath_store_writable %v in a stall", v)
	}
	if v := counterValue(t, s.metrics.diskStalls); v != 1 {
		t.Fatalf("hotpath_store_disk_stalls_total %v", v)
	}

	fs.release()
	waitHealth(t, s, true)
	last := g.batch(10, 2)
	mustProcess(t, s, last)
	recs, err := s.ReadFrom(context.Background(), 1, 100000)
	if err != nil {
		t.Fatal(err)
	}
	// Stored: the batches answered "stored if it returns" (durable now), not those abandoned while queued.
	if want := int(acked) + perhaps + len(last); len(recs) != want {
		t.Fatalf("%d events read after the stall, want %d", len(recs), want)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Seq <= recs[i-1].Seq {
			t.Fatalf("sequence numbers out of order: %d after %d", recs[i].Seq, recs[i-1].Seq)
		}
	}
	if v := counterValue(t, s.metrics.writable); v != 1 {
		t.Fatalf("hotpath_store_writable %v after the stall", v)
	}
}

// A write of the journal that hangs (a frozen filesystem holds writes, not only fsyncs) stalls the store
// as an fsync does: the batch being written and those behind it are answered, new ones refused, and
// writes resume when the disk returns.
func TestHangingJournalWriteStalls(t *testing.T) {
	fs := newGateFS()
	s := openTest(t, Config{fs: fs, MinFreeDisk: -1, StallTimeout: stallTimeout})
	t.Cleanup(fs.release)
	g := newGen(4, t0)
	mustProcess(t, s, g.batch(10, 2))
	acked := s.LastSeq()

	fs.writes.Store(true)
	fs.block()
	hung := g.batch(10, 2)
	first := processAsync(s, hung)
	<-fs.waiting // the writer is in the journal's write
	waitHealth(t, s, false)
	if err := <-first; !errors.Is(err, collector.ErrStorageUnavailable) || !strings.Contains(err.Error(), "is stored if") {
		t.Fatalf("the batch in the hanging write: %v", err)
	}
	b := g.batch(10, 2)
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrStorageUnavailable) {
		t.Fatalf("a new batch while the journal's write hangs: %v", err)
	}
	fs.release()
	waitHealth(t, s, true)
	last := g.batch(10, 2)
	mustProcess(t, s, last)
	if got, want := s.LastSeq(), acked+uint64(len(hung)+len(last)); got != want {
		t.Fatalf("LastSeq %d after the disk returned, want %d (the batch written while it hung, and one more)", got, want)
	}
}

// Close on a stalled disk returns (an error that says so) instead of waiting for the disk.
func TestCloseOnStalledDisk(t *testing.T) {
	fs := newGateFS()
	t.Cleanup(fs.release)
	s, err := Open(Config{Dir: t.TempDir(), fs: fs, MinFreeDisk: -1, StallTimeout: stallTimeout})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(4, t0)
	mustProcess(t, s, g.batch(10, 2))
	fs.block()
	waiting := processAsync(s, g.batch(10, 2))
	<-fs.waiting
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	err = <-closed
	if !errors.Is(err, collector.ErrStorageUnavailable) || !strings.Contains(err.Error(), "left open") {
		t.Fatalf("Close on a stalled disk: %v", err)
	}
	if err := <-waiting; !errors.Is(err, collector.ErrStorageUnavailable) {
		t.Fatalf("the batch in the stalled fsync: %v", err)
	}
	// The database is closed once the disk returns.
	fs.release()
	<-s.dbClosed
}

// A stall shorter than StallTimeout is only a slow fsync: nothing is refused.
func TestSlowSyncIsNoStall(t *testing.T) {
	fs := newGateFS()
	s := openTest(t, Config{fs: fs, MinFreeDisk: -1, StallTimeout: time.Hour})
	t.Cleanup(fs.release)
	g := newGen(5, t0)
	fs.block()
	waiting := processAsync(s, g.batch(10, 2))
	<-fs.waiting
	if err := s.writableErr(); err != nil {
		t.Fatalf("refusing during a slow fsync: %v", err)
	}
	fs.release()
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
	if v := counterValue(t, s.metrics.diskStalls); v != 0 {
		t.Fatalf("hotpath_store_disk_stalls_total %v", v)
	}
}
