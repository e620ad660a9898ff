package pebble

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// aggTx is a transaction as the aggregate tests write it.
func aggTx(service, name string, ts time.Time, d time.Duration, outcome string, rep float64) collector.Event {
	e := collector.Event{Kind: collector.KindTransaction, Timestamp: ts, TraceID: fmt.Sprintf("%032x", ts.UnixNano()),
		Service: collector.Service{Name: service}, Event: collector.EventInfo{Duration: d, Outcome: outcome}}
	e.Transaction = &collector.Transaction{ID: fmt.Sprintf("%016x", ts.UnixNano()), Name: name, Type: "request", Sampled: true, RepresentativeCount: rep}
	return e
}

// exactPercentile is the value of rank max(1, round(p/100 * n)) in sorted (the rank HDR histograms
// report).
func exactPercentile(sorted []int64, p float64) int64 {
	rank := int64(p/100*float64(len(sorted)) + 0.5)
	rank = max(rank, 1)
	return sorted[rank-1]
}

type rawAgg struct {
	micros              []int64
	successes, failures int64
	sum                 int64
	rep                 float64
}

// rawAggOf counts in the transactions of events in [from, to) that keep selects.
func rawAggOf(events []collector.Event, from, to time.Time, keep func(*collector.Event) bool) *rawAgg {
	var a rawAgg
	for i := range events {
		e := &events[i]
		if keep(e) && !e.Timestamp.Before(from) && e.Timestamp.Before(to) {
			a.add(e)
		}
	}
	return &a
}

// add counts transaction e in.
func (r *rawAgg) add(e *collector.Event) {
	us := int64(e.Event.Duration / time.Microsecond)
	r.micros = append(r.micros, us)
	r.sum += us
	r.rep += e.Transaction.RepresentativeCount
	switch e.Event.Outcome {
	case "success":
		r.successes++
	case "failure":
		r.failures++
	}
}

func (r *rawAgg) check(t *testing.T, what string, a collector.Aggregate) {
	t.Helper()
	if a.Count != int64(len(r.micros)) || a.Successes != r.successes || a.Failures != r.failures ||
		a.Sum != time.Duration(r.sum)*time.Microsecond || math.Abs(a.Represented-r.rep) > 1e-6 {
		t.Fatalf("%s: count %d successes %d failures %d sum %v represented %v; want %d %d %d %v %v", what,
			a.Count, a.Successes, a.Failures, a.Sum, a.Represented, len(r.micros), r.successes, r.failures,
			time.Duration(r.sum)*time.Microsecond, r.rep)
	}
	if a.Latency.TotalCount() != int64(len(r.micros)) {
		t.Fatalf("%s: histogram holds %d values, want %d", what, a.Latency.TotalCount(), len(r.micros))
	}
	if len(r.micros) == 0 {
		return
	}
	sorted := slices.Clone(r.micros)
	slices.Sort(sorted)
	for _, p := range []float64{50, 95, 99, 100} {
		exact := min(max(exactPercentile(sorted, p), HistogramLowest), HistogramHighest)
		got := a.Latency.ValueAtPercentile(p)
		// The highest value equivalent to the exact one: never below it, at most 1% above.
		if got < exact || float64(got-exact) > float64(exact)/100 {
			t.Fatalf("%s: p%v = %d µs, exact %d µs", what, p, got, exact)
		}
	}
}

