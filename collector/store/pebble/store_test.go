package pebble

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/hotpath-apm/hotpath/collector"
)

// readPaged reads every record of s with ReadFrom, page records at a time.
func readPaged(t *testing.T, s *Store, page int) []collector.Record {
	t.Helper()
	var all []collector.Record
	for from := uint64(1); ; {
		recs, err := s.ReadFrom(context.Background(), from, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return all
		}
		all = append(all, recs...)
		from = recs[len(recs)-1].Seq + 1
	}
}

func TestMain(m *testing.M) {
	if crashChild() {
		return
	}
	goleak.VerifyTestMain(m)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// utc returns the batch as the store gives it back (timestamps in UTC).
func utc(b collector.Batch) collector.Batch {
	out := slices.Clone(b)
	for i := range out {
		out[i].Timestamp = out[i].Timestamp.UTC()
	}
	return out
}

func TestProcessBatchThenReadFrom(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	g := newGen(1, t0)
	var want collector.Batch
	for range 5 {
		b := g.batch(50, 5)
		mustProcess(t, s, b)
		want = append(want, utc(b)...)
		// The caller reuses its batch: scribbling on it must not change what was stored.
		for i := range b {
			b[i].TraceID = "overwritten"
			b[i].Service.Name = "overwritten"
		}
	}
	if got := s.LastSeq(); got != uint64(len(want)) {
		t.Fatalf("LastSeq = %d, want %d", got, len(want))
	}
	got := readPaged(t, s, 64)
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, got[i].Seq)
		}
		if !reflect.DeepEqual(got[i].Event, want[i]) {
			t.Fatalf("event %d differs:\n got %+v\nwant %+v", i, got[i].Event, want[i])
		}
	}
}

func TestEmptyBatchAndNil(t *testing.T) {
	s := openTest(t, Config{})
	if err := s.ProcessBatch(context.Background(), &collector.Batch{}); err != nil {
		t.Fatal(err)
	}
	if err := s.ProcessBatch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if s.LastSeq() != 0 {
		t.Fatalf("LastSeq = %d", s.LastSeq())
	}
}

func TestReopenKeepsEventsAndSequence(t *testing.T) {
	dir := t.TempDir()
	g := newGen(2, t0)
	s, err := Open(Config{Dir: dir, Now: newClock(t0).Now})
	if err != nil {
		t.Fatal(err)
	}
	b := g.batch(20, 3)
	mustProcess(t, s, b)
	if _, err := s.RegisterCursor("es"); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitCursor("es", 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Config{Dir: dir, Now: newClock(t0).Now})
	if s.LastSeq() != uint64(len(b)) {
		t.Fatalf("LastSeq after reopen = %d, want %d", s.LastSeq(), len(b))
	}
	if pos, ok := s.Cursor("es"); !ok || pos != 5 {
		t.Fatalf("cursor after reopen = %d, %v", pos, ok)
	}
	b2 := g.batch(5, 0)
	mustProcess(t, s, b2)
	rec, ok, err := s.Get(uint64(len(b) + 1))
	if err != nil || !ok || !reflect.DeepEqual(rec.Event, utc(b2)[0]) {
		t.Fatalf("first event after reopen: %v %v %+v", ok, err, rec)
	}
	tr, err := s.GetTrace(context.Background(), b[0].TraceID, 0)
	if err != nil || len(tr) == 0 {
		t.Fatalf("trace after reopen: %v %d", err, len(tr))
	}
}

func TestGetTrace(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	g := newGen(3, t0)
	traces := map[string][]collector.Event{}
	// Spread over partitions and days.
	for _, e := range utc(writeRounds(t, s, clk, 4, 13*time.Hour, func() collector.Batch { return g.batch(200, 6) })) {
		traces[e.TraceID] = append(traces[e.TraceID], e)
	}
	// A trace whose events arrive in two different days.
	split := g.trace(4)
	mustProcess(t, s, split[:2])
	clk.Add(24 * time.Hour)
	mustProcess(t, s, split[2:])
	traces[split[0].TraceID] = utc(split)
	// Traces interleaved in one batch share one index key per trace, and a trace continued by the next
	// batch of the same day gets a second key.
	a, b, c := g.trace(5), g.trace(3), g.trace(1)
	var mixed collector.Batch
	for i := range len(a) {
		for _, tr := range []collector.Batch{a, b, c} {
			if i < len(tr) {
				mixed = append(mixed, tr[i])
			}
		}
	}
	more := g.trace(2)
	for i := range more {
		more[i].TraceID = a[0].TraceID
	}
	mustProcess(t, s, mixed)
	mustProcess(t, s, more)
	traces[a[0].TraceID] = utc(append(slices.Clone(a), more...))
	traces[b[0].TraceID], traces[c[0].TraceID] = utc(b), utc(c)
	// Trace ids that are not lowercase hex are indexed as they are.
	odd := g.trace(1)
	for i := range odd {
		odd[i].TraceID = "Not-Hex\x00id"
	}
	mustProcess(t, s, odd)
	traces[odd[0].TraceID] = utc(odd)

	for id, want := range traces {
		got, err := s.GetTrace(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("trace %q: %d events, want %d", id, len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i].Event, want[i]) {
				t.Fatalf("trace %s event %d differs: %s", id, i, describe(got[i]))
			}
		}
	}
	for _, id := range []string{"", "0123456789abcdef0123456789abcdef", strings.Repeat("f", 300)} {
		if got, err := s.GetTrace(context.Background(), id, 0); err != nil || len(got) != 0 {
			t.Fatalf("unknown trace %q: %v %d", id, err, len(got))
		}
	}
}

