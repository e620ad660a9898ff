package pebble

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hotpath-apm/hotpath/collector"
)

// fillHours writes about n events in each of hours consecutive hours and returns them by hour.
func fillHours(t *testing.T, s *Store, clk *clock, g *gen, hours, n int) []collector.Batch {
	t.Helper()
	var out []collector.Batch
	for range hours {
		var hour collector.Batch
		for len(hour) < n { // batches of the size intake sends, so the WAL stays small
			b := g.batch(min(250, n), 4)
			mustProcess(t, s, b)
			hour = append(hour, utc(b)...)
		}
		out = append(out, hour)
		clk.Add(time.Hour)
	}
	return out
}

func firstSeq(t *testing.T, s *Store) uint64 {
	t.Helper()
	recs, err := s.ReadFrom(context.Background(), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		return 0
	}
	return recs[0].Seq
}

func TestRetentionByAge(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: 48 * time.Hour})
	g := newGen(10, t0)
	old := fillHours(t, s, clk, g, 3, 100)
	clk.Add(46 * time.Hour) // the first hour is now older than 48 h, the other two are not
	fresh := fillHours(t, s, clk, g, 1, 100)
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if got, want := firstSeq(t, s), uint64(len(old[0])+1); got != want {
		t.Fatalf("oldest event after retention: %d, want %d", got, want)
	}
	if tr, _ := s.GetTrace(context.Background(), old[0][0].TraceID, 0); len(tr) != 0 {
		t.Fatalf("trace of a deleted hour still has %d events", len(tr))
	}
	if tr, _ := s.GetTrace(context.Background(), old[1][0].TraceID, 0); len(tr) == 0 {
		t.Fatal("trace of a kept hour is gone")
	}
	if tr, _ := s.GetTrace(context.Background(), fresh[0][0].TraceID, 0); len(tr) == 0 {
		t.Fatal("fresh trace is gone")
	}
	for _, svc := range services {
		p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: svc, Order: collector.OldestFirst, Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range p.Transactions {
			if tx.Seq <= uint64(len(old[0])) {
				t.Fatalf("transaction %d of a deleted hour is still listed", tx.Seq)
			}
		}
	}
	// Later, everything but the newest hour goes; the hour being written never does.
	clk.Add(100 * time.Hour)
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	last := uint64(0)
	for _, b := range append(old, fresh...) {
		last += uint64(len(b))
	}
	if got := firstSeq(t, s); got != last-uint64(len(fresh[0]))+1 {
		t.Fatalf("oldest event: %d", got)
	}
}

func TestRetentionWaitsForCursor(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: time.Hour})
	g := newGen(11, t0)
	if pos, err := s.RegisterCursor("elasticsearch"); err != nil || pos != 1 {
		t.Fatalf("RegisterCursor = %d, %v", pos, err)
	}
	hours := fillHours(t, s, clk, g, 3, 50)
	clk.Add(10 * time.Hour)
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if firstSeq(t, s) != 1 {
		t.Fatal("retention deleted events the cursor has not read")
	}
	// The exporter confirms the first hour and half of the second: only the first may go.
	pos := uint64(len(hours[0]) + len(hours[1])/2)
	if err := s.CommitCursor("elasticsearch", pos); err != nil {
		t.Fatal(err)
	}
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if got := firstSeq(t, s); got != uint64(len(hours[0])+1) {
		t.Fatalf("oldest event %d, want %d", got, len(hours[0])+1)
	}
	// A cursor registered now starts at the oldest stored event.
	if p, err := s.RegisterCursor("late"); err != nil || p != uint64(len(hours[0])+1) {
		t.Fatalf("late cursor at %d, %v", p, err)
	}
	if err := s.DeleteCursor("late"); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitCursor("late", 1); !errors.Is(err, ErrUnknownCursor) {
		t.Fatalf("commit of a deleted cursor: %v", err)
	}
	if err := s.CommitCursor("elasticsearch", s.LastSeq()+2); err == nil {
		t.Fatal("cursor moved past the end")
	}
	if err := s.DeleteCursor("elasticsearch"); err != nil {
		t.Fatal(err)
	}
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if got, want := firstSeq(t, s), uint64(len(hours[0])+len(hours[1])+len(hours[2])+1); got != want-uint64(len(hours[2])) {
		t.Fatalf("after the cursor is gone, oldest %d, want %d", got, want-uint64(len(hours[2])))
	}
}

