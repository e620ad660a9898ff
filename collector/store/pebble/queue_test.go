package pebble

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// gateFS makes the journal's fsyncs (and, with writes set, its writes) wait while its gate is closed:
// a disk that stalls, deterministically.
type gateFS struct {
	vfs.FS
	writes  atomic.Bool // the gate holds writes too, as a frozen filesystem does
	mu      sync.Mutex
	open    chan struct{} // closed while syncs may proceed
	waiting chan struct{} // receives when a sync starts waiting
	err     error         // what syncs return, once set by fail; guarded by mu
}

func newGateFS() *gateFS {
	g := &gateFS{FS: vfs.Default, open: make(chan struct{}), waiting: make(chan struct{}, 100)}
	close(g.open)
	return g
}

func (g *gateFS) block() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

// release lets the syncs proceed; releasing an open gate does nothing.
func (g *gateFS) release() {
	g.mu.Lock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
	g.mu.Unlock()
}

// fail makes every later WAL fsync fail with err.
func (g *gateFS) fail(err error) {
	g.mu.Lock()
	g.err = err
	g.mu.Unlock()
}

func (g *gateFS) wait() error {
	g.mu.Lock()
	ch, err := g.open, g.err
	g.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	default:
	}
	g.waiting <- struct{}{}
	<-ch
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

func (g *gateFS) wrap(f vfs.File, name string) vfs.File {
	if strings.HasSuffix(name, ".log") {
		return &gateFile{File: f, g: g}
	}
	return f
}

func (g *gateFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.Create(name, c)
	if err != nil {
		return nil, err
	}
	return g.wrap(f, name), nil
}

func (g *gateFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.ReuseForWrite(old, name, c)
	if err != nil {
		return nil, err
	}
	return g.wrap(f, name), nil
}

type gateFile struct {
	vfs.File
	g *gateFS
}

func (f *gateFile) Write(p []byte) (int, error) {
	if f.g.writes.Load() {
		if err := f.g.wait(); err != nil {
			return 0, err
		}
	}
	return f.File.Write(p)
}

func (f *gateFile) Sync() error {
	if err := f.g.wait(); err != nil {
		return err
	}
	return f.File.Sync()
}
func (f *gateFile) SyncData() error {
	if err := f.g.wait(); err != nil {
		return err
	}
	return f.File.SyncData()
}
func (f *gateFile) SyncTo(n int64) (bool, error) {
	if err := f.g.wait(); err != nil {
		return false, err
	}
	return f.File.SyncTo(n)
}

// waitHeld waits, without sleeping, until the queue holds n pending writes: queued, or applied behind a
// stalled fsync (not durable yet, so not released either), as its gauge counts them.
func waitHeld(t *testing.T, s *Store, n int) {
	t.Helper()
	for {
		var m dto.Metric
		if err := s.metrics.queueRequests.Write(&m); err != nil {
			t.Fatal(err)
		}
		if int(m.GetGauge().GetValue()) == n {
			return
		}
		runtime.Gosched()
	}
}

// requestSize is the number of queue bytes a batch holds.
func requestSize(b collector.Batch) int {
	r := pendingWrite{memo: &shapeMemo{}} // as the store's: its scratch key counts
	r.keep, r.capSlots, _ = newTraceCap(MaxTraceEvents, time.Now, zap.NewNop()).admit(b, nil, nil)
	r.prepare(b)
	return r.size()
}

// openGated opens a store in a new directory on a gateFS; the test closes it.
func openGated(t *testing.T) (*Store, *gateFS, string) {
	t.Helper()
	fs := newGateFS()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, fs: fs, StallTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s, fs, dir
}

// processAsync calls ProcessBatch in a goroutine.
func processAsync(s *Store, b collector.Batch) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.ProcessBatch(context.Background(), &b) }()
	return ch
}

