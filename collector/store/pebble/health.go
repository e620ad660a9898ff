package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// The store's health: whether it may write, and how it gets back to writing by itself. Two things stop
// writes, and both answer batches with an error that Is collector.ErrStorageUnavailable (the intake
// answers 503, and agents and OpenTelemetry SDKs retry), while reads go on:
//
//   - The free-space floor (Config.MinFreeDisk): the filesystem's free space is measured at most every
//     diskCheckInterval, by the batches that arrive; below the floor new batches are refused, and they
//     are accepted again as soon as a measure finds the floor. The floor keeps the disk from filling:
//     a full disk is what breaks the database's log.
//   - A failed write or fsync of the store's journal (journal.go) or of the database's manifest: a full
//     disk that the floor did not foresee (another program filled it), or a failing one. After a failed
//     write, the journal's segment may end with a torn record, and no record may follow it; Pebble
//     keeps a manifest's error and panics on the next use: from the moment the file operation fails
//     (healthFS), the store commits nothing more (commitMu), answers the groups in flight with the
//     error (none of them was acknowledged: a batch is acknowledged only once its fsync succeeded), and
//     the health loop reopens the database in process, with backoff, once a test write in its
//     directory succeeds: closing it drops its memtables and the broken segment, opening it replays
//     the journal's durable prefix (everything acknowledged, perhaps some of what was not) into a new
//     one.
//
// A third, a write of the log that hangs instead of failing, is stall.go's; a fourth, a write that meets
// a full disk before the floor saw it coming, first takes the disk reserve's space (reserve.go).
//
// Sequence numbers are never reused: the reopened store continues after the highest sequence number the
// writer had assigned, even where the log lost the events that had them (never acknowledged, never
// readable through LastSeq).

// diskCheckInterval is how often, at most, the free-space floor is measured (one statfs).
const diskCheckInterval = 250 * time.Millisecond

// defaultMaxFloor caps the default free-space floor (1% of the filesystem).
const defaultMaxFloor = 256 << 20

// Backoff between attempts to reopen the database after a failed write.
const (
	recoverMinBackoff = 100 * time.Millisecond
	recoverMaxBackoff = 5 * time.Second
)

// pauseTimeout bounds how long a reopen waits for the reads and commits in progress to end; past it
// the attempt is given up (and retried), so that a long scan delays recovery rather than readers.
const pauseTimeout = 5 * time.Second

// probeSize is the size of the file the health loop writes and fsyncs to see whether the disk takes
// writes again before it reopens the database.
const probeSize = 1 << 20

// unavailableError is the store's refusal for its disk: why, and the cause. errors.Is(err,
// collector.ErrStorageUnavailable) is true for it.
type unavailableError struct {
	msg string
	err error // the failed write, if any
}

