// Command store compares embedded storage engines for hotpath's collector on the same workload, and
// measures hotpath's store (collector/store/pebble) at the sizes its floors name: write throughput with
// an fsync per commit as the store grows to millions of events, then read latencies (trace lookup,
// the 50 slowest transactions of an endpoint in 24 h).
//
//	go run ./store -engine hotpath -events 10000000          # hotpath's store, then its reads
//	go run ./store -engine sqlite-modernc -events 1000000    # SQLite (WAL) through modernc.org/sqlite
//	go run ./store -engine sqlite-mattn -events 1000000      # SQLite (WAL) through mattn/go-sqlite3 (cgo)
//	go run ./store -engine pebble-global -events 1000000     # Pebble with a global random trace-id index
//
// The SQLite and raw-Pebble engines store a 300-byte document per event with an index on the 16-byte
// trace id and one on service + name + time, committing (fsync) every 1000 events: the set-up of the
// issue that chose the engine. hotpath's store writes real events (about 2x larger, encoded) with all
// its keys (trace, time, duration, errors, names), so the comparison is conservative for it.
package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	_ "github.com/mattn/go-sqlite3"
	_ "modernc.org/sqlite"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

func main() {
	engine := flag.String("engine", "hotpath", "hotpath, sqlite-modernc, sqlite-mattn or pebble-global")
	events := flag.Int("events", 1_000_000, "events to write")
	report := flag.Int("report", 0, "report the write rate every this many events (default events/10)")
	dir := flag.String("dir", "", "directory for the database (default: a temporary one, removed at the end)")
	writers := flag.Int("writers", 8, "concurrent ProcessBatch callers (hotpath)")
	batch := flag.Int("batch", 120, "events per ProcessBatch call (hotpath)")
	reads := flag.Int("reads", 1000, "lookups per read benchmark (hotpath)")
	readOnly := flag.Bool("readonly", false, "hotpath: only measure reads, on the store a previous run left in -dir")
	flag.Parse()
	if *report == 0 {
		*report = *events / 10
	}
	d := *dir
	if d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fatal(err)
		}
	}
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "hotpath-bench-store-"); err != nil {
			fatal(err)
		}
		defer os.RemoveAll(d)
	}
	var err error
	switch *engine {
	case "hotpath":
		if *readOnly {
			err = readOnlyHotpath(d)
			break
		}
		err = runHotpath(d, *events, *report, *writers, *batch, *reads)
	case "sqlite-modernc":
		err = runSQLite(*engine, "sqlite", filepath.Join(d, "db.sqlite"), *events, *report)
	case "sqlite-mattn":
		err = runSQLite(*engine, "sqlite3", filepath.Join(d, "db.sqlite"), *events, *report)
	case "pebble-global":
		err = runPebbleGlobal(d, *events, *report)
	default:
		err = fmt.Errorf("unknown engine %q", *engine)
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "store:", err)
	os.Exit(1)
}

// rateReporter prints the rate of the last interval each time the count passes a multiple of every.
type rateReporter struct {
	engine string
	every  int
	last   time.Time
	next   int
	start  time.Time
}

func newReporter(engine string, every int) *rateReporter {
	now := time.Now()
	return &rateReporter{engine: engine, every: every, last: now, next: every, start: now}
}

func (r *rateReporter) add(n int) {
	for n >= r.next {
		now := time.Now()
		fmt.Printf("engine=%s stored=%d rate=%.0f events/s (last %d)\n", r.engine, r.next, float64(r.every)/now.Sub(r.last).Seconds(), r.every)
		r.last = now
		r.next += r.every
	}
}

func (r *rateReporter) done(n int) {
	fmt.Printf("engine=%s total=%d overall=%.0f events/s\n", r.engine, n, float64(n)/time.Since(r.start).Seconds())
}

// doc is the fixed-size document of the engine comparison.
type doc struct {
	trace   [16]byte
	service string
	name    string
	ts      int64
	dur     int64
	body    [300]byte
}

func (d *doc) fill(r *rand.Rand, i int) {
	if i%6 == 0 { // a new trace every 6 events: 1 transaction, 5 spans
		for j := range d.trace {
			d.trace[j] = byte(r.Uint32())
		}
	}
	d.service = services[r.IntN(len(services))]
	d.name = endpoints[r.IntN(len(endpoints))]
	d.ts = time.Now().UnixNano()
	d.dur = r.Int64N(1e9)
	for j := range d.body {
		d.body[j] = byte(r.Uint32())
	}
}

var (
	services  = []string{"search", "segmenter", "indexer", "gateway"}
	endpoints = []string{"GET /search", "GET /suggest", "POST /index", "GET /health", "GET /products/{id}", "POST /cart"}
)