func TestQueueFullReturnsQuickly(t *testing.T) {
	fs := newGateFS()
	g := newGen(7, t0)
	one, two, three := g.batch(50, 3), g.batch(50, 3), g.batch(50, 3)
	// Room for the batch in the stalled commit and two queued behind it (pending writes fresh from the pool,
	// as these are, hold exactly requestSize).
	room := requestSize(one) + requestSize(two) + requestSize(three)
	s := openTest(t, Config{fs: fs, StallTimeout: -1, QueueBytes: room, EnqueueTimeout: 50 * time.Millisecond})
	fs.block()
	first := processAsync(s, one)
	<-fs.waiting // the writer is inside the fsync of the first batch
	second, third := processAsync(s, two), processAsync(s, three)
	waitHeld(t, s, 3)
	// Groups may be applied behind the stalled fsync, but none is durable: nothing is answered or readable.
	if n := s.LastSeq(); n != 0 {
		t.Fatalf("LastSeq %d while the first fsync is stalled", n)
	}
	if len(first)+len(second)+len(third) != 0 {
		t.Fatal("a batch was answered before its fsync")
	}
	start := time.Now()
	b := g.batch(50, 3)
	err := s.ProcessBatch(context.Background(), &b)
	if !errors.Is(err, collector.ErrQueueFull) {
		t.Fatalf("full queue: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("ErrQueueFull took %v", d)
	}
	// With no wait configured, the answer is immediate.
	s.cfg.EnqueueTimeout = -1
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrQueueFull) {
		t.Fatalf("full queue without wait: %v", err)
	}
	// A cancelled context ends the wait too.
	s.cfg.EnqueueTimeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ProcessBatch(ctx, &b); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	fs.release()
	for _, ch := range []<-chan error{first, second, third} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.ReadFrom(context.Background(), 1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != int(s.LastSeq()) {
		t.Fatalf("read %d, LastSeq %d", len(recs), s.LastSeq())
	}
	// And now there is room again.
	if err := s.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

func TestQueueGroupsWaitingBatches(t *testing.T) {
	q := newQueue(1<<20, nil)
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(8, t0)
	var reqs []*pendingWrite
	for range 5 {
		r := &pendingWrite{done: make(chan error, 1)}
		r.prepare(g.batch(10, 1))
		if err := q.push(context.Background(), r, -1, m); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	got := q.take(nil, 1<<30)
	if len(got) != 5 {
		t.Fatalf("took %d pending writes, want all 5 in one group", len(got))
	}
	// MaxCommitBytes splits groups, but a group always has at least one pending write.
	for _, r := range reqs {
		if err := q.push(context.Background(), r, -1, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.take(nil, 1); len(got) != 1 {
		t.Fatalf("took %d pending writes with a tiny limit, want 1", len(got))
	}
	// The queue now starts at reqs[1]; the writes differ in size (their buffers grow differently).
	if got := q.take(nil, reqs[1].size()+reqs[2].size()+reqs[3].size()/2); len(got) != 2 {
		t.Fatalf("took %d pending writes, want 2", len(got))
	}
	q.close()
	if err := q.push(context.Background(), reqs[0], -1, m); !errors.Is(err, collector.ErrShuttingDown) {
		t.Fatalf("push after close: %v", err)
	}
	// The writer drains what was queued before the close, then sees the end.
	if got := q.take(nil, 1<<30); len(got) != 2 {
		t.Fatalf("drained %d, want 2", len(got))
	}
	if got := q.take(nil, 1<<30); got != nil {
		t.Fatalf("take after drain: %d", len(got))
	}
}

func TestCloseCommitsQueuedAndRefusesNew(t *testing.T) {
	s, fs, dir := openGated(t)
	g := newGen(9, t0)
	fs.block()
	b1, b2 := g.batch(20, 2), g.batch(20, 2)
	first := processAsync(s, b1)
	<-fs.waiting
	second := processAsync(s, b2)
	waitHeld(t, s, 2)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for !s.closing.Load() {
		runtime.Gosched()
	}
	b := g.batch(5, 0)
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrShuttingDown) {
		t.Fatalf("after Close: %v", err)
	}
	fs.release()
	for _, ch := range []<-chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatalf("queued batch: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, collector.ErrShuttingDown) {
		t.Fatalf("after Close returned: %v", err)
	}
	// Reads after Close fail cleanly instead of touching a closed database.
	if _, err := s.ReadFrom(context.Background(), 1, 10); !errors.Is(err, ErrClosed) || !errors.Is(err, collector.ErrShuttingDown) {
		t.Fatalf("ReadFrom after Close: %v", err)
	}
	if _, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: "search"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Transactions after Close: %v", err)
	}
	if err := s.CommitCursor("x", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("CommitCursor after Close: %v", err)
	}
	s2 := openTest(t, Config{Dir: dir})
	recs, err := s2.ReadFrom(context.Background(), 1, 1000)
	if err != nil || len(recs) < 40 {
		t.Fatalf("after reopen: %d events, %v", len(recs), err)
	}
}

func TestEnqueueBatchPipelines(t *testing.T) {
	fs := newGateFS()
	s := openTest(t, Config{fs: fs, StallTimeout: -1})
	g := newGen(14, t0)
	var want collector.Batch
	var waits []func() error
	fs.block() // nothing becomes durable until released: the enqueues must not wait for it
	b := make(collector.Batch, 0, 64)
	for range 5 {
		b = append(b[:0], g.batch(30, 2)...)
		want = append(want, utc(b)...)
		wait, err := s.EnqueueBatch(context.Background(), &b)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, wait)
		for i := range b { // the caller reuses its batch at once
			b[i].TraceID = "reused"
		}
	}
	if s.LastSeq() != 0 {
		t.Fatalf("LastSeq %d before any fsync completed", s.LastSeq())
	}
	fs.release()
	for _, w := range waits {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.ReadFrom(context.Background(), 1, 1000)
	if err != nil || len(recs) != len(want) {
		t.Fatalf("read %d of %d: %v", len(recs), len(want), err)
	}
	for i := range recs {
		if recs[i].Event.TraceID != want[i].TraceID {
			t.Fatalf("event %d: trace %s, want %s (batches out of order or not copied)", i, recs[i].Event.TraceID, want[i].TraceID)
		}
	}
	if w, err := s.EnqueueBatch(context.Background(), &collector.Batch{}); err != nil || w() != nil {
		t.Fatal("empty batch", err)
	}
}

// listed counts the transactions and errors the store lists, over every test service.
func listed(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	for _, svc := range services {
		tx, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: svc, Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		er, err := s.Errors(context.Background(), collector.ErrorQuery{Service: svc, Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		n += len(tx.Transactions) + len(er.Errors)
	}
	return n
}

// Pebble shows a group's keys once applied, before its fsync: the transaction and error listings must
// not (a listed transaction's trace would not be readable yet), until the fsync is done.
func TestListingsHideWhatIsNotDurable(t *testing.T) {
	s, fs, _ := openGated(t)
	defer s.Close()
	var released sync.Once
	release := func() { released.Do(fs.release) }
	defer release() // before Close, also when the test fails while the fsync is held
	g := newGen(13, t0)
	mustProcess(t, s, g.batch(60, 2)) // a durable partition, which later groups add to
	durable := listed(t, s)
	if durable == 0 {
		t.Fatal("nothing listed")
	}
	fs.block()
	pending := processAsync(s, g.batch(60, 2))
	<-fs.waiting
	waitHeld(t, s, 1)
	if n := listed(t, s); n != durable {
		t.Fatalf("%d listed while a group waits for its fsync, want the %d durable ones", n, durable)
	}
	release()
	if err := <-pending; err != nil {
		t.Fatal(err)
	}
	if n := listed(t, s); n <= durable {
		t.Fatalf("%d listed once the group is durable, want more than %d", n, durable)
	}
}

// TestQueueSharesBudget: with a shared memory budget, a batch is queued only if the budget has room for
// it as well as QueueBytes; an empty queue takes one whatever the budget (the store always makes
// progress); committed batches give their bytes back to the budget.
func TestQueueSharesBudget(t *testing.T) {
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(9, t0)
	first := &pendingWrite{done: make(chan error, 1)}
	first.prepare(g.batch(10, 1))
	second := &pendingWrite{done: make(chan error, 1)}
	second.prepare(g.batch(10, 1))
	size := int64(first.size())

	budget := collector.NewMemoryBudget(size + int64(second.size()))
	budget.Charge(collector.BudgetDecoded, size) // intake holds the rest of it
	q := newQueue(1<<20, budget)
	if err := q.push(context.Background(), first, -1, m); err != nil {
		t.Fatalf("empty queue, budget spent: %v", err)
	}
	if err := q.push(context.Background(), second, -1, m); err != collector.ErrQueueFull {
		t.Fatalf("second batch past the budget: %v, want ErrQueueFull", err)
	}
	budget.Release(collector.BudgetDecoded, size) // intake handed its batch over: exactly room for it
	if err := q.push(context.Background(), second, -1, m); err != nil {
		t.Fatalf("second batch within the budget: %v", err)
	}
	if got := budget.InUse(collector.BudgetStoreQueue); got != budget.Limit() {
		t.Errorf("queue charged %d, want %d", got, budget.Limit())
	}
	q.release(q.take(nil, 1<<30), m)
	if got := budget.Total(); got != 0 {
		t.Errorf("budget holds %d after the commit, want 0", got)
	}
}
