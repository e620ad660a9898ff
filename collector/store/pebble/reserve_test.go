package pebble

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/hotpath-apm/hotpath/collector"
)

// fullUntilReserve is an errorfs injector for a disk that is full until the store gives back its
// reserve: while armed, the writes and syncs of the files it names fail with ENOSPC, and removing the
// reserve's file disarms it (the space the reserve held is what the write needed).
type fullUntilReserve struct {
	files    func(base string) bool
	armed    atomic.Bool
	injected atomic.Int64
}

func (d *fullUntilReserve) String() string { return "full until the reserve is released" }

func (d *fullUntilReserve) MaybeError(op errorfs.Op) error {
	base := filepath.Base(op.Path)
	if op.Kind == errorfs.OpRemove && base == reserveName {
		d.armed.Store(false)
		return nil
	}
	if !d.armed.Load() || !d.files(base) {
		return nil
	}
	switch op.Kind {
	case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		d.injected.Add(1)
		return &os.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC}
	}
	return nil
}

// openReserved opens a store on inj with a 1 MiB reserve and a disk whose free space the test sets.
func openReserved(t *testing.T, inj errorfs.Injector) (*Store, *fakeDisk) {
	t.Helper()
	d := &fakeDisk{}
	d.total.Store(1 << 40)
	d.avail.Store(1 << 30)
	s := openTest(t, Config{fs: errorfs.Wrap(vfs.Default, inj), MinFreeDisk: -1, DiskReserve: 1 << 20, diskUsage: d.usage})
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, reserveName)); err != nil {
		t.Fatalf("no reserve after Open: %v", err)
	}
	return s, d
}

// Pebble does not survive a failed write of its MANIFEST (it stops the process: this test would not
// finish). On a full disk, the MANIFEST write of a flush gets the reserve's space and succeeds; the
// store then refuses batches until the reserve is back, and resumes by itself once there is room.
func TestFullDiskManifestWriteUsesReserve(t *testing.T) {
	inj := &fullUntilReserve{files: func(base string) bool { return strings.HasPrefix(base, "MANIFEST") }}
	s, d := openReserved(t, inj)
	g := newGen(21, t0)
	mustProcess(t, s, g.batch(50, 3))
	acked := s.LastSeq()

	d.avail.Store(0) // full: the reserve cannot be put back
	inj.armed.Store(true)
	if err := s.db.Flush(); err != nil { // a new table, recorded in the MANIFEST
		t.Fatalf("flush on a full disk: %v", err)
	}
	if inj.injected.Load() == 0 {
		t.Fatal("the flush wrote no MANIFEST record: the test tested nothing")
	}
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, reserveName)); !os.IsNotExist(err) {
		t.Fatalf("the reserve is still there: %v", err)
	}
	if n := counterValue(t, s.metrics.reserveReleases); n != 1 {
		t.Fatalf("hotpath_store_disk_reserve_releases_total %v", n)
	}
	mustRefuse(t, s, g, "disk_full", "the disk is full") // a batch after the reserve went
	if recs, err := s.ReadFrom(context.Background(), 1, 100000); err != nil || uint64(len(recs)) != acked {
		t.Fatalf("read on the full disk: %d events, %v; want %d", len(recs), err, acked)
	}

	d.avail.Store(1 << 30) // space freed
	waitHealth(t, s, true)
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, reserveName)); err != nil {
		t.Fatalf("the reserve was not put back: %v", err)
	}
	mustProcess(t, s, g.batch(5, 0))
	if n := counterValue(t, s.metrics.writeFailures); n != 0 {
		t.Fatalf("%v write failures: the reserve should have spared them", n)
	}
}

// A write of the log that meets a full disk gets the reserve's space: its batch is acknowledged (it is
// durable), the next is refused, and no reopen is needed.
func TestFullDiskLogWriteUsesReserve(t *testing.T) {
	inj := &fullUntilReserve{files: func(base string) bool { return strings.HasSuffix(base, ".log") }}
	s, d := openReserved(t, inj)
	g := newGen(22, t0)
	mustProcess(t, s, g.batch(20, 3))
	d.avail.Store(0)
	inj.armed.Store(true)
	mustProcess(t, s, g.batch(20, 3))
	if inj.injected.Load() == 0 {
		t.Fatal("no log write met the full disk: the test tested nothing")
	}
	acked := s.LastSeq()
	b := g.batch(5, 0)
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrStorageUnavailable) {
		t.Fatalf("a batch after the reserve went: %v", err)
	}
	d.avail.Store(1 << 30)
	waitHealth(t, s, true)
	mustProcess(t, s, g.batch(5, 0))
	recs, err := s.ReadFrom(context.Background(), 1, 100000)
	if err != nil || uint64(len(recs)) != s.LastSeq() || s.LastSeq() <= acked {
		t.Fatalf("after the disk had room again: %d events, LastSeq %d (acknowledged %d before), %v", len(recs), s.LastSeq(), acked, err)
	}
	if n := counterValue(t, s.metrics.writeFailures); n != 0 || counterValue(t, s.metrics.recoveries) != 0 {
		t.Fatalf("%v write failures: the reserve should have spared them and the reopen", n)
	}
}