func allTransactions(t *testing.T, s *Store, q collector.TransactionQuery) []collector.TransactionSummary {
	t.Helper()
	var out []collector.TransactionSummary
	for pages := 0; ; pages++ {
		p, err := s.Transactions(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Transactions) > normLimit(q.Limit) {
			t.Fatalf("page of %d, limit %d", len(p.Transactions), q.Limit)
		}
		out = append(out, p.Transactions...)
		if p.Next == "" {
			return out
		}
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		q.Cursor = p.Next
	}
}

func TestTransactions(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	g := newGen(4, t0)
	written := writeRounds(t, s, clk, 6, 50*time.Minute, func() collector.Batch {
		b := g.batch(300, 2)
		g.now = g.now.Add(50 * time.Minute) // event time moves on with ingest time
		return b
	})
	var txs []collector.Event
	for _, e := range written {
		if e.Kind == collector.KindTransaction {
			txs = append(txs, e)
		}
	}
	from, to := t0.Add(-30*time.Minute), t0.Add(3*time.Hour)
	expect := func(name string, keep func(collector.Event) bool, less func(a, b collector.Event) bool) []string {
		var out []collector.Event
		for _, e := range txs {
			if e.Service.Name == "search" && (name == "" || e.Transaction.Name == name) && !e.Timestamp.Before(from) && e.Timestamp.Before(to) && keep(e) {
				out = append(out, e)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
		ids := make([]string, len(out))
		for i, e := range out {
			ids[i] = e.Transaction.ID
		}
		return ids
	}
	newest := func(a, b collector.Event) bool { return a.Timestamp.After(b.Timestamp) }
	oldest := func(a, b collector.Event) bool { return a.Timestamp.Before(b.Timestamp) }
	slowest := func(a, b collector.Event) bool {
		if a.Event.Duration != b.Event.Duration {
			return a.Event.Duration > b.Event.Duration
		}
		return a.Timestamp.Before(b.Timestamp)
	}
	all := func(collector.Event) bool { return true }
	cases := []struct {
		name string
		q    collector.TransactionQuery
		want []string
	}{
		{"newest of an endpoint", collector.TransactionQuery{Name: "GET /search", Order: collector.NewestFirst, Limit: 7}, expect("GET /search", all, newest)},
		{"oldest of an endpoint", collector.TransactionQuery{Name: "GET /search", Order: collector.OldestFirst, Limit: 10}, expect("GET /search", all, oldest)},
		{"slowest of an endpoint", collector.TransactionQuery{Name: "GET /search", Order: collector.SlowestFirst, Limit: 9}, expect("GET /search", all, slowest)},
		{"slowest of the service", collector.TransactionQuery{Order: collector.SlowestFirst, Limit: 50}, expect("", all, slowest)},
		{"newest of the service", collector.TransactionQuery{Order: collector.NewestFirst, Limit: 33}, expect("", all, newest)},
		{"min duration", collector.TransactionQuery{Name: "GET /suggest", Order: collector.SlowestFirst, MinDuration: 15 * time.Millisecond},
			expect("GET /suggest", func(e collector.Event) bool { return e.Event.Duration >= 15*time.Millisecond }, slowest)},
		{"min duration by time", collector.TransactionQuery{Order: collector.NewestFirst, MinDuration: 60 * time.Millisecond},
			expect("", func(e collector.Event) bool { return e.Event.Duration >= 60*time.Millisecond }, newest)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Service, c.q.From, c.q.To = "search", from, to
			got := allTransactions(t, s, c.q)
			ids := make([]string, len(got))
			for i, tx := range got {
				ids[i] = tx.TransactionID
				if tx.Service != "search" || tx.Seq == 0 || tx.TraceID == "" {
					t.Fatalf("summary %+v", tx)
				}
			}
			if len(c.want) < 10 {
				t.Fatalf("test data too small: %d", len(c.want))
			}
			if c.q.Order == collector.SlowestFirst {
				// Equal durations may come in either order of time; compare as sets per duration.
				if !slices.Equal(sortedCopy(ids), sortedCopy(c.want)) {
					t.Fatalf("got %d transactions, want %d", len(ids), len(c.want))
				}
				for i := 1; i < len(got); i++ {
					if got[i].Duration > got[i-1].Duration {
						t.Fatalf("not slowest first at %d: %v after %v", i, got[i].Duration, got[i-1].Duration)
					}
				}
				return
			}
			if !slices.Equal(ids, c.want) {
				t.Fatalf("got %d ids, want %d (first %v / %v)", len(ids), len(c.want), first(ids), first(c.want))
			}
		})
	}
	t.Run("summary", func(t *testing.T) {
		p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: "search", Name: "GET /search", Limit: 1})
		if err != nil || len(p.Transactions) != 1 {
			t.Fatal(err)
		}
		got := p.Transactions[0]
		rec, ok, err := s.Get(got.Seq)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		e := rec.Event
		want := collector.TransactionSummary{Seq: got.Seq, Timestamp: e.Timestamp, Duration: e.Event.Duration, Service: "search", Name: e.Transaction.Name,
			Type: e.Transaction.Type, Result: e.Transaction.Result, Outcome: e.Event.Outcome, TraceID: e.TraceID, TransactionID: e.Transaction.ID, Sampled: true}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("summary\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: "search", Order: collector.NewestFirst, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"!!", "AAAA", p.Next[:len(p.Next)-2]} {
			if _, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: "search", Cursor: c}); !errors.Is(err, collector.ErrBadCursor) {
				t.Fatalf("cursor %q: %v", c, err)
			}
		}
		// A time cursor is not a duration cursor.
		if _, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: "search", Order: collector.SlowestFirst, Cursor: p.Next}); !errors.Is(err, collector.ErrBadCursor) {
			t.Fatalf("cursor of another order: %v", err)
		}
	})
	t.Run("no service", func(t *testing.T) {
		if _, err := s.Transactions(context.Background(), collector.TransactionQuery{}); err == nil {
			t.Fatal("no error")
		}
	})
}