func (e *unavailableError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error {
	if e.err == nil {
		return []error{collector.ErrStorageUnavailable}
	}
	return []error{collector.ErrStorageUnavailable, e.err}
}

// resolveFloor sets the free-space floor from Config.MinFreeDisk and the filesystem's size.
func (s *Store) resolveFloor() {
	s.floor = s.diskShare(s.cfg.MinFreeDisk, "free-space floor", func(total int64) int64 {
		return min(total/100, defaultMaxFloor)
	})
	s.metrics.diskFloor.Set(float64(s.floor))
}

// diskShare resolves a size whose zero value means a share of the filesystem the store is on:
// configured when it is positive, none (0) when it is negative, and when it is zero, share of the
// filesystem's total bytes, or none, logged as no such thing as what, when the filesystem cannot be
// measured.
func (s *Store) diskShare(configured int64, what string, share func(total int64) int64) int64 {
	if configured != 0 {
		return max(configured, 0)
	}
	du, err := s.cfg.diskUsage(s.cfg.Dir)
	if err != nil {
		s.log.Warn("store: cannot measure the filesystem: no "+what, zap.Error(err))
		return 0
	}
	return share(int64(du.TotalBytes))
}

// checkFloor returns the floor's refusal while the filesystem is below it, measuring at most every
// Config.diskCheckEvery.
func (s *Store) checkFloor() error {
	if s.floor <= 0 {
		return nil
	}
	now := int64(time.Since(s.epoch))
	if next := s.nextDiskCheck.Load(); now >= next && s.nextDiskCheck.CompareAndSwap(next, now+int64(s.cfg.diskCheckEvery)) {
		s.measureFloor()
	}
	if err := s.belowFloor.Load(); err != nil {
		return *err
	}
	return nil
}

// measureFloor measures the free space and sets or clears belowFloor.
func (s *Store) measureFloor() {
	du, err := s.cfg.diskUsage(s.cfg.Dir)
	if err != nil {
		// Cannot tell: the floor does not refuse (a failed write would).
		s.log.Warn("store: cannot measure free space", zap.Error(err))
		return
	}
	s.metrics.diskFree.Set(float64(du.AvailBytes))
	if int64(du.AvailBytes) < 2*s.floor {
		s.kickRetention() // retainFreeSpace: ahead of the floor
	}
	if int64(du.AvailBytes) >= s.floor {
		if s.belowFloor.Swap(nil) != nil {
			s.log.Info("store accepts events again: free space is back above the floor",
				zap.Uint64("free_bytes", du.AvailBytes), zap.Int64("floor_bytes", s.floor))
			s.setWritable()
		}
		return
	}
	err = &unavailableError{msg: fmt.Sprintf("store: disk nearly full: %s free on %s, below the floor of %s; "+
		"writes resume once space is freed", mib(int64(du.AvailBytes)), s.cfg.Dir, mib(s.floor))}
	if s.belowFloor.Swap(&err) == nil {
		s.log.Warn("store refuses events: free space below the floor", zap.Error(err))
		s.setWritable()
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// writableErr returns why the store refuses writes: a failure, a stall, the floor; nil if it takes them.
func (s *Store) writableErr() error {
	if err := s.writeErr.Load(); err != nil {
		return *err
	}
	if err := s.stallErr(); err != nil {
		return err
	}
	if err := s.reserveErr(); err != nil {
		return err
	}
	return s.checkFloor()
}

// setWritable publishes hotpath_store_writable and wakes healthChanged's waiters.
func (s *Store) setWritable() {
	v := 1.0
	if s.writeErr.Load() != nil || s.belowFloor.Load() != nil || s.stalled.Load() != nil || s.reserveGone.Load() != nil {
		v = 0
	}
	s.metrics.writable.Set(v)
	s.healthMu.Lock()
	if s.healthCh != nil {
		close(s.healthCh)
		s.healthCh = nil
	}
	s.healthMu.Unlock()
}

// healthChanged returns a channel closed at the next change of the store's health (a failure, a
// recovery, the floor crossed, a stall begun or ended, the disk reserve released or back).
func (s *Store) healthChanged() <-chan struct{} {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	if s.healthCh == nil {
		s.healthCh = make(chan struct{})
	}
	return s.healthCh
}

// writeFailed stops writes after a failed write of the log (the first one counts; later ones are its
// consequences) and wakes the health loop.
func (s *Store) writeFailed(cause error) {
	err := error(&unavailableError{msg: "store: a write to disk failed; writes resume once the store has reopened its database", err: cause})
	if !s.writeErr.CompareAndSwap(nil, &err) {
		return
	}
	s.metrics.writeFailures.Inc()
	s.setWritable()
	s.log.Error("store refuses events: a write failed, reopening the database", zap.Error(cause))
	s.wakeHealth()
}

// wakeHealth wakes the health loop: to reopen the database, or to put the disk reserve back.
func (s *Store) wakeHealth() {
	select {
	case s.recover <- struct{}{}:
	default:
	}
}

// commit applies b to the database unless writes are stopped, and waits for its fsync when sync. Every
// commit outside the writer's group commits goes through it (the writer holds commitMu the same way):
// once the log has failed, a commit would make Pebble panic.
func (s *Store) commit(b *pebbledb.Batch, sync bool) error {
	s.commitMu.Lock()
	if err := s.writeErr.Load(); err != nil {
		s.commitMu.Unlock()
		return *err
	}
	end, err := s.journalApply(b)
	s.commitMu.Unlock()
	if err == nil && sync {
		err = s.journal.syncTo(end)
	}
	if err != nil {
		s.writeFailed(err)
		return *s.writeErr.Load()
	}
	return nil
}

// healthLoop reopens the database after a failed write, and puts the disk reserve back after it was
// released (reserve.go), with backoff, until it succeeds or the store closes.
func (s *Store) healthLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case <-s.recover:
		}
		wait := recoverMinBackoff
		t := time.NewTimer(wait)
		for s.writeErr.Load() != nil || s.reserveGone.Load() != nil {
			select {
			case <-s.stop:
				t.Stop()
				return
			case <-t.C:
			}
			if err := s.recoverOnce(); err != nil {
				wait = min(2*wait, recoverMaxBackoff)
				s.log.Debug("store: cannot resume writing yet", zap.Error(err), zap.Duration("retry_in", wait))
			} else {
				wait = recoverMinBackoff
			}
			t.Reset(wait)
		}
		t.Stop()
	}
}

