package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// Config configures a Store. Zero values mean the documented default.
type Config struct {
	// Dir is the directory of the store; created if missing. Required.
	Dir string

	// MaxAge is how long events are kept, by the time they were stored (retention by age, the
	// collector's --retention). Default 7 days. Negative: keep events regardless of age.
	MaxAge time.Duration

	// MaxDisk is the disk budget in bytes (the collector's --max-disk). When the store grows past it,
	// the oldest hourly partitions are deleted; when nothing may be deleted (only the current hour is
	// left, or a registered cursor has not passed the oldest partition), ProcessBatch refuses batches
	// with ErrDiskBudget until space is freed. Default 0: no budget.
	MaxDisk int64

	// QueueBytes bounds the memory held by batches waiting for, or in, a group commit (their encoded
	// size). A batch that does not fit waits up to EnqueueTimeout, then is refused with
	// collector.ErrQueueFull. A batch larger than QueueBytes is accepted when the queue is empty.
	// Default 64 MiB.
	QueueBytes int

	// Budget, when set, is the memory budget the queue shares with the rest of the collector (intake's
	// stream slots and decoded batches): a batch is queued only if both QueueBytes and the budget have
	// room for it (or the queue is empty), else it waits as for a full queue. Default: QueueBytes alone.
	Budget *collector.MemoryBudget

	// EnqueueTimeout is how long ProcessBatch waits for room in a full queue before it returns
	// collector.ErrQueueFull (or ctx's error, if ctx ends first). Default 250ms; negative: do not wait.
	EnqueueTimeout time.Duration

	// MaxCommitBytes bounds one group commit: the writer takes queued batches until they hold this many
	// bytes (at least one batch), writes them in one Pebble batch and fsyncs once. Default 8 MiB.
	MaxCommitBytes int

	// RetentionInterval is how often retention runs. It also runs when the store grew by a fiftieth of
	// MaxDisk and when a cursor moves while ProcessBatch is refusing batches. Default 1 minute.
	RetentionInterval time.Duration

	// CacheBytes is the size of Pebble's block cache. Default 128 MiB.
	CacheBytes int64

	// MemTableBytes is the size of one Pebble memtable: writes are buffered in memory (and in the
	// journal) up to this size before they are flushed to a table. The journal is checkpointed (the
	// memtables flushed, its older segments deleted) each time it has grown by this much: it takes up to
	// about twice this on disk, counted against MaxDisk. Default 32 MiB.
	MemTableBytes int

	// MaxTraceEvents is the most events of one trace id the store keeps per ingest day; the trace's
	// later events are dropped when queued (not stored, indexed, aggregated or exported) and counted
	// in hotpath_store_trace_events_dropped_total. The counts are approximate from above and start over
	// each day and at Open (see traceCap). Default: MaxTraceEvents, what GetTrace reads at most.
	// Negative: no cap.
	MaxTraceEvents int

	// MinFreeDisk is the free-space floor in bytes: while the filesystem of Dir has less free space,
	// ProcessBatch and StoreProfile refuse with an error that Is collector.ErrStorageUnavailable
	// (intake answers 503), and accept again as soon as space is freed. It keeps the disk from filling,
	// which would fail the database's log (see health.go). Free space is measured at most every 250ms.
	// Default: 1% of the filesystem's size, at most 256 MiB. Negative: no floor.
	MinFreeDisk int64

	// DiskReserve is the size of the reserve, a file in Dir that the store gives back the moment a write
	// of the database meets a full disk, so that the writes Pebble has started (its MANIFEST's above all,
	// whose failure Pebble does not survive) finish; the store then refuses batches until the
	// filesystem has room for the reserve again (reserve.go). Default: a 64th of the filesystem, between
	// 1 MiB and 64 MiB. Negative: no reserve.
	DiskReserve int64

	// StallTimeout is how long a write or an fsync of the store's journal may run before the store takes
	// the disk for stalled: it then refuses batches, and answers those waiting, with an error that Is
	// collector.ErrStorageUnavailable until it returns (stall.go). Default 5s; negative: wait for the
	// disk however long it takes.
	StallTimeout time.Duration

	// Registerer receives the store's metrics (hotpath_store_*). Default: none registered.
	Registerer prometheus.Registerer

	// Logger receives retention and engine messages. Default: zap.NewNop().
	Logger *zap.Logger

	// Now is the clock used to assign events to hourly partitions and to apply MaxAge. Default
	// time.Now; tests set it.
	Now func() time.Time

	fs vfs.FS // tests inject faults (a blocked fsync) here; default the OS's

	diskUsage      func(dir string) (vfs.DiskUsage, error) // tests fake the filesystem's free space; default statfs
	diskCheckEvery time.Duration                           // default diskCheckInterval; tests set 1ns
	noAggCache     bool                                    // tests: every commit reads its aggregates back (aggregate_cache.go)
}