// TestAggregatesMatchTheTransactions writes transactions over three hours of event time, ingested over
// four hours (so minutes are split between partitions), and checks every aggregate, total and series,
// against the figures computed from the transactions themselves, before and after a reopen.
func TestAggregatesMatchTheTransactions(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	r := rand.New(rand.NewPCG(3, 3))
	start := t0.Add(-3 * time.Hour)
	// Names one the prefix of another, and with the key escape's bytes: a name's key ends where it ends.
	names := []string{"GET /search", "GET /suggest", "POST /index", "GET /s", "GET /search\x00", "GET /search\x00\x01"}
	var all []collector.Event
	for range 4 {
		var b collector.Batch
		for range 1500 {
			svc := []string{"search", "indexer"}[r.IntN(2)]
			name := names[r.IntN(len(names))]
			ts := start.Add(time.Duration(r.Int64N(int64(3 * time.Hour))))
			d := time.Duration(r.ExpFloat64()*float64(40*time.Millisecond)) + time.Duration(r.IntN(1000))
			if r.IntN(200) == 0 {
				d = 2 * time.Hour // counted at one hour
			}
			outcome := []string{"success", "success", "success", "failure", "unknown"}[r.IntN(5)]
			rep := 1.0
			if r.IntN(4) == 0 {
				rep = 2.5
			}
			b = append(b, aggTx(svc, name, ts, d, outcome, rep))
		}
		for i := 0; i < len(b); i += 250 {
			mustProcess(t, s, b[i:min(i+250, len(b))])
		}
		all = append(all, b...)
		clk.Add(time.Hour)
	}

	raw := func(svc, name string, from, to time.Time) *rawAgg {
		return rawAggOf(all, from, to, func(e *collector.Event) bool {
			return e.Service.Name == svc && (name == "" || e.Transaction.Name == name)
		})
	}
	check := func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, svc := range []string{"search", "indexer", "nobody"} {
			for _, name := range append([]string{""}, names...) {
				for _, rng := range [][2]time.Time{
					{start, t0},
					{start.Add(17 * time.Minute), start.Add(93 * time.Minute)},
					{{}, {}},
				} {
					what := fmt.Sprintf("%s %q %v..%v", svc, name, rng[0], rng[1])
					res, err := s.TransactionAggregate(ctx, collector.AggregateQuery{Service: svc, Name: name, From: rng[0], To: rng[1]})
					if err != nil {
						t.Fatal(what, err)
					}
					to := rng[1]
					if to.IsZero() {
						to = t0.Add(time.Hour)
					}
					raw(svc, name, rng[0], to).check(t, what, res.Total)
					if name != "" && res.Total.Count > 0 && res.Total.Type != "request" {
						t.Fatalf("%s: type %q", what, res.Total.Type)
					}
				}
			}
		}
		// A series of 10-minute points over the three hours.
		res, err := s.TransactionAggregate(ctx, collector.AggregateQuery{Service: "search", Name: "GET /search",
			From: start.Add(5 * time.Minute), To: t0, Interval: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Series) != 18 {
			t.Fatalf("%d points, want 18", len(res.Series))
		}
		for i, pt := range res.Series {
			want := start.Add(time.Duration(i) * 10 * time.Minute)
			if !pt.Start.Equal(want) {
				t.Fatalf("point %d starts at %v, want %v", i, pt.Start, want)
			}
			from := pt.Start
			if i == 0 {
				from = start.Add(5 * time.Minute)
			}
			raw("search", "GET /search", from, pt.Start.Add(10*time.Minute)).check(t, fmt.Sprintf("point %d", i), pt.Aggregate)
		}
		// Every endpoint at once.
		eps, err := s.EndpointAggregates(ctx, "indexer", start.Add(time.Hour), t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) != len(names) {
			t.Fatalf("%d endpoints", len(eps))
		}
		for _, name := range names {
			raw("indexer", name, start.Add(time.Hour), t0).check(t, "endpoints "+name, eps[name])
		}
	}
	checkReopened(t, s, check)
}

