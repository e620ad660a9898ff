package pebble

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	dto "github.com/prometheus/client_model/go"

	"github.com/hotpath-apm/hotpath/collector"
)

// diskFull is an errorfs injector: while on, the writes and syncs of the database's log (and of the
// health loop's test file) fail with ENOSPC, as on a full disk. Reads, creating files (an inode, not
// data), removals and the tables' writes go on.
type diskFull struct{ on atomic.Bool }

func (d *diskFull) String() string { return "disk full" }

func (d *diskFull) MaybeError(op errorfs.Op) error {
	if !d.on.Load() {
		return nil
	}
	base := op.Path[strings.LastIndexByte(op.Path, os.PathSeparator)+1:]
	if !strings.HasSuffix(base, ".log") && base != "hotpath-probe" {
		return nil
	}
	switch op.Kind {
	case errorfs.OpFileWrite, errorfs.OpFileWriteAt,
		errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		return &os.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC}
	}
	return nil
}

// waitHealth waits until the store's writable state is want.
func waitHealth(t *testing.T, s *Store, want bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		ch := s.healthChanged()
		if (s.writableErr() == nil) == want {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the store did not become writable=%v: %v", want, s.writableErr())
		}
	}
}

func counterValue(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// A failed WAL fsync fails the batches behind it (503's error, not an acknowledgement) and the store
// reopens its database by itself once the disk takes writes again; reads go on meanwhile.
func TestFailedSyncRecovers(t *testing.T) {
	fs := newGateFS()
	s := openTest(t, Config{fs: fs, MinFreeDisk: -1, StallTimeout: -1})
	g := newGen(11, t0)
	mustProcess(t, s, g.batch(20, 2))
	acked := s.LastSeq()
	fs.block()
	first := processAsync(s, g.batch(20, 2))
	<-fs.waiting
	second := processAsync(s, g.batch(20, 2))
	waitHeld(t, s, 2)
	fs.fail(errors.New("injected: disk gone"))
	fs.release()
	for i, ch := range []<-chan error{first, second} {
		if err := <-ch; !errors.Is(err, collector.ErrStorageUnavailable) {
			t.Fatalf("batch %d after a failed fsync: %v", i, err)
		}
	}
	b := g.batch(5, 0)
	err := s.ProcessBatch(context.Background(), &b)
	if !errors.Is(err, collector.ErrStorageUnavailable) || !strings.Contains(err.Error(), "injected: disk gone") {
		t.Fatalf("write after a failed fsync: %v", err)
	}
	if got := s.LastSeq(); got != acked {
		t.Fatalf("LastSeq %d after the failure, want %d", got, acked)
	}
	// Reads go on while the disk fails (the reopen cannot open the database for writing).
	if recs, err := s.ReadFrom(context.Background(), 1, 10000); err != nil || uint64(len(recs)) != acked {
		t.Fatalf("read during the failure: %d events, %v", len(recs), err)
	}
	if n := counterValue(t, s.metrics.writable); n != 0 {
		t.Fatalf("hotpath_store_writable %v during the failure", n)
	}
	fs.fail(nil)
	waitHealth(t, s, true)
	if n := counterValue(t, s.metrics.recoveries); n != 1 {
		t.Fatalf("recoveries %v", n)
	}
	if n := counterValue(t, s.metrics.writeFailures); n != 1 {
		t.Fatalf("write failures %v", n)
	}
	before := s.reopenedAt.Load() // the highest sequence number assigned, durable or not
	mustProcess(t, s, g.batch(5, 0))
	recs, err := s.ReadFrom(context.Background(), 1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(recs)) < acked+5 || recs[len(recs)-1].Seq != s.LastSeq() {
		t.Fatalf("after recovery: %d events, LastSeq %d", len(recs), s.LastSeq())
	}
	if recs[len(recs)-5].Seq <= before {
		t.Fatalf("an event after recovery took sequence number %d, assigned before (up to %d)", recs[len(recs)-5].Seq, before)
	}
}

// A full disk under concurrent writers: nothing acknowledged is lost, every refusal says the storage is
// unavailable, reads and cursor commits do not panic, the store recovers by itself once the disk has
// room, and no sequence number is used twice.
func TestDiskFullRecovers(t *testing.T) {
	inj := &diskFull{}
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir, fs: errorfs.Wrap(vfs.Default, inj), MinFreeDisk: -1, MaxCommitBytes: 64 << 10})
	if _, err := s.RegisterCursor("export"); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		refused atomic.Int64
		phase   atomic.Int32 // 0 before the fault, 1 during, 2 after
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	var okAfter atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(uint64(100+w), t0)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				b := g.batch(10, 2)
				for i := range b {
					b[i].Message = fmt.Sprintf("w%d-b%d-e%d", w, n, i)
				}
				ids := make([]string, len(b))
				for i := range b {
					ids[i] = b[i].Message
				}
				p := phase.Load()
				err := s.ProcessBatch(context.Background(), &b)
				switch {
				case err == nil:
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					mu.Unlock()
					if p == 2 {
						okAfter.Add(1)
					}
				case errors.Is(err, collector.ErrStorageUnavailable):
					refused.Add(1)
				default:
					t.Errorf("batch refused with %v", err)
					return
				}
			}
		}()
	}
	waitSeq(t, s, 200)
	ch := s.healthChanged()
	inj.on.Store(true)
	phase.Store(1)
	// The first write to meet the full disk releases the reserve (writes are refused from then on); the
	// retry meets it too, and the failed log write stops writes until the store has reopened. Each
	// change of state wakes ch; the refusals are 503s throughout (the health loop may put the reserve
	// back before the log's write has failed: writable for that moment).
	for deadline := time.After(30 * time.Second); s.writeErr.Load() == nil; {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no failed write after 30s: %v", s.writableErr())
		}
		ch = s.healthChanged()
		if err := s.writableErr(); err != nil && !errors.Is(err, collector.ErrStorageUnavailable) {
			t.Fatalf("during the fault: %v", err)
		}
	}
	if err := s.writableErr(); !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("during the fault: %v", err)
	}
	// Reads and cursor commits meet the failure without panicking.
	for range 20 {
		if _, err := s.ReadFrom(context.Background(), 1, 100); err != nil {
			t.Fatal(err)
		}
		if err := s.CommitCursor("export", 1); err != nil && !errors.Is(err, collector.ErrStorageUnavailable) {
			t.Fatal(err)
		}
	}
	inj.on.Store(false)
	phase.Store(2)
	waitHealth(t, s, true)
	assigned := s.reopenedAt.Load()
	for okAfter.Load() < 20 {
		select {
		case <-s.updated():
		case <-time.After(30 * time.Second):
			t.Fatal("no batch acknowledged after the recovery")
		}
	}
	close(stop)
	wg.Wait()
	if refused.Load() == 0 {
		t.Fatal("no batch was refused during the fault")
	}
	recs, err := s.ReadFrom(context.Background(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]uint64{}
	for _, r := range recs {
		if prev, ok := seen[r.Event.Message]; ok {
			t.Fatalf("event %s stored twice (%d, %d)", r.Event.Message, prev, r.Seq)
		}
		seen[r.Event.Message] = r.Seq
	}
	for id := range acked {
		if _, ok := seen[id]; !ok {
			t.Fatalf("acknowledged event %s lost (%d acknowledged, %d stored)", id, len(acked), len(recs))
		}
	}
	after := 0
	for _, seq := range seen {
		if seq > assigned {
			after++
		}
	}
	if after == 0 {
		t.Fatalf("no event after the recovery numbered past %d, the highest assigned before it", assigned)
	}
	if n := counterValue(t, s.metrics.recoveries); n < 1 {
		t.Fatalf("recoveries %v", n)
	}
	t.Logf("%d acknowledged, %d batches refused, %d stored, %v recoveries", len(acked), refused.Load(), len(recs), counterValue(t, s.metrics.recoveries))
}