func (c *Config) setDefaults() error {
	if c.Dir == "" {
		return errors.New("store: Config.Dir is required")
	}
	if c.MaxAge == 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 64 << 20
	}
	if c.EnqueueTimeout == 0 {
		c.EnqueueTimeout = 250 * time.Millisecond
	}
	if c.MaxCommitBytes <= 0 {
		c.MaxCommitBytes = 8 << 20
	}
	if c.RetentionInterval <= 0 {
		c.RetentionInterval = time.Minute
	}
	if c.CacheBytes <= 0 {
		c.CacheBytes = 128 << 20
	}
	if c.MemTableBytes <= 0 {
		c.MemTableBytes = 32 << 20
	}
	if c.MaxTraceEvents == 0 {
		c.MaxTraceEvents = MaxTraceEvents
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = 5 * time.Second
	}
	if c.diskUsage == nil {
		fs := c.fs
		if fs == nil {
			fs = vfs.Default
		}
		c.diskUsage = fs.GetDiskUsage
	}
	if c.diskCheckEvery <= 0 {
		c.diskCheckEvery = diskCheckInterval
	}
	return nil
}

// ErrDiskBudget is returned (wrapped, with the cursor that holds the data) by ProcessBatch when the
// store has reached Config.MaxDisk and may not delete anything: a registered cursor (the Elasticsearch
// exporter, while Elasticsearch is down) has not passed the oldest events. errors.Is(err,
// collector.ErrQueueFull) is true for it, so the intake answers 503 "queue is full" as APM Server does
// when its output is blocked, and agents retry later; nothing acknowledged is lost.
var ErrDiskBudget = &diskBudgetError{}

type diskBudgetError struct{}

func (*diskBudgetError) Error() string        { return "store: disk budget reached" }
func (*diskBudgetError) Is(target error) bool { return target == collector.ErrQueueFull }