func runSQLite(engine, driver, path string, n, every int) error {
	db, err := sql.Open(driver, path)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"PRAGMA journal_mode=WAL",
		"PRAGMA synchronous=FULL", // fsync the WAL at every commit, as the store must
		"CREATE TABLE events (seq INTEGER PRIMARY KEY, trace_id BLOB NOT NULL, service TEXT, name TEXT, ts INTEGER, duration INTEGER, doc BLOB)",
		"CREATE INDEX events_trace ON events(trace_id)",
		"CREATE INDEX events_service_name_ts ON events(service, name, ts)",
	} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	rep := newReporter(engine, every)
	var d doc
	for i := 0; i < n; {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		st, err := tx.Prepare("INSERT INTO events (trace_id, service, name, ts, duration, doc) VALUES (?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		for j := 0; j < 1000 && i < n; j++ {
			d.fill(r, i)
			if _, err := st.Exec(d.trace[:], d.service, d.name, d.ts, d.dur, d.body[:]); err != nil {
				return err
			}
			i++
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
		rep.add(i)
	}
	rep.done(n)
	return nil
}

func runPebbleGlobal(dir string, n, every int) error {
	db, err := pebbledb.Open(dir, &pebbledb.Options{MemTableSize: 32 << 20})
	if err != nil {
		return err
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 2))
	rep := newReporter("pebble-global", every)
	var d doc
	var key []byte
	for i := 0; i < n; {
		b := db.NewBatch()
		for j := 0; j < 1000 && i < n; j++ {
			d.fill(r, i)
			seq := uint64(i + 1)
			key = binary.BigEndian.AppendUint64(append(key[:0], 'e'), seq)
			_ = b.Set(key, d.body[:], nil)
			key = binary.BigEndian.AppendUint64(append(append(key[:0], 't'), d.trace[:]...), seq)
			_ = b.Set(key, nil, nil)
			key = append(append(append(append(key[:0], 'x'), d.service...), 0), d.name...)
			key = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(append(key, 0), uint64(d.ts)), seq)
			_ = b.Set(key, nil, nil)
			i++
		}
		if err := b.Commit(pebbledb.Sync); err != nil {
			return err
		}
		b.Close()
		rep.add(i)
	}
	rep.done(n)
	return nil
}

// gen makes traces like the example search service's: a transaction and 5 spans (query building,
// segmenter call, Elasticsearch round-trips) with the metadata the Elastic Go agent sends.
type gen struct {
	r *rand.Rand
}

func (g *gen) id(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return hex.EncodeToString(b)
}

func (g *gen) trace(now time.Time) []collector.Event {
	traceID, txID := g.id(16), g.id(8)
	service := services[g.r.IntN(len(services))]
	name := endpoints[g.r.IntN(len(endpoints))]
	ts := now.Add(-time.Duration(g.r.Int64N(int64(time.Second))))
	dur := time.Duration((1 + g.r.ExpFloat64()*50) * float64(time.Millisecond))
	base := func(kind collector.Kind, t time.Time) collector.Event {
		return collector.Event{
			Kind: kind, Timestamp: t, TraceID: traceID,
			Agent:   collector.Agent{Name: "go", Version: "2.7.2"},
			Service: collector.Service{Name: service, Version: "1.4.0", Environment: "production", Language: collector.NameVersion{Name: "go", Version: "go1.26"}},
			Host:    collector.Host{Hostname: "web-1", Name: "web-1", Architecture: "amd64", OS: collector.OS{Platform: "linux"}},
			Process: collector.Process{PID: 4242, Title: "search", Argv: []string{"/srv/search", "-listen", ":8080"}},
		}
	}
	tx := base(collector.KindTransaction, ts)
	tx.Event = collector.EventInfo{Outcome: "success", Duration: dur}
	tx.Transaction = &collector.Transaction{ID: txID, Name: name, Type: "request", Result: "HTTP 2xx", Sampled: true, Root: true, RepresentativeCount: 1}
	tx.HTTP = &collector.HTTP{Version: "1.1", Request: collector.HTTPRequest{Method: "GET"}, Response: collector.HTTPResponse{StatusCode: 200}}
	tx.URL = collector.URL{Full: "http://localhost:8080/search?q=shoes", Path: "/search", Query: "q=shoes", Scheme: "http", Domain: "localhost", Port: 8080}
	out := []collector.Event{tx}
	for i := range 5 {
		sp := base(collector.KindSpan, ts.Add(time.Duration(i)*time.Millisecond))
		sp.ParentID = txID
		sp.Event = collector.EventInfo{Outcome: "success", Duration: dur / 6}
		sp.Transaction = &collector.Transaction{ID: txID}
		sp.Span = &collector.Span{ID: g.id(8), Name: "POST /products/_search", Type: "db", Subtype: "elasticsearch", Action: "request",
			DB: &collector.DB{Type: "elasticsearch", Statement: `{"query":{"match":{"title":"shoes"}}}`}}
		out = append(out, sp)
	}
	return out
}