// TestAggregateMinuteBoundaries: a range is widened to whole minutes, and the minute of To counts
// only when To is past its start.
func TestAggregateMinuteBoundaries(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	m := t0.Add(-10 * time.Minute)
	mustProcess(t, s, collector.Batch{
		aggTx("svc", "a", m.Add(-time.Nanosecond), time.Millisecond, "success", 1), // the minute before
		aggTx("svc", "a", m, 2*time.Millisecond, "success", 1),
		aggTx("svc", "a", m.Add(59*time.Second), 3*time.Millisecond, "success", 1),
		aggTx("svc", "a", m.Add(time.Minute), 4*time.Millisecond, "success", 1), // the minute after
	})
	for _, c := range []struct {
		from, to time.Time
		want     int64
	}{
		{m, m.Add(time.Minute), 2},
		{m.Add(30 * time.Second), m.Add(31 * time.Second), 2},
		{m, m.Add(time.Minute + time.Nanosecond), 3},
		{m.Add(-time.Nanosecond), m.Add(time.Minute), 3},
		{m.Add(time.Minute), m, 0},
	} {
		res, err := s.TransactionAggregate(context.Background(), collector.AggregateQuery{Service: "svc", Name: "a", From: c.from, To: c.to})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Count != c.want {
			t.Errorf("%v..%v: %d transactions, want %d", c.from, c.to, res.Total.Count, c.want)
		}
	}
}