// Store is hotpath's embedded event store on Pebble. It is a collector.BatchProcessor and answers the
// reads of the query API and the Elasticsearch exporter. Its methods are safe for concurrent use.
type Store struct {
	cfg     Config
	db      *pebbledb.DB
	log     *zap.Logger
	metrics *metrics
	q       *queue
	traces  *traceCap // nil without a cap
	reqPool sync.Pool
	shapes  shapeMemo
	parts   partitions
	tables  tableFiles // the write buffers and read windows of the table and blob files (tablefile.go)

	// Writer state, touched only by the writer goroutine (writer.go).
	seq       uint64    // last sequence number applied
	part      partition // the newest partition as applied, if partOK
	partOK    bool
	names     map[string]struct{} // ksNames bodies already written in partition namesPart
	namesPart uint32
	agg       aggWriter   // the aggregates' state (aggregate_write.go)
	shapeW    shapeWriter // the query shapes' state (queryshape_write.go)
	jrec      []byte      // the group's journal record (journal.go)

	// The journal (journal.go): replaced by a reopen, while no commit runs.
	journal        *journal
	jbatch         []byte        // the record of a commit outside the writer's; guarded by commitMu
	checkpointKick chan struct{} // wakes checkpointLoop (capacity 1)
	checkpointMu   sync.Mutex    // one checkpoint at a time

	// Syncer state, touched only by the goroutine that confirms the writer's fsyncs (writer.go).
	sinceKick int // bytes committed since the last retention kick

	// Health (health.go).
	writeErr      atomic.Pointer[error] // set from a failed write of the log until the database is reopened
	commitMu      sync.Mutex            // serializes commits with the check of writeErr
	recover       chan struct{}         // wakes the health loop (capacity 1)
	floor         int64                 // the free-space floor in bytes; 0: none
	epoch         time.Time             // the monotonic origin of nextDiskCheck
	nextDiskCheck atomic.Int64          // when (since epoch) the floor is measured next
	belowFloor    atomic.Pointer[error] // set while the last measure was below the floor
	reopenedAt    atomic.Uint64         // the writer's sequence number after the last reopen
	healthMu      sync.Mutex
	healthCh      chan struct{}         // closed at the next change of health; guarded by healthMu
	diskSince     [diskOps]atomic.Int64 // when (since epoch) the running fsync and journal write began; 0: none (stall.go)
	stalled       atomic.Pointer[error] // set while an fsync has run longer than Config.StallTimeout
	stallTimer    *time.Timer           // fires checkStall
	reserveSize   int64                 // the disk reserve's size; 0: none (reserve.go)
	reserveGone   atomic.Pointer[error] // set while the reserve is released or missing

	durable    atomic.Uint64 // last sequence number durably committed: the readable end
	notifyMu   sync.Mutex
	notifyCh   chan struct{} // closed and replaced when durable moves; guarded by notifyMu
	full       atomic.Pointer[error]
	maxDisk    atomic.Int64  // Config.MaxDisk; a test lowers it while the retention loop runs
	retention  chan struct{} // kicks the retention loop (capacity 1)
	closing    atomic.Bool
	stop       chan struct{} // closed by Close: stops the retention loop
	stopCtx    context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
	dbClosed   chan struct{} // closed once Close has closed the database (later than Close on a stalled disk)
	cursors    cursors
	diskCached atomic.Int64
	// profileMu serializes StoreProfile (profiles.go), so that "is the id free" and "take it" are one
	// step.
	profileMu sync.Mutex

	// retentionMu serializes retention passes (the loop's and RunRetention's), which alone set and
	// clear full: see retention.go.
	retentionMu sync.Mutex

	// Reads and commits hold the database (acquire) so that Close and a reopen never close it under
	// them. Guarded by readMu.
	readMu   sync.Mutex
	readCond *sync.Cond // signalled when readers reaches 0 and when paused is cleared
	closed   bool       // reads return ErrClosed
	paused   bool       // a reopen is waiting for readers to end: acquire waits
	readers  int        // reads and commits in progress
	downErr  error      // why db is nil (a reopen failed to open it)
}

// ErrClosed is returned by reads after Close. errors.Is(err, collector.ErrShuttingDown) is true for it.
var ErrClosed = fmt.Errorf("store: closed: %w", collector.ErrShuttingDown)

// acquire registers a read; it fails once Close has begun. Every exported method that touches the
// database calls it, and release when done, so Close never closes the database under a reader, nor a
// reopen after a failed write (health.go): acquire waits while one is under way.
func (s *Store) acquire() error {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for s.paused {
		s.readCond.Wait()
	}
	if s.closed {
		return ErrClosed
	}
	if s.db == nil {
		return s.downErr
	}
	s.readers++
	return nil
}

// acquireService is acquire for a read of one service's data: it fails, released, when service is ""
// (what names the read in the error).
func (s *Store) acquireService(what, service string) error {
	if err := s.acquire(); err != nil {
		return err
	}
	if service == "" {
		s.release()
		return errors.New("store: " + what + ": a service is required")
	}
	return nil
}

// acquireVersion is acquireService for a read of one service.version's data: it fails, released, when
// version is "" too.
func (s *Store) acquireVersion(what, service, version string) error {
	if err := s.acquireService(what, service); err != nil {
		return err
	}
	if version == "" {
		s.release()
		return errors.New("store: " + what + ": a version is required")
	}
	return nil
}