// A store opened without room for its reserve (the floor and the reserve above it) refuses batches
// until there is room, then puts the reserve in place and accepts them.
func TestNoRoomForReserveAtOpen(t *testing.T) {
	d := &fakeDisk{}
	d.total.Store(1 << 40)
	d.avail.Store(3 << 20)
	s := openTest(t, Config{MinFreeDisk: 2 << 20, DiskReserve: 1 << 20, diskUsage: d.usage})
	g := newGen(23, t0)
	b := g.batch(5, 0)
	if err := s.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatalf("exactly room for the floor and the reserve: %v", err)
	}
	s.Close()

	d.avail.Store(3<<20 - 1)
	if err := os.Remove(filepath.Join(s.cfg.Dir, reserveName)); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Config{Dir: s.cfg.Dir, MinFreeDisk: 2 << 20, DiskReserve: 1 << 20, diskUsage: d.usage})
	err := s.ProcessBatch(context.Background(), &b)
	if !errors.Is(err, collector.ErrStorageUnavailable) || !strings.Contains(err.Error(), "no room for its reserve") {
		t.Fatalf("one byte short of the floor and the reserve: %v", err)
	}
	d.avail.Store(1 << 30)
	waitHealth(t, s, true)
	mustProcess(t, s, g.batch(5, 0))
}

func TestReserveDefault(t *testing.T) {
	for _, tc := range []struct {
		total   uint64
		reserve int64
		want    int64
	}{
		{total: 32 << 20, want: 1 << 20},
		{total: 1 << 30, want: (1 << 30) / 64},
		{total: 1 << 40, want: 64 << 20},
		{total: 1 << 40, reserve: 5 << 20, want: 5 << 20},
		{total: 1 << 40, reserve: -1, want: 0},
	} {
		d := &fakeDisk{}
		d.total.Store(tc.total)
		d.avail.Store(tc.total)
		s := openTest(t, Config{MinFreeDisk: -1, DiskReserve: tc.reserve, diskUsage: d.usage})
		if s.reserveSize != tc.want {
			t.Errorf("filesystem of %d bytes, DiskReserve %d: reserve %d, want %d", tc.total, tc.reserve, s.reserveSize, tc.want)
		}
		_, err := os.Stat(filepath.Join(s.cfg.Dir, reserveName))
		if exists := err == nil; exists != (tc.want > 0) {
			t.Errorf("DiskReserve %d: reserve file exists %v", tc.reserve, exists)
		}
	}
}

// The reserve's size measures the filesystem of Dir: a directory Open creates is measured too (the
// fault suite found a collector on a new data directory with no reserve).
func TestReserveInNewDirectory(t *testing.T) {
	s := openTest(t, Config{Dir: filepath.Join(t.TempDir(), "new", "store"), MinFreeDisk: -1})
	if s.reserveSize < minReserve {
		t.Fatalf("reserve of %d bytes", s.reserveSize)
	}
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, reserveName)); err != nil {
		t.Fatal(err)
	}
}

// On a filesystem that cannot allocate without writing (fallocate unsupported), the reserve is written
// with zeros, its whole size; one with no room for it (fallocate ENOSPC) leaves none and refuses batches.
func TestReserveWithoutFallocate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		errno syscall.Errno
	}{{"unsupported", syscall.EOPNOTSUPP}, {"no room", syscall.ENOSPC}} {
		t.Run(tc.name, func(t *testing.T) {
			inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
				if op.Kind == errorfs.OpFilePreallocate && strings.HasPrefix(filepath.Base(op.Path), reserveName) {
					return &os.PathError{Op: "fallocate", Path: op.Path, Err: tc.errno}
				}
				return nil
			})
			s := openTest(t, Config{fs: errorfs.Wrap(vfs.Default, inj), MinFreeDisk: -1, DiskReserve: 3<<20 + 5})
			st, err := os.Stat(filepath.Join(s.cfg.Dir, reserveName))
			if tc.errno == syscall.ENOSPC {
				if !os.IsNotExist(err) {
					t.Fatalf("a reserve without room for it: %v", err)
				}
				if err := s.writableErr(); !errors.Is(err, collector.ErrStorageUnavailable) {
					t.Fatalf("writes without a reserve: %v", err)
				}
				return
			}
			if err != nil || st.Size() != 3<<20+5 {
				t.Fatalf("reserve written with zeros: %v, %v bytes, want %d", err, st, 3<<20+5)
			}
			mustProcess(t, s, newGen(24, t0).batch(5, 0))
		})
	}
}