func TestAggregateQueryErrors(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	ctx := context.Background()
	for _, q := range []collector.AggregateQuery{
		{},
		{Service: "a", From: t0.Add(-time.Hour), Interval: 90 * time.Second},
		{Service: "a", Interval: time.Minute},
		{Service: "a", From: t0.Add(-10001 * time.Minute), To: t0, Interval: time.Minute},
	} {
		if _, err := s.TransactionAggregate(ctx, q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
	// The boundary: 10,000 points are allowed.
	res, err := s.TransactionAggregate(ctx, collector.AggregateQuery{Service: "a", From: t0.Add(-10000 * time.Minute), To: t0, Interval: time.Minute})
	if err != nil || len(res.Series) != 10000 {
		t.Fatal(err, len(res.Series))
	}
	if _, err := s.EndpointAggregates(ctx, "", time.Time{}, time.Time{}); err == nil {
		t.Error("EndpointAggregates without a service: no error")
	}
	if _, err := s.Breakdown(ctx, "", "", time.Time{}, time.Time{}); err == nil {
		t.Error("Breakdown without a service: no error")
	}
}

func breakdownEvent(service, name string, ts time.Time, typ, subtype string, count int64, sum time.Duration) collector.Event {
	return collector.Event{Kind: collector.KindMetricset, Timestamp: ts, Service: collector.Service{Name: service},
		Metricset:   &collector.Metricset{Name: "span_breakdown"},
		Transaction: &collector.Transaction{Name: name, Type: "request"},
		Span:        &collector.Span{Type: typ, Subtype: subtype, SelfTime: &collector.AggregatedDuration{Count: count, Sum: sum}}}
}

func TestBreakdown(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	ts := t0.Add(-30 * time.Minute)
	mustProcess(t, s, collector.Batch{
		breakdownEvent("search", "GET /search", ts, "db", "elasticsearch", 10, 600*time.Millisecond),
		breakdownEvent("search", "GET /search", ts, "app", "", 10, 100*time.Millisecond),
		breakdownEvent("search", "GET /search", ts.Add(time.Minute), "external", "http", 5, 300*time.Millisecond),
		breakdownEvent("search", "GET /other", ts, "db", "elasticsearch", 1, time.Second),
		breakdownEvent("search", "GET /search", ts.Add(-time.Hour), "db", "elasticsearch", 1, time.Hour), // out of range
		aggTx("search", "GET /search", ts, time.Second, "success", 1),                                    // not a breakdown
	})
	clk.Add(time.Hour) // the next commit goes to the next partition: the same minute in two partitions
	mustProcess(t, s, collector.Batch{
		breakdownEvent("search", "GET /search", ts, "db", "elasticsearch", 2, 200*time.Millisecond),
	})
	ctx := context.Background()
	got, err := s.Breakdown(ctx, "search", "GET /search", ts, ts.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []collector.SpanTypeTime{
		{Type: "db", Subtype: "elasticsearch", Count: 12, Sum: 800 * time.Millisecond},
		{Type: "external", Subtype: "http", Count: 5, Sum: 300 * time.Millisecond},
		{Type: "app", Count: 10, Sum: 100 * time.Millisecond},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("breakdown\n got %+v\nwant %+v", got, want)
	}
	got, err = s.Breakdown(ctx, "search", "", ts, ts.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Sum != 1800*time.Millisecond || got[0].Count != 13 {
		t.Fatalf("breakdown of the service: %+v", got)
	}
	if got, err := s.Breakdown(ctx, "search", "GET /nothing", time.Time{}, time.Time{}); err != nil || len(got) != 0 {
		t.Fatal(got, err)
	}
}

// TestAggregatesRetention: the aggregates of a dropped partition go with its events.
func TestAggregatesRetention(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: 2 * time.Hour})
	ts := t0.Add(-time.Minute)
	mustProcess(t, s, collector.Batch{aggTx("svc", "a", ts, time.Millisecond, "success", 1),
		breakdownEvent("svc", "a", ts, "db", "", 1, time.Millisecond)})
	clk.Add(time.Hour)
	mustProcess(t, s, collector.Batch{aggTx("svc", "a", ts, time.Millisecond, "success", 1)})
	count := func() int64 {
		res, err := s.TransactionAggregate(context.Background(), collector.AggregateQuery{Service: "svc", Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total.Count
	}
	if n := count(); n != 2 {
		t.Fatalf("%d transactions before retention", n)
	}
	clk.Add(150 * time.Minute) // the first hour is now older than MaxAge, the second is not
	mustProcess(t, s, collector.Batch{aggTx("svc", "b", t0, time.Millisecond, "success", 1)})
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d transactions after retention dropped the first hour, want 1", n)
	}
	if bd, err := s.Breakdown(context.Background(), "svc", "a", time.Time{}, time.Time{}); err != nil || len(bd) != 0 {
		t.Fatalf("breakdown after retention: %+v %v", bd, err)
	}
}

// TestAggregateReadsRefuseBadValues: a stored aggregate that does not decode, or a key of the wrong
// shape, makes every read of it fail with an error naming the key, rather than a wrong figure.
func TestAggregateReadsRefuseBadValues(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	ts := t0.Add(-time.Minute)
	mustProcess(t, s, collector.Batch{aggTx("svc", "a", ts, time.Millisecond, "success", 1),
		breakdownEvent("svc", "a", ts, "db", "", 1, time.Millisecond)})
	ctx := context.Background()
	reads := map[string]func() error{
		"service": func() error {
			_, err := s.TransactionAggregate(ctx, collector.AggregateQuery{Service: "svc"})
			return err
		},
		"name": func() error {
			_, err := s.TransactionAggregate(ctx, collector.AggregateQuery{Service: "svc", Name: "a"})
			return err
		},
		"endpoints": func() error { _, err := s.EndpointAggregates(ctx, "svc", time.Time{}, time.Time{}); return err },
		"breakdown": func() error { _, err := s.Breakdown(ctx, "svc", "", time.Time{}, time.Time{}); return err },
		"breakdown of a name": func() error {
			_, err := s.Breakdown(ctx, "svc", "a", time.Time{}, time.Time{})
			return err
		},
	}
	check := func(what string) {
		t.Helper()
		for name, read := range reads {
			if err := read(); err == nil || !strings.Contains(err.Error(), "aggregate") {
				t.Errorf("%s, %s: %v", what, name, err)
			}
		}
	}
	it, err := s.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{ksAgg}, UpperBound: []byte{ksAgg + 1}})
	if err != nil {
		t.Fatal(err)
	}
	var keys [][]byte
	for it.First(); it.Valid(); it.Next() {
		keys = append(keys, bytes.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("%d aggregate keys, want 3 (service, name, breakdown)", len(keys))
	}
	for _, k := range keys {
		if err := s.db.Set(k, []byte{aggFormat + 1}, pebbledb.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	check("values of an unknown format")
	if _, err := s.TransactionAggregate(ctx, collector.AggregateQuery{Service: "svc", From: ts, Interval: time.Minute}); err == nil ||
		!strings.Contains(err.Error(), "aggregate") {
		t.Errorf("values of an unknown format, series: %v", err)
	}
	for _, k := range keys { // each key, its minute cut short
		if err := s.db.Delete(k, pebbledb.NoSync); err != nil {
			t.Fatal(err)
		}
		if err := s.db.Set(k[:len(k)-3], []byte{aggFormat}, pebbledb.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	check("keys without a whole minute")
}

// TestInternedTypesBounded: the writer keeps one copy of each transaction type up to maxInternedTypes,
// and past that still returns the type, without keeping it.
func TestInternedTypesBounded(t *testing.T) {
	var w aggWriter
	for i := range maxInternedTypes + 1 {
		typ := fmt.Sprintf("type%d", i)
		if got := w.intern([]byte(typ)); got != typ {
			t.Fatalf("intern(%q) = %q", typ, got)
		}
	}
	if len(w.types) != maxInternedTypes {
		t.Fatalf("%d types kept, at most %d", len(w.types), maxInternedTypes)
	}
	kept, over := []byte(fmt.Sprintf("type%d", maxInternedTypes-1)), []byte(fmt.Sprintf("type%d", maxInternedTypes))
	if n := testing.AllocsPerRun(10, func() { w.intern(kept) }); n != 0 {
		t.Errorf("interning a kept type: %v allocations", n)
	}
	if n := testing.AllocsPerRun(10, func() { w.intern(over) }); n != 1 {
		t.Errorf("a type past the bound: %v allocations, want 1 (a copy not kept)", n)
	}
}

func TestTransactionLabels(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	var b collector.Batch
	for i := range 6 {
		e := aggTx("svc", "a", t0.Add(-time.Duration(i)*time.Second), time.Duration(i+1)*time.Millisecond, "success", 1)
		e.Labels = []collector.Label{{Key: "region", Value: "eu", Global: true}, {Key: "team", Value: "search"}}
		if i%2 == 0 {
			e.Labels = append(e.Labels, collector.Label{Key: "slow", Value: "true", Bool: true})
		}
		e.NumericLabels = []collector.NumericLabel{{Key: "shard", Value: float64(i % 3)}}
		b = append(b, e)
	}
	long := aggTx("svc", "a", t0.Add(-time.Minute), time.Millisecond, "success", 1)
	for i := range maxSummaryLabels + 1 {
		long.Labels = append(long.Labels, collector.Label{Key: fmt.Sprint("k", i), Value: string(make([]byte, maxSummaryLabelValue+1))})
	}
	b = append(b, long)
	mustProcess(t, s, b)
	list := func(labels ...collector.SummaryLabel) []time.Duration {
		p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: "svc", Order: collector.SlowestFirst, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Duration
		for _, ts := range p.Transactions {
			out = append(out, ts.Duration)
		}
		return out
	}
	ms := time.Millisecond
	for _, c := range []struct {
		labels []collector.SummaryLabel
		want   []time.Duration
	}{
		{[]collector.SummaryLabel{{Key: "slow", Value: "true"}}, []time.Duration{5 * ms, 3 * ms, ms}},
		{[]collector.SummaryLabel{{Key: "slow", Value: "true"}, {Key: "shard", Value: "1"}}, []time.Duration{5 * ms}},
		{[]collector.SummaryLabel{{Key: "team", Value: "search"}, {Key: "shard", Value: "2"}}, []time.Duration{6 * ms, 3 * ms}},
		{[]collector.SummaryLabel{{Key: "region", Value: "eu"}}, nil}, // global labels are not kept
		{[]collector.SummaryLabel{{Key: "slow", Value: "false"}}, nil},
	} {
		if got := list(c.labels...); !slices.Equal(got, c.want) {
			t.Errorf("labels %v: %v, want %v", c.labels, got, c.want)
		}
	}
	p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: "svc", Order: collector.OldestFirst, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	ls := p.Transactions[0].Labels
	if len(ls) != maxSummaryLabels || len(ls[0].Value) != maxSummaryLabelValue {
		t.Fatalf("%d labels kept of %d, first value %d bytes", len(ls), maxSummaryLabels+1, len(ls[0].Value))
	}
}

func TestLatencyCodecRoundTrip(t *testing.T) {
	c := latencyCounts{count: 7, successes: 3, failures: 2, sumMicros: 1e9, represented: 21, typ: "request"}
	h := newHistogram()
	for _, us := range []int64{0, 1, 999, 1000, 1234567, HistogramHighest, HistogramHighest * 3} {
		_ = h.RecordValue(clampMicros(us))
	}
	var got latencyCounts
	gotH := newHistogram()
	if err := decodeLatency(appendLatency(nil, &c, h), &got, gotH); err != nil {
		t.Fatal(err)
	}
	if got != c || gotH.TotalCount() != 7 || gotH.Max() != h.Max() || gotH.Min() != h.Min() {
		t.Fatalf("round trip: %+v -> %+v", c, got)
	}
	for _, bad := range [][]byte{nil, {2}, {aggFormat}, appendLatency(nil, &c, h)[:20]} {
		if err := decodeLatency(bad, &latencyCounts{}, newHistogram()); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
	var bd spanTypes
	bd.add([]byte("db"), []byte("elasticsearch"), 3, 1000)
	bd.add([]byte("app"), nil, 1, 10)
	bd.add([]byte("db"), []byte("elasticsearch"), 1, 500)
	var gotBD spanTypes
	if err := decodeBreakdown(appendBreakdown(nil, bd), &gotBD); err != nil || !reflect.DeepEqual(gotBD, bd) ||
		gotBD[0].Count != 4 || gotBD[0].Sum != 1500*time.Microsecond {
		t.Fatalf("breakdown round trip: %+v -> %+v (%v)", bd, gotBD, err)
	}
}

// FuzzAggregateDecode: stored aggregate values that are not what the writer wrote never make the
// decoders panic (a bucket outside the histogram's range, a truncated or overlong value: an error). It
// checks nothing more: a value the writer never produces (repeated buckets whose counts overflow) may
// decode without an error.
func FuzzAggregateDecode(f *testing.F) {
	h := newHistogram()
	_ = h.RecordValue(1500)
	_ = h.RecordValue(90000)
	f.Add(appendLatency(nil, &latencyCounts{count: 2, successes: 1, failures: 1, sumMicros: 91500, represented: 2, typ: "request"}, h))
	var bd spanTypes
	bd.add([]byte("db"), []byte("elasticsearch"), 3, 1000)
	f.Add(appendBreakdown(nil, bd))
	f.Add(appendShapeAgg(nil, &shapeCounts{count: 2, sumMicros: 91500, tookCount: 1, dbType: "sql", summary: "SELECT ?"}, h, h))
	f.Add(appendShapeExamples(nil, []shapeExample{{micros: 90000, unixNanos: 1, traceID: "t", txID: "x", spanID: "s", statement: "SELECT 1"}}))
	f.Fuzz(func(t *testing.T, v []byte) {
		_ = decodeLatency(v, &latencyCounts{}, newDenseHistogram())
		var d spanTypes
		_ = decodeBreakdown(v, &d)
		_ = decodeShapeAgg(v, &shapeCounts{}, newDenseHistogram(), newDenseHistogram())
		var xs []shapeExample
		_ = decodeShapeExamples(v, &xs, 3)
		if len(xs) > 3 || !slices.IsSortedFunc(xs, func(a, b shapeExample) int { return slowerFirst(a.micros, a.unixNanos, b.micros, b.unixNanos) }) {
			t.Fatalf("examples %+v: more than 3, or not slowest first", xs)
		}
	})
}