func (s *Store) release() {
	s.readMu.Lock()
	if s.readers--; s.readers == 0 {
		s.readCond.Broadcast()
	}
	s.readMu.Unlock()
}

var _ collector.BatchProcessor = (*Store)(nil)

// Open opens (or creates) the store in cfg.Dir and starts its writer and retention goroutines. Close
// stops them.
func Open(cfg Config) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Store{
		cfg: cfg, log: cfg.Logger, metrics: m,
		q:         newQueue(cfg.QueueBytes, cfg.Budget),
		traces:    newTraceCap(cfg.MaxTraceEvents, cfg.Now, cfg.Logger),
		names:     map[string]struct{}{},
		notifyCh:  make(chan struct{}),
		retention: make(chan struct{}, 1),
		stop:      make(chan struct{}),
		recover:   make(chan struct{}, 1),
		dbClosed:  make(chan struct{}),

		checkpointKick: make(chan struct{}, 1),
		epoch:          time.Now(),
	}
	s.readCond = sync.NewCond(&s.readMu)
	s.stallTimer = time.AfterFunc(time.Hour, s.checkStall)
	s.stallTimer.Stop()
	if err := s.innerFS().MkdirAll(cfg.Dir, 0o755); err != nil { // the reserve's size measures its filesystem
		m.unregister(cfg.Registerer)
		return nil, fmt.Errorf("store: %w", err)
	}
	s.resolveReserve()
	if s.db, err = s.openDB(false); err != nil {
		m.unregister(cfg.Registerer)
		return nil, err
	}
	db := s.db
	s.maxDisk.Store(cfg.MaxDisk)
	s.stopCtx, s.cancel = context.WithCancel(context.Background())
	s.reqPool.New = func() any { return &pendingWrite{done: make(chan error, 1), memo: &s.shapes} }
	if err := s.load(); err != nil {
		if s.journal != nil {
			_ = s.journal.close(false)
		}
		_ = db.Close()
		m.unregister(cfg.Registerer)
		return nil, err
	}
	s.durable.Store(s.seq)
	s.updateDiskMetrics()
	s.resolveFloor()
	if s.floor > 0 {
		s.measureFloor()
		s.nextDiskCheck.Store(int64(time.Since(s.epoch) + s.cfg.diskCheckEvery))
	}
	if s.reserveSize > 0 {
		if err := s.makeReserve(); err != nil {
			refusal := error(&unavailableError{msg: "store: the disk is full (no room for its reserve); writes resume once space is freed", err: err})
			s.reserveGone.Store(&refusal)
			s.log.Warn("store refuses events: no room for the disk reserve", zap.Error(err))
			s.wakeHealth()
		}
	}
	s.setWritable()
	s.wg.Add(4)
	go s.writeLoop()
	go s.retentionLoop()
	go s.healthLoop()
	go s.checkpointLoop()
	return s, nil
}

// openDB opens the Pebble database in cfg.Dir, on a filesystem that reports a failed write of its log
// (healthFS) and releases the disk reserve when the disk is full (reserve.go), or read-only (health.go).
func (s *Store) openDB(readOnly bool) (*pebbledb.DB, error) {
	cache := pebbledb.NewCache(s.cfg.CacheBytes)
	defer cache.Unref()
	opts := engineOptions(&s.cfg, cache, s.metrics)
	opts.FS = s.dbFS()
	opts.ReadOnly = readOnly
	db, err := pebbledb.Open(s.cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", s.cfg.Dir, err)
	}
	return db, nil
}

// dbFS is the filesystem of the database and the journal: it reports a failed write of their logs
// (healthFS) and releases the disk reserve when the disk is full (reserve.go).
func (s *Store) dbFS() vfs.FS {
	return &healthFS{FS: s.reserveFS(s.innerFS()), failed: s.writeFailed, tables: &s.tables}
}

// load reads partitions and the sequence number, replays the journal, and reads the cursors.
func (s *Store) load() error {
	if err := s.recoverState(); err != nil {
		return err
	}
	return s.cursors.load(s.db)
}