// recoverOnce reopens the database after a failed write, else puts the disk reserve back.
func (s *Store) recoverOnce() error {
	if s.writeErr.Load() == nil {
		return s.restoreReserve()
	}
	if err := s.reopen(); err != nil {
		s.log.Warn("store: cannot reopen the database yet", zap.Error(err))
		return err
	}
	s.metrics.recoveries.Inc()
	s.setWritable()
	s.log.Info("store reopened its database and accepts events again",
		zap.Uint64("last_seq", s.LastSeq()), zap.Uint64("next_seq", s.reopenedAt.Load()+1))
	return nil
}

// reopen closes the failed database and opens it again, if a test write succeeds; reads and commits
// wait meanwhile.
func (s *Store) reopen() error {
	if err := s.checkFloor(); err != nil {
		return err
	}
	if err := s.probe(); err != nil {
		return err
	}
	if err := s.pause(pauseTimeout); err != nil {
		return err
	}
	defer s.unpause()
	if s.journal != nil {
		if err := s.journal.close(false); err != nil { // its records are replayed below
			s.log.Info("store: closed the failed journal", zap.Error(err))
		}
		s.journal = nil
	}
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			s.log.Info("store: closed the failed database", zap.Error(err))
		}
		s.db = nil
	}
	db, err := s.openDB(false)
	if err != nil {
		// Serve reads meanwhile from the database opened read-only (what its tables hold: the journal
		// is replayed once it opens for writing); writes stay refused.
		if s.db, err = s.openDB(true); err != nil {
			s.downErr = &unavailableError{msg: "store: reopening the database after a failed write", err: err}
		}
		return err
	}
	assigned, durable := s.seq, s.LastSeq()
	s.db = db
	fail := func(err error) error {
		if s.journal != nil {
			_ = s.journal.close(false)
			s.journal = nil
		}
		_ = db.Close()
		s.db = nil
		s.downErr = &unavailableError{msg: "store: reopening the database after a failed write", err: err}
		return err
	}
	if err := s.recoverState(); err != nil {
		return fail(err)
	}
	recovered := s.seq
	if recovered < durable {
		// Only if an fsync that succeeded did not make its data durable: the disk lied.
		s.log.Error("store: the reopened database lacks acknowledged events",
			zap.Uint64("acknowledged_to", durable), zap.Uint64("recovered_to", recovered))
	}
	if s.seq < assigned {
		// The lost events' sequence numbers stay used: a new event never takes the number that another
		// had in a read (the indexes in memory) before the failure.
		b := s.db.NewBatch()
		err := b.Set(metaKey("seq"), binary.BigEndian.AppendUint64(nil, assigned), nil)
		if err == nil {
			var end uint64
			s.commitMu.Lock()
			end, err = s.journalApply(b)
			s.commitMu.Unlock()
			if err == nil {
				err = s.journal.syncTo(end)
			}
		}
		_ = b.Close()
		if err != nil {
			return fail(err)
		}
		s.seq = assigned
	}
	s.reopenedAt.Store(s.seq)
	clear(s.names)
	s.namesPart = 0
	s.agg.cache.reset()
	if recovered > durable {
		s.publish(recovered) // events whose answer was a failure, durable after all
	}
	s.writeErr.Store(nil)
	return nil
}