func runHotpath(dir string, n, every, writers, batchSize, readsCount int) error {
	// Simulated ingest time: the n events arrive over 26 hours, so they fill hourly partitions as a day
	// of real traffic would and "the last 24 h" is a realistic query.
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	span := 26 * time.Hour
	var written atomic.Int64
	now := func() time.Time {
		return start.Add(time.Duration(float64(span) * float64(written.Load()) / float64(n)))
	}
	s, err := pebble.Open(pebble.Config{Dir: dir, Now: now, MaxAge: -1, QueueBytes: 256 << 20})
	if err != nil {
		return err
	}
	defer func() { s.Close() }()

	rep := newReporter("hotpath", every)
	var mu sync.Mutex // guards rep, lat, sample
	var lat []time.Duration
	var sample []string // trace ids for the lookups, reservoir-sampled
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	var seen atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &gen{r: rand.New(rand.NewPCG(uint64(w), 9))}
			b := make(collector.Batch, 0, batchSize+6)
			for written.Load() < int64(n) {
				b = b[:0]
				t := now()
				for len(b) < batchSize {
					b = append(b, g.trace(t)...)
				}
				t0 := time.Now()
				if err := s.ProcessBatch(context.Background(), &b); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				d := time.Since(t0)
				total := written.Add(int64(len(b)))
				mu.Lock()
				lat = append(lat, d)
				rep.add(int(total))
				k := int(seen.Add(1))
				if len(sample) < readsCount {
					sample = append(sample, b[0].TraceID)
				} else if j := g.r.IntN(k); j < readsCount {
					sample[j] = b[0].TraceID
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		return *err
	}
	rep.done(int(written.Load()))
	fmt.Printf("engine=hotpath ProcessBatch(%d events) latency %s\n", batchSize, percentiles(lat))
	if err := s.RunRetention(); err != nil { // measures the disk usage
		return err
	}
	fmt.Printf("engine=hotpath disk=%d bytes (%.0f bytes/event)\n", s.DiskUsage(), float64(s.DiskUsage())/float64(written.Load()))

	// Keep what a later -readonly run needs: the sampled trace ids and the end of the simulated time.
	meta := append([]string{now().Format(time.RFC3339Nano)}, sample...)
	if err := os.WriteFile(filepath.Join(dir, "bench-sample.txt"), []byte(strings.Join(meta, "\n")), 0o644); err != nil {
		return err
	}
	// Reopen, as after a restart, so that the reads below do not compete with the compactions the
	// writes left behind; then read everything twice and report the second (warm) pass.
	if err := s.Close(); err != nil {
		return err
	}
	if s, err = pebble.Open(pebble.Config{Dir: dir, Now: now, MaxAge: -1}); err != nil {
		return err
	}
	for pass := range 2 {
		if err := reads(s, sample, now(), pass == 1, readsCount); err != nil {
			return err
		}
	}
	return nil
}

// readOnlyHotpath measures the reads on the store a previous run left in dir (run it with -dir and
// without -readonly first): so that the reads can be measured apart from the writes, for instance at a
// higher scheduling priority on a shared machine.
func readOnlyHotpath(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "bench-sample.txt"))
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	end, err := time.Parse(time.RFC3339Nano, lines[0])
	if err != nil {
		return err
	}
	s, err := pebble.Open(pebble.Config{Dir: dir, Now: func() time.Time { return end }, MaxAge: -1})
	if err != nil {
		return err
	}
	defer s.Close()
	for pass := range 2 {
		if err := reads(s, lines[1:], end, pass == 1, len(lines)-1); err != nil {
			return err
		}
	}
	return nil
}

func reads(s *pebble.Store, sample []string, end time.Time, print bool, reads int) error {
	ctx := context.Background()
	var lat []time.Duration
	events := 0
	for _, id := range sample {
		t0 := time.Now()
		recs, err := s.GetTrace(ctx, id, pebble.MaxTraceEvents)
		if err != nil {
			return err
		}
		lat = append(lat, time.Since(t0))
		events += len(recs)
	}
	if print {
		fmt.Printf("engine=hotpath GetTrace (%d traces, %.1f events each) %s\n", len(sample), float64(events)/float64(len(sample)), percentiles(lat))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, order := range []collector.Order{collector.SlowestFirst, collector.NewestFirst} {
		lat = lat[:0]
		got := 0
		for range reads / 5 {
			q := collector.TransactionQuery{Service: services[r.IntN(len(services))], Name: endpoints[r.IntN(len(endpoints))],
				From: end.Add(-24 * time.Hour), To: end, Order: order, Limit: 50}
			t0 := time.Now()
			p, err := s.Transactions(ctx, q)
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
			got += len(p.Transactions)
		}
		name := map[collector.Order]string{collector.SlowestFirst: "50 slowest of an endpoint in 24h", collector.NewestFirst: "50 newest of an endpoint in 24h"}[order]
		if print {
			fmt.Printf("engine=hotpath %s (%d queries, %d rows) %s\n", name, len(lat), got, percentiles(lat))
		}
	}
	return nil
}

func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "n/a"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	p := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return fmt.Sprintf("p50=%v p99=%v max=%v", p(0.5).Round(time.Microsecond), p(0.99).Round(time.Microsecond), s[len(s)-1].Round(time.Microsecond))
}