// loadLog reads partitions and the sequence number, and sets the writer's partition.
func (s *Store) loadLog() error {
	it, err := s.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{ksPartition}, UpperBound: []byte{ksPartition + 1}})
	if err != nil {
		return fmt.Errorf("store: load partitions: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		var p partition
		if err := p.unmarshal(it.Value()); err != nil {
			_ = it.Close()
			return err
		}
		s.parts.list = append(s.parts.list, p)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: load partitions: %w", err)
	}
	v, closer, err := s.db.Get(metaKey("seq"))
	switch {
	case err == nil:
		s.seq = binary.BigEndian.Uint64(v)
		_ = closer.Close()
	case !errors.Is(err, pebbledb.ErrNotFound):
		return fmt.Errorf("store: load sequence number: %w", err)
	}
	for _, p := range s.parts.list {
		s.seq = max(s.seq, p.LastSeq)
	}
	s.part, s.partOK = s.parts.last()
	return nil
}

func metaKey(name string) []byte { return append([]byte{ksMeta}, name...) }

// Close stops accepting batches (ProcessBatch returns collector.ErrShuttingDown), commits the batches
// already queued, stops retention and closes the database. It is safe to call more than once. On a
// stalled disk (stall.go) it does not wait for the disk: it returns an error and leaves the database
// open, every acknowledged batch durable.

func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.q.close()
		close(s.stop)
		s.cancel()
		stopped := make(chan struct{})
		go func() {
			s.wg.Wait()
			close(stopped)
		}()
		if err := s.awaitStopped(stopped); err != nil {
			// The disk hangs: closing the database would wait for it too. What was acknowledged is
			// durable; the database is closed if the disk returns, and the process may exit meanwhile.
			s.closeErr = err
			go func() {
				<-stopped
				_ = s.closeDB()
			}()
			return
		}
		s.closeErr = s.closeDB()
	})
	return s.closeErr
}

// closeFlushTimeout bounds how long Close waits for the flush that empties the journal.
const closeFlushTimeout = 10 * time.Second

// closeDB closes the database once the store's goroutines have ended and its reads are done, and
// closes dbClosed.
func (s *Store) closeDB() error {
	defer close(s.dbClosed)
	s.stallTimer.Stop()
	s.readMu.Lock()
	s.closed = true
	for s.readers > 0 {
		s.readCond.Wait()
	}
	db := s.db
	s.readMu.Unlock()
	s.metrics.unregister(s.cfg.Registerer)
	if db == nil {
		return fmt.Errorf("store: close: %w", s.downErr)
	}
	// Flushed, the database holds every record of the journal, which the next open then need not
	// replay. After a failed write it may not: the journal stays for the next open.
	if s.journal != nil {
		// Not on a full disk, where a flush does not finish: the journal is replayed at the next open.
		clean := s.writeErr.Load() == nil && s.reserveGone.Load() == nil && flush(db, nil, closeFlushTimeout) == nil
		if err := s.journal.close(clean); err != nil {
			s.log.Warn("store: close the journal", zap.Error(err))
		}
	}
	if err := db.Close(); err != nil {
		// After a failed write of the log, Close reports it: what the failure left unacknowledged is
		// not durable, what was acknowledged is.
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// awaitStopped waits for stopped (the store's goroutines have ended), or returns an error once the disk
// is stalled.
func (s *Store) awaitStopped(stopped <-chan struct{}) error {
	for {
		changed := s.healthChanged()
		if s.stalled.Load() != nil {
			return fmt.Errorf("store: close: the database is left open until the disk returns: %w", stalledError(s.stalledFor()))
		}
		select {
		case <-stopped:
			return nil
		case <-changed:
		}
	}
}

// LastSeq returns the sequence number of the newest durably committed event (0 when none).
func (s *Store) LastSeq() uint64 { return s.durable.Load() }

// updated returns a channel closed when LastSeq moves past its value at the time of the call.
func (s *Store) updated() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notifyCh
}

func (s *Store) publish(seq uint64) {
	s.notifyMu.Lock()
	s.durable.Store(seq)
	close(s.notifyCh)
	s.notifyCh = make(chan struct{})
	s.notifyMu.Unlock()
}