func TestRetentionByDiskSize(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: -1, MemTableBytes: 128 << 10})
	g := newGen(12, t0)
	hours := fillHours(t, s, clk, g, 6, 5000) // enough that the WAL and the manifest are a small part of the disk used
	used := retainWithin(t, s, 6)
	// Files a compaction made obsolete leave the disk asynchronously: count what remains.
	if _, live := s.updateDiskMetrics(); live > s.maxDisk.Load() {
		t.Fatalf("disk usage %d after retention, budget %d (was %d)", live, s.maxDisk.Load(), used)
	}
	oldest := firstSeq(t, s)
	if oldest <= uint64(len(hours[0])) {
		t.Fatalf("oldest hour not deleted (oldest event %d)", oldest)
	}
	total := uint64(0)
	for _, h := range hours {
		total += uint64(len(h))
	}
	if oldest > total-uint64(len(hours[5])) {
		t.Fatalf("deleted too much: oldest event %d of %d", oldest, total)
	}
	b := g.batch(10, 0)
	if err := s.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatalf("intake after retention freed space: %v", err)
	}
}

// retainWithin flushes s, sets its disk budget to tenths/10 of the disk it uses, and runs retention
// once. It returns the disk used before.
func retainWithin(t *testing.T, s *Store, tenths int64) (used int64) {
	t.Helper()
	if err := s.checkpoint(0); err != nil {
		t.Fatal(err)
	}
	_, used = s.updateDiskMetrics()
	s.maxDisk.Store(used * tenths / 10)
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	return used
}

// overBudgetWithCursor opens a store whose four hours of events a registered cursor ("elasticsearch")
// has not read, sets its disk budget to half their size and runs retention once; it returns the
// store, its generator and the events by hour.
func overBudgetWithCursor(t *testing.T) (*Store, *gen, []collector.Batch) {
	t.Helper()
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: -1, MemTableBytes: 128 << 10})
	g := newGen(13, t0)
	if _, err := s.RegisterCursor("elasticsearch"); err != nil {
		t.Fatal(err)
	}
	hours := fillHours(t, s, clk, g, 4, 1500)
	// Half: the three oldest of four hours must go to reach the low-water mark (90% of it), whatever
	// the few files of fixed size beside them.
	retainWithin(t, s, 5)
	return s, g, hours
}

func TestDiskBudgetRefusesWhileCursorHoldsData(t *testing.T) {
	s, g, hours := overBudgetWithCursor(t)
	if firstSeq(t, s) != 1 {
		t.Fatal("retention deleted events the cursor holds")
	}
	b := g.batch(10, 0)
	err := s.ProcessBatch(context.Background(), &b)
	if !errors.Is(err, ErrDiskBudget) || !errors.Is(err, collector.ErrQueueFull) {
		t.Fatalf("over budget with a cursor holding data: %v", err)
	}
	if !strings.Contains(err.Error(), `"elasticsearch"`) {
		t.Fatalf("error does not name the cursor: %v", err)
	}
	// The exporter catches up with the first three hours: retention frees them (all three: two leave
	// the store above the low-water mark) and intake resumes. The commit also wakes the retention loop,
	// whose pass overlaps RunRetention's.
	freed := uint64(len(hours[0]) + len(hours[1]) + len(hours[2]))
	if err := s.CommitCursor("elasticsearch", freed+1); err != nil {
		t.Fatal(err)
	}
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if err := s.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatalf("intake after the cursor moved: %v", err)
	}
	if got := firstSeq(t, s); got != freed+1 {
		t.Fatalf("oldest event %d after the cursor moved to %d", got, freed+1)
	}
	if _, live := s.updateDiskMetrics(); live > s.maxDisk.Load() {
		t.Fatalf("disk usage %d after retention, budget %d", live, s.maxDisk.Load())
	}
}