// probe writes and fsyncs a file in the store's directory and removes it: it fails while the disk does
// not take writes.
func (s *Store) probe() error {
	fs := s.innerFS()
	name := fs.PathJoin(s.cfg.Dir, "hotpath-probe")
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("store: test write: %w", err)
	}
	buf := make([]byte, probeSize)
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close(), fs.Remove(name))
	if err != nil {
		return fmt.Errorf("store: test write: %w", err)
	}
	return nil
}

// pause makes acquire wait and waits for the reads and commits in progress to end, for up to timeout.
func (s *Store) pause(timeout time.Duration) error {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.paused = true
	t := time.AfterFunc(timeout, func() {
		s.readMu.Lock()
		s.readCond.Broadcast()
		s.readMu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(timeout)
	for s.readers > 0 {
		if !time.Now().Before(deadline) {
			s.paused = false
			s.readCond.Broadcast()
			return fmt.Errorf("store: %d reads or commits still running after %v", s.readers, timeout)
		}
		s.readCond.Wait()
	}
	return nil
}

func (s *Store) unpause() {
	s.readMu.Lock()
	s.paused = false
	s.readCond.Broadcast()
	s.readMu.Unlock()
}

// innerFS is the filesystem the store's files are on, below healthFS.
func (s *Store) innerFS() vfs.FS {
	if s.cfg.fs != nil {
		return s.cfg.fs
	}
	return vfs.Default
}

// healthFS reports a failed write or sync of the database's log or manifest to the store the moment it
// happens, before Pebble's log writer keeps the error for later commits. The table and blob files it
// creates write through a buffer, and the tables compactions read are read through a window
// (tablefile.go).
type healthFS struct {
	vfs.FS
	failed func(error)
	tables *tableFiles
}

func (fs *healthFS) watch(f vfs.File, name string) vfs.File {
	base := fs.PathBase(name)
	if f == nil || !(strings.HasSuffix(base, ".log") || strings.HasPrefix(base, "MANIFEST")) {
		return f
	}
	return &healthFile{File: f, failed: fs.failed}
}

func (fs *healthFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	if f != nil && fs.tables != nil && isTableFile(fs.PathBase(name)) {
		return fs.tables.wrap(f), err
	}
	return fs.watch(f, name), err
}

func (fs *healthFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.Open(name, opts...)
	if fs.tables != nil {
		f = fs.tables.readSequential(f, fs.PathBase(name), opts)
	}
	return f, err
}

func (fs *healthFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(old, name, c)
	return fs.watch(f, name), err
}

func (fs *healthFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, opts...)
	return fs.watch(f, name), err
}

// healthFile watches a log or manifest. Not Preallocate: Pebble ignores its failure (the space is
// reserved ahead of the log's writes, and a full disk fails the writes themselves if they need it).
type healthFile struct {
	vfs.File
	failed func(error)
}

func (f *healthFile) check(err error) error {
	if err != nil {
		f.failed(err)
	}
	return err
}

func (f *healthFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.check(err)
}

func (f *healthFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.check(err)
}

func (f *healthFile) Sync() error     { return f.check(f.File.Sync()) }
func (f *healthFile) SyncData() error { return f.check(f.File.SyncData()) }

func (f *healthFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	return full, f.check(err)
}