// waitSeq waits until the store has durably committed n events.
func waitSeq(t *testing.T, s *Store, n uint64) {
	t.Helper()
	if err := s.WaitFor(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

// Close on a disk that fails returns promptly with the failure, and loses nothing acknowledged.
func TestCloseOnFailedDisk(t *testing.T) {
	inj := &diskFull{}
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, fs: errorfs.Wrap(vfs.Default, inj), MinFreeDisk: -1})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(3, t0)
	mustProcess(t, s, g.batch(30, 2))
	acked := s.LastSeq()
	inj.on.Store(true)
	b := g.batch(30, 2)
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrStorageUnavailable) {
		t.Fatalf("write on a full disk: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("Close on a full disk: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close on a full disk did not return")
	}
	inj.on.Store(false)
	s2 := openTest(t, Config{Dir: dir, MinFreeDisk: -1})
	recs, err := s2.ReadFrom(context.Background(), 1, 10000)
	if err != nil || uint64(len(recs)) < acked {
		t.Fatalf("after reopen: %d events of %d acknowledged, %v", len(recs), acked, err)
	}
}

// fakeDisk is a filesystem's free space, set by the test.
type fakeDisk struct{ avail, total atomic.Uint64 }

func (d *fakeDisk) usage(string) (vfs.DiskUsage, error) {
	return vfs.DiskUsage{AvailBytes: d.avail.Load(), TotalBytes: d.total.Load()}, nil
}

