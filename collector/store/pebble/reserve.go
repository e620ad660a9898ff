package pebble

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap"
)

// The reserve: a file of Config.DiskReserve bytes in the store's directory, allocated while the disk
// has room, that the store gives back the moment a write of the database meets a full disk.
//
// Pebble survives most failed writes (a flush or a compaction is retried, a failed log write is
// health.go's), but not a failed write of its MANIFEST, the record of its files: it stops the process.
// The free-space floor makes a full disk unlikely, not impossible (another program may fill it between
// two measures, or the floor is off). So the database's filesystem is wrapped in Pebble's
// vfs.OnDiskFull: the first write to meet ENOSPC calls releaseReserve, which removes the reserve's file,
// and is then retried once, into the space the reserve held. The store refuses new batches from then on
// (an error that Is collector.ErrStorageUnavailable: 503), so that what the reserve gave goes to the
// writes the database had started, and the health loop allocates the reserve again once the filesystem
// has room for it above the floor; writes resume then.

// reserveName is the reserve's file in the store's directory.
const reserveName = "hotpath-reserve"

// Bounds of the default reserve, a 64th of the filesystem.
const (
	minReserve = 1 << 20
	maxReserve = 64 << 20
)

// resolveReserve sets the reserve's size from Config.DiskReserve and the filesystem's size.
func (s *Store) resolveReserve() {
	s.reserveSize = s.diskShare(s.cfg.DiskReserve, "disk reserve", func(total int64) int64 {
		return min(max(total/64, minReserve), maxReserve)
	})
}

// reserveFS wraps the database's filesystem so that the first write to meet a full disk releases the
// reserve and is retried.
func (s *Store) reserveFS(fs vfs.FS) vfs.FS {
	if s.reserveSize <= 0 {
		return fs
	}
	return vfs.OnDiskFull(fs, s.releaseReserve)
}

// releaseReserve removes the reserve's file and stops new batches. It runs in the goroutine of the
// write that met the full disk, while the database's other writes wait: it does not block.
func (s *Store) releaseReserve() {
	fs := s.innerFS()
	err := fs.Remove(fs.PathJoin(s.cfg.Dir, reserveName))
	released := err == nil
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		s.log.Error("store: cannot remove the disk reserve", zap.Error(err))
	}
	refusal := error(&unavailableError{msg: fmt.Sprintf("store: the disk is full (its reserve of %s went to the "+
		"database's writes in progress); writes resume once space is freed", mib(s.reserveSize))})
	if s.reserveGone.CompareAndSwap(nil, &refusal) {
		if released {
			s.metrics.reserveReleases.Inc()
		}
		s.log.Warn("store refuses events: the disk is full, its reserve released", zap.Bool("released", released),
			zap.Int64("reserve_bytes", s.reserveSize))
		s.setWritable()
		s.wakeHealth()
		s.kickRetention() // retainFreeSpace: room for the reserve
	}
}

// reserveErr returns the refusal while the reserve is released, or nil.
func (s *Store) reserveErr() error {
	if err := s.reserveGone.Load(); err != nil {
		return *err
	}
	return nil
}

// makeReserve allocates the reserve's file, if it is missing and the filesystem has room for it above
// the floor. The blocks are allocated (fallocate), not written: instant on the filesystems that
// support it; written with zeros on those that do not.
func (s *Store) makeReserve() error {
	fs := s.innerFS()
	name := fs.PathJoin(s.cfg.Dir, reserveName)
	if _, err := fs.Stat(name); err == nil {
		return nil
	}
	if du, err := s.cfg.diskUsage(s.cfg.Dir); err == nil && int64(du.AvailBytes) < s.floor+s.reserveSize {
		return fmt.Errorf("store: disk reserve: %s free, want %s for the reserve above the floor of %s",
			mib(int64(du.AvailBytes)), mib(s.reserveSize), mib(s.floor))
	}
	tmp := name + ".tmp"
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("store: disk reserve: %w", err)
	}
	if err = f.Preallocate(0, s.reserveSize); err != nil && !errors.Is(err, syscall.ENOSPC) {
		buf := make([]byte, min(s.reserveSize, 1<<20))
		err = nil
		for n := int64(0); n < s.reserveSize && err == nil; n += int64(len(buf)) {
			_, err = f.Write(buf[:min(int64(len(buf)), s.reserveSize-n)])
		}
	}
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = fs.Rename(tmp, name) // the reserve exists whole or not at all
	}
	if err != nil {
		_ = fs.Remove(tmp)
		return fmt.Errorf("store: disk reserve: %w", err)
	}
	return nil
}

// restoreReserve allocates the reserve again after it was released and lets writes resume.
func (s *Store) restoreReserve() error {
	if err := s.makeReserve(); err != nil {
		return err
	}
	if s.reserveGone.Swap(nil) != nil {
		s.log.Info("store accepts events again: the disk reserve is back", zap.Int64("reserve_bytes", s.reserveSize))
		s.setWritable()
	}
	return nil
}