// Retention runs while intake writes: neither fails, and what remains is a gap-free tail of the log.
func TestRetentionWhileWriting(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: 2 * time.Hour})
	done := make(chan error, 1)
	go func() {
		g := newGen(16, t0)
		for range 36 {
			b := g.batch(50, 2)
			if err := s.ProcessBatch(context.Background(), &b); err != nil {
				done <- err
				return
			}
			clk.Add(10 * time.Minute)
		}
		done <- nil
	}()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
			if err := s.RunRetention(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	recs, err := s.ReadFrom(context.Background(), 1, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || recs[len(recs)-1].Seq != s.LastSeq() {
		t.Fatalf("%d events left, last %d", len(recs), s.LastSeq())
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Seq != recs[i-1].Seq+1 {
			t.Fatalf("gap after %d", recs[i-1].Seq)
		}
	}
	if recs[0].Seq == 1 {
		t.Fatal("retention deleted nothing")
	}
	if parts := s.parts.snapshot(); len(parts) > 4 {
		t.Fatalf("%d hourly partitions kept with a 2 h maximum age", len(parts))
	}
}

// Retention passes that overlap (RunRetention callers, and the loop that a cursor's commit wakes while
// intake is refused) take turns: each decides the budget state from a measure no other pass is
// changing, so once they have all returned intake is accepted, and each partition went exactly once.
func TestConcurrentRetentionRunsAgree(t *testing.T) {
	s, g, hours := overBudgetWithCursor(t)
	b := g.batch(10, 0)
	if err := s.ProcessBatch(context.Background(), &b); !errors.Is(err, ErrDiskBudget) {
		t.Fatalf("over budget with a cursor holding data: %v", err)
	}
	freed := uint64(len(hours[0]) + len(hours[1]) + len(hours[2]))
	if err := s.CommitCursor("elasticsearch", freed+1); err != nil { // also wakes the retention loop
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- s.RunRetention() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatalf("intake after concurrent retention runs freed space: %v", err)
	}
	if got := firstSeq(t, s); got != freed+1 {
		t.Fatalf("oldest event %d after retention, want %d", got, freed+1)
	}
	var m dto.Metric
	if err := s.metrics.deletedParts.WithLabelValues("disk").Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 3 {
		t.Fatalf("%v partitions counted as deleted for disk, want 3", got)
	}
}

// Below twice the free-space floor retention deletes the oldest hours, as many as the missing space
// needs by their event bytes (at the boundary: none at exactly twice the floor, the oldest one a byte
// below), and never the current hour, so that the floor refuses intake only when the newest hour alone
// does not fit.
func TestRetentionByFreeSpace(t *testing.T) {
	const floor = 10 << 20
	clk := newClock(t0)
	d := &fakeDisk{}
	d.total.Store(1 << 40)
	d.avail.Store(1 << 30)
	s := openTest(t, Config{Now: clk.Now, MaxAge: -1, MinFreeDisk: floor, DiskReserve: -1, diskUsage: d.usage})
	g := newGen(14, t0)
	fillHours(t, s, clk, g, 4, 300)
	parts := s.parts.snapshot()
	if len(parts) != 4 {
		t.Fatalf("%d partitions, want 4", len(parts))
	}
	run := func() {
		t.Helper()
		if err := s.RunRetention(); err != nil {
			t.Fatal(err)
		}
	}
	d.avail.Store(2 * floor)
	run()
	if got := firstSeq(t, s); got != parts[0].FirstSeq {
		t.Fatalf("at twice the floor, retention deleted events up to %d", got-1)
	}
	d.avail.Store(2*floor - 1)
	run()
	if got := firstSeq(t, s); got != parts[1].FirstSeq {
		t.Fatalf("a byte short of twice the floor: oldest event %d, want %d (the oldest hour deleted, no more)", got, parts[1].FirstSeq)
	}
	d.avail.Store(2*floor - parts[1].Bytes - 1)
	run()
	if got := firstSeq(t, s); got != parts[3].FirstSeq {
		t.Fatalf("short of more than an hour's bytes: oldest event %d, want %d (two more hours deleted)", got, parts[3].FirstSeq)
	}
	d.avail.Store(0)
	run()
	if got, n := firstSeq(t, s), len(s.parts.snapshot()); got != parts[3].FirstSeq || n != 1 {
		t.Fatalf("with no space at all: oldest event %d, %d partitions; want the current hour kept", got, n)
	}
	if n := counterValue(t, s.metrics.deletedParts.WithLabelValues("free_space")); n != 3 {
		t.Fatalf("%v partitions deleted for free space, want 3", n)
	}
}