func TestFreeSpaceFloorBoundary(t *testing.T) {
	const floor = 10 << 20
	d := &fakeDisk{}
	d.total.Store(1 << 40)
	d.avail.Store(floor)
	s := openTest(t, Config{MinFreeDisk: floor, DiskReserve: -1, diskUsage: d.usage, diskCheckEvery: time.Nanosecond})
	g := newGen(5, t0)
	mustProcess(t, s, g.batch(5, 0)) // exactly the floor free: accepted
	d.avail.Store(floor - 1)
	mustRefuse(t, s, g, "disk_floor", "below the floor of 10.0 MiB") // one byte below the floor
	if n := counterValue(t, s.metrics.writable); n != 0 {
		t.Fatalf("hotpath_store_writable %v below the floor", n)
	}
	err := s.StoreProfile(context.Background(), &collector.Profile{ID: "0123456789abcdef0123456789abcdef"})
	if !errors.Is(err, collector.ErrStorageUnavailable) {
		t.Fatalf("profile below the floor: %v", err)
	}
	d.avail.Store(floor)
	mustProcess(t, s, g.batch(5, 0))
	if n := counterValue(t, s.metrics.writable); n != 1 {
		t.Fatalf("hotpath_store_writable %v back at the floor", n)
	}
	if n := counterValue(t, s.metrics.diskFree); n != floor {
		t.Fatalf("hotpath_store_disk_free_bytes %v", n)
	}
}

// The floor is measured at most every diskCheckEvery: a drop in free space is seen at the next measure.
func TestFreeSpaceFloorMeasuredEvery(t *testing.T) {
	d := &fakeDisk{}
	d.total.Store(1 << 40)
	d.avail.Store(1 << 30)
	s := openTest(t, Config{MinFreeDisk: 1 << 20, DiskReserve: -1, diskUsage: d.usage, diskCheckEvery: time.Hour})
	g := newGen(6, t0)
	d.avail.Store(0)
	mustProcess(t, s, g.batch(5, 0)) // measured at Open, not again within the hour
	s.nextDiskCheck.Store(0)         // the hour has passed
	b := g.batch(5, 0)
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrStorageUnavailable) {
		t.Fatalf("below the floor at the next measure: %v", err)
	}
}

func TestFreeSpaceFloorDefault(t *testing.T) {
	for _, tc := range []struct {
		total, want uint64
		minFree     int64
	}{
		{total: 10 << 30, want: (10 << 30) / 100},
		{total: 1 << 40, want: 256 << 20},
		{total: 64 << 20, want: (64 << 20) / 100},
		{total: 1 << 40, minFree: 5 << 20, want: 5 << 20},
		{total: 1 << 40, minFree: -1, want: 0},
	} {
		d := &fakeDisk{}
		d.total.Store(tc.total)
		d.avail.Store(tc.total)
		s := openTest(t, Config{MinFreeDisk: tc.minFree, diskUsage: d.usage})
		if uint64(s.floor) != tc.want {
			t.Errorf("filesystem of %d bytes, MinFreeDisk %d: floor %d, want %d", tc.total, tc.minFree, s.floor, tc.want)
		}
	}
}

// A WAL preallocation that fails (less free space than 1.1 memtables) is no failure: Pebble ignores it,
// and the writes that follow need only their own space. The fault suite found the store reopening its
// database for it with 8 MiB free.
func TestFailedPreallocateIsNoFailure(t *testing.T) {
	inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFilePreallocate && strings.HasSuffix(op.Path, ".log") {
			return &os.PathError{Op: "fallocate", Path: op.Path, Err: syscall.ENOSPC}
		}
		return nil
	})
	s := openTest(t, Config{fs: errorfs.Wrap(vfs.Default, inj), MinFreeDisk: -1, MemTableBytes: 1 << 20})
	g := newGen(8, t0)
	for range 50 { // several WAL rotations
		mustProcess(t, s, g.batch(50, 3))
	}
	if n := counterValue(t, s.metrics.writeFailures); n != 0 {
		t.Fatalf("%v write failures from failed preallocations", n)
	}
}

// Every read holds the database (acquire), so that Close and a reopen after a failed write never close
// it under the read: Failover did not, and read a closed database (Pebble panics) after Close.
func TestFailoverAfterClose(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), MinFreeDisk: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Failover(context.Background(), "search", t0, t0.Add(time.Hour)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Failover after Close: %v", err)
	}
}