func sortedCopy(s []string) []string { c := slices.Clone(s); slices.Sort(c); return c }

func first(s []string) []string { return s[:min(3, len(s))] }

func TestErrorsServicesEndpoints(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	g := newGen(5, t0)
	var errs []collector.Event
	for _, e := range writeRounds(t, s, clk, 3, 2*time.Hour, func() collector.Batch { return g.batch(1000, 1) }) {
		if e.Kind == collector.KindError && e.Service.Name == "indexer" {
			errs = append(errs, e)
		}
	}
	// A log-only service appears in Services but has no endpoints.
	mustProcess(t, s, collector.Batch{{Kind: collector.KindLog, Timestamp: t0, Service: collector.Service{Name: "cron"}, Message: "ran"}})

	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Timestamp.After(errs[j].Timestamp) })
	var got []collector.ErrorSummary
	q := collector.ErrorQuery{Service: "indexer", Limit: 7}
	for {
		p, err := s.Errors(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Errors...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(got) != len(errs) || len(errs) < 10 {
		t.Fatalf("%d errors, want %d", len(got), len(errs))
	}
	for i, e := range errs {
		w := collector.ErrorSummary{Seq: got[i].Seq, Timestamp: e.Timestamp, Service: "indexer", ErrorID: e.Error.ID, GroupingKey: e.Error.GroupingKey, Culprit: "main.search",
			Type: "*errors.errorString", Message: "context deadline exceeded", Handled: collector.Some(true), TraceID: e.TraceID,
			TransactionID: e.Transaction.ID, TransactionName: e.Transaction.Name}
		if got[i] != w {
			t.Fatalf("error %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}

	svcs, err := s.Services(context.Background(), time.Time{}, time.Time{})
	if err != nil || !slices.Equal(svcs, []string{"cron", "indexer", "search", "segmenter"}) {
		t.Fatalf("services %v %v", svcs, err)
	}
	// The endpoints of a service, as the query API lists them: one aggregate per transaction name.
	eps, err := s.EndpointAggregates(context.Background(), "search", t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, a := range eps {
		if a.Type != "request" || a.Count == 0 {
			t.Errorf("endpoint %q: type %q, %d transactions", name, a.Type, a.Count)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if want := slices.Sorted(slices.Values(endpoints)); !slices.Equal(names, want) {
		t.Fatalf("endpoints %q, want %q", names, want)
	}
	if eps, _ := s.EndpointAggregates(context.Background(), "cron", time.Time{}, time.Time{}); len(eps) != 0 {
		t.Fatalf("cron endpoints %v", eps)
	}
	// A time range no partition holds.
	if svcs, _ := s.Services(context.Background(), t0.Add(100*time.Hour), t0.Add(200*time.Hour)); len(svcs) != 0 {
		t.Fatalf("services in the future: %v", svcs)
	}
}

func TestConcurrentWritersShareCommits(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := openTest(t, Config{Registerer: reg})
	const writers, batches = 8, 25
	var wg sync.WaitGroup
	ids := make(chan string, writers*batches*20)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(uint64(100+w), t0)
			b := make(collector.Batch, 0, 64)
			for range batches {
				b = append(b[:0], g.batch(10, 1)...)
				if err := s.ProcessBatch(context.Background(), &b); err != nil {
					t.Error(err)
					return
				}
				for _, e := range b {
					ids <- e.TraceID + e.Kind.String() + spanID(e)
				}
			}
		}()
	}
	wg.Wait()
	close(ids)
	want := map[string]int{}
	n := 0
	for id := range ids {
		want[id]++
		n++
	}
	recs, err := s.ReadFrom(context.Background(), 1, n+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("stored %d events, acknowledged %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("gap: event %d has seq %d", i, r.Seq)
		}
		want[r.Event.TraceID+r.Event.Kind.String()+spanID(r.Event)]--
	}
	for id, c := range want {
		if c != 0 {
			t.Fatalf("event %s: %d unaccounted", id, c)
		}
	}
	mf, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range mf {
		found[f.GetName()] = true
		if f.GetName() == "hotpath_store_commit_events" {
			h := f.GetMetric()[0].GetHistogram()
			if h.GetSampleSum() != float64(n) || h.GetSampleCount() == 0 || h.GetSampleCount() > writers*batches {
				t.Fatalf("commit histogram: %d commits of %v events", h.GetSampleCount(), h.GetSampleSum())
			}
		}
	}
	for _, name := range []string{"hotpath_store_commit_seconds", "hotpath_store_queue_batches", "hotpath_store_disk_bytes", "hotpath_store_retention_deleted_events_total", "hotpath_store_events_total"} {
		if !found[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
}

func spanID(e collector.Event) string {
	switch {
	case e.Span != nil:
		return e.Span.ID
	case e.Error != nil:
		return e.Error.ID
	case e.Transaction != nil:
		return e.Transaction.ID
	}
	return ""
}

func TestWaitFor(t *testing.T) {
	s := openTest(t, Config{})
	done := make(chan error, 1)
	go func() { done <- s.WaitFor(context.Background(), 1) }()
	mustProcess(t, s, newGen(6, t0).batch(1, 0))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WaitFor(ctx, 1000); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor with a cancelled context: %v", err)
	}
}

// TestGetTraceLimit: GetTrace reads a trace only up to its limit: the first limit events, in stored
// order, at and around the boundaries, and what a read of 100 events of a trace of 10,000 allocates is
// a small fraction of what reading all of them does (the query API asks for a bounded number, so one
// huge trace no longer costs its whole size in memory per request).
func TestGetTraceLimit(t *testing.T) {
	s := openTest(t, Config{})
	g := newGen(5, t0)
	const n = 10_000
	tr := g.trace(n)
	for i := 0; i < n; i += 1_000 {
		mustProcess(t, s, tr[i:i+1_000])
	}
	want := utc(tr)
	id := tr[0].TraceID
	for _, limit := range []int{1, 999, 1000, 1001, n - 1, n, n + 1, 0} {
		got, err := s.GetTrace(context.Background(), id, limit)
		if err != nil {
			t.Fatal(err)
		}
		wantN := min(limit, n)
		if limit == 0 {
			wantN = n
		}
		if len(got) != wantN || !reflect.DeepEqual(got[len(got)-1].Event, want[wantN-1]) {
			t.Fatalf("limit %d: %d events, want the first %d", limit, len(got), wantN)
		}
	}
	allocated := func(limit int) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := s.GetTrace(context.Background(), id, limit); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, all := allocated(100), allocated(0)
	t.Logf("GetTrace allocates %d bytes for 100 events, %d for all %d", small, all, n)
	if small*20 > all {
		t.Errorf("reading 100 events of %d allocates %d bytes, reading all %d: the read is not bounded", n, small, all)
	}
}

// A second store on the same registry is refused, and takes none of the first store's series with it.
func TestMetricsRegisteredAllOrNone(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := openTest(t, Config{Registerer: reg})
	if _, err := Open(Config{Dir: t.TempDir(), Registerer: reg}); err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Fatalf("a second store on the registry: %v", err)
	}
	mustProcess(t, s, collector.Batch{{Kind: collector.KindLog, Message: "one"}})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "hotpath_store_events_total" && f.GetMetric()[0].GetCounter().GetValue() == 1 {
			return
		}
	}
	t.Fatal("the first store's hotpath_store_events_total is gone from the registry")
}
