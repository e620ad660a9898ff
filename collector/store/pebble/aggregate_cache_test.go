package pebble

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// aggValues returns every aggregate key of s with its value.
func aggValues(t *testing.T, s *Store) map[string][]byte {
	t.Helper()
	it, err := s.iter(context.Background(), ksAgg)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := map[string][]byte{}
	for it.First(); it.Valid(); it.Next() {
		out[string(it.Key())] = bytes.Clone(it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

// cacheMix is a batch for the aggregate cache's tests: traces of the generator, breakdowns of a few
// span types, Elasticsearch calls of a few shapes with durations that make the examples change, an
// endpoint whose transaction type changes, failures, and events from minutes and an hour before.
func cacheMix(g *gen, r *rand.Rand, now time.Time) collector.Batch {
	b := g.batch(60, 3)
	types := []string{"db", "external", "app", "template"}
	statements := []string{`{"query":{"match":{"title":"shoes"}}}`, `{"query":{"term":{"id":1}}}`, `{"size":0,"aggs":{"b":{"terms":{"field":"brand"}}}}`}
	for i := range 20 {
		ts := now.Add(-time.Duration(r.IntN(5)) * time.Minute)
		if i == 0 {
			ts = now.Add(-time.Hour - time.Minute) // a late event, in a minute long gone
		}
		b = append(b, breakdownEvent("svc-a", "GET /search", ts, types[r.IntN(len(types))], "", 1+r.Int64N(3), time.Duration(r.IntN(5000))*time.Microsecond))
		outcome := "success"
		if r.IntN(5) == 0 {
			outcome = "failure"
		}
		b = append(b, esSpan("svc-a", fmt.Sprintf("%016x", r.Uint64()), statements[r.IntN(len(statements))], ts,
			time.Duration(1+r.IntN(200))*time.Millisecond, float64(r.IntN(100)), outcome, false))
		tx := aggTx("svc-a", "GET /search", ts, time.Duration(1+r.IntN(900))*time.Millisecond, outcome, 1)
		tx.Service.Version = []string{"1.4.2", "1.5.0"}[r.IntN(2)]
		tx.Transaction.Type = []string{"request", "messaging"}[r.IntN(2)]
		b = append(b, tx)
	}
	return b
}

// The writer's cached aggregates write what reading each value back from the database writes: two
// stores given the same batches, one with the cache and one without, hold the same aggregate values,
// byte for byte, through many group commits and a change of partition.
func TestAggregateCacheWritesWhatTheDatabaseWould(t *testing.T) {
	clk := newClock(t0)
	cached := openTest(t, Config{Now: clk.Now})
	uncached := openTest(t, Config{Now: clk.Now, noAggCache: true})
	g1, g2 := newGen(7, t0), newGen(7, t0)
	r1, r2 := rand.New(rand.NewPCG(3, 3)), rand.New(rand.NewPCG(3, 3))
	for i := range 40 {
		if i == 25 {
			clk.Add(time.Hour) // a new partition
		}
		mustProcess(t, cached, cacheMix(g1, r1, clk.Now()))
		mustProcess(t, uncached, cacheMix(g2, r2, clk.Now()))
	}
	if n := len(cached.agg.cache.m); n == 0 {
		t.Fatal("the cache holds nothing: the test does not exercise it")
	}
	if n := len(uncached.agg.cache.m); n != 0 {
		t.Fatalf("the store without the cache holds %d values", n)
	}
	want, got := aggValues(t, uncached), aggValues(t, cached)
	if len(want) < 50 {
		t.Fatalf("only %d aggregate keys", len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Errorf("key %q: cached %x, read back %x", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("key %q only with the cache", k)
		}
	}
}

// A group commit that fails after it added to the cached values leaves nothing of its own in them:
// the next commit's values are those of the commits applied.
func TestAggregateCacheForgetsAFailedCommit(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	ts := t0.Add(-10 * time.Minute)
	one := func() collector.Event { return aggTx("svc", "GET /a", ts, 5*time.Millisecond, "success", 1) }
	mustProcess(t, s, collector.Batch{one()}) // the endpoint's value is cached
	// A shape value the writer cannot decode makes the next commit fail after it added its
	// transaction to the cached endpoint value.
	span := esSpan("svc", "00f067aa0ba902b7", `{"query":{"match":{"title":"x"}}}`, ts.Add(-time.Hour), time.Millisecond, 1, "success", false)
	mustProcess(t, s, collector.Batch{span})
	var bad []string
	for k := range aggValues(t, s) {
		if k[5+len(appendEscaped(nil, "svc"))] == aggShapeMinute {
			bad = append(bad, k)
		}
	}
	if len(bad) != 1 {
		t.Fatalf("%d shape keys", len(bad))
	}
	s.agg.cache.reset() // as after a restart: the shape value is read from the database
	if err := s.db.Set([]byte(bad[0]), []byte{aggFormat, 0xff}, pebbledb.NoSync); err != nil {
		t.Fatal(err)
	}
	b := collector.Batch{one(), span}
	if err := s.ProcessBatch(context.Background(), &b); err == nil {
		t.Fatal("a commit over a bad aggregate value succeeded")
	}
	if err := s.db.Delete([]byte(bad[0]), pebbledb.NoSync); err != nil {
		t.Fatal(err)
	}
	mustProcess(t, s, collector.Batch{one()})
	got, err := s.EndpointAggregates(context.Background(), "svc", ts.Add(-time.Minute), ts.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n := got["GET /a"].Count; n != 2 {
		t.Fatalf("count %d after two applied commits and a failed one, want 2", n)
	}
}

// A commit keeps, of each examples key's inputs, those a stable sort of all of them (slowest, then
// oldest, first) puts first, and merges them with the examples kept before as a stable sort of its own
// followed by those would: ties included, which the durations below make many of.
func TestShapeExampleKeyKeepsTheSlowest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := range 200 {
		n := r.IntN(40)
		ins := make([]shapeInput, n)
		for i := range ins {
			ins[i] = shapeInput{micros: int64(r.IntN(4)), unixNanos: int64(r.IntN(3))}
		}
		var x shapeExampleKey
		want := make([]int, n)
		for i := range ins {
			x.offer(shapeCandidate{in: &ins[i]})
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int {
			return slowerFirst(ins[a].micros, ins[a].unixNanos, ins[b].micros, ins[b].unixNanos)
		})
		top := want[:min(n, shapeExamples)]
		if x.n != len(top) {
			t.Fatalf("trial %d: kept %d of %d, want %d", trial, x.n, n, len(top))
		}
		for i, w := range top {
			if x.top[i].in != &ins[w] {
				t.Fatalf("trial %d: example %d is input %v, want input %d", trial, i, x.top[i].in, w)
			}
		}
		// Merged with the examples kept before (sorted, at most five): as a stable sort of all the
		// commit's inputs followed by the kept ones.
		kept := make([]shapeExample, r.IntN(shapeExamples+1))
		for i := range kept {
			kept[i] = shapeExample{micros: int64(r.IntN(4)), unixNanos: int64(r.IntN(3))}
		}
		slices.SortStableFunc(kept, func(a, b shapeExample) int { return slowerFirst(a.micros, a.unixNanos, b.micros, b.unixNanos) })
		type item struct {
			micros, nanos int64
			commit, i     int // commit 1: ins[i]; 0: kept[i]
		}
		var all []item
		for i := range ins {
			all = append(all, item{ins[i].micros, ins[i].unixNanos, 1, i})
		}
		for i, k := range kept {
			all = append(all, item{k.micros, k.unixNanos, 0, i})
		}
		slices.SortStableFunc(all, func(a, b item) int { return slowerFirst(a.micros, a.nanos, b.micros, b.nanos) })
		all = all[:min(len(all), shapeExamples)]
		refs := x.merge(kept, nil)
		if len(refs) != len(all) {
			t.Fatalf("trial %d: merged %d, want %d", trial, len(refs), len(all))
		}
		for i, it := range all {
			rf := refs[i]
			switch {
			case it.commit == 1 && (rf.i >= shapeExamples || x.top[rf.i].in != &ins[it.i]):
				t.Fatalf("trial %d: merged %d is %+v, want input %d", trial, i, rf, it.i)
			case it.commit == 0 && rf.i != shapeExamples+it.i:
				t.Fatalf("trial %d: merged %d is %+v, want kept %d", trial, i, rf, it.i)
			}
		}
	}
}

// The cache's memory is bounded: shapes whose examples hold long statements fill it past
// aggCacheBytes, and it is emptied rather than grown; what is written stays what reading each value
// back writes.
func TestAggregateCacheBounded(t *testing.T) {
	clk := newClock(t0)
	cached := openTest(t, Config{Now: clk.Now})
	uncached := openTest(t, Config{Now: clk.Now, noAggCache: true})
	long := strings.Repeat("x", maxExampleStatement)
	peak, resets := 0, 0
	for i := range 60 {
		var b collector.Batch
		for j := range 40 { // 40 new shapes a commit, each with an example of 10 KB
			stmt := fmt.Sprintf(`{"query":{"match":{"f%d_%d":%q}}}`, i, j, long)
			b = append(b, esSpan("svc", fmt.Sprintf("%016x", i*100+j), stmt, t0.Add(-time.Minute), time.Millisecond, 1, "success", false))
		}
		before := len(cached.agg.cache.m)
		mustProcess(t, cached, slices.Clone(b))
		mustProcess(t, uncached, b)
		if len(cached.agg.cache.m) < before {
			resets++
		}
		peak = max(peak, cached.agg.cache.bytes)
	}
	// One commit adds at most 40 examples of about 10 KB and 80 shape values above the bound.
	if limit := aggCacheBytes + 40*(maxExampleStatement+200+aggCacheOverhead) + 80*(1024+aggCacheOverhead); peak > limit {
		t.Fatalf("the cache held %d bytes, bound %d", peak, limit)
	}
	if resets == 0 {
		t.Fatalf("the cache was never emptied (peak %d bytes): the test does not reach the bound", peak)
	}
	want, got := aggValues(t, uncached), aggValues(t, cached)
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Fatalf("key %q differs with the cache", k)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d keys with the cache, %d without", len(got), len(want))
	}
}

// Idle entries leave at the sweep every aggCacheIdle commits: one last used exactly aggCacheIdle
// commits before the sweep stays, one used a commit earlier goes, and its size with it.
func TestAggregateCacheIdleEntriesLeave(t *testing.T) {
	var c aggCache
	c.begin(1) // commit 1
	c.m["old"] = &aggCached{used: c.commit, size: 100}
	c.bytes += 100
	for c.commit < aggCacheIdle {
		c.begin(1)
	}
	c.m["recent"] = &aggCached{used: c.commit, size: 200} // used at the first sweep's commit
	c.bytes += 200
	if _, ok := c.m["old"]; !ok {
		t.Fatalf("an entry used %d commits before the sweep was dropped", aggCacheIdle-1)
	}
	for c.commit < 2*aggCacheIdle {
		c.begin(1)
	}
	if _, ok := c.m["old"]; ok {
		t.Fatalf("an entry unused for %d commits survived the sweep", 2*aggCacheIdle-1)
	}
	if _, ok := c.m["recent"]; !ok {
		t.Fatalf("an entry used exactly %d commits before the sweep was dropped", aggCacheIdle)
	}
	if c.bytes != 200 {
		t.Fatalf("the cache counts %d bytes, want 200", c.bytes)
	}
}

// The cache holds at most aggCacheMax entries: one commit touching more keys caches that many, and
// the values written are still those of reading each back.
func TestAggregateCacheEntriesBounded(t *testing.T) {
	clk := newClock(t0)
	cached := openTest(t, Config{Now: clk.Now})
	uncached := openTest(t, Config{Now: clk.Now, noAggCache: true})
	// Each name makes an endpoint key and a version key; the service makes two more.
	var b collector.Batch
	for i := range aggCacheMax/2 + 100 {
		tx := aggTx("svc", fmt.Sprintf("GET /e%d", i), t0.Add(-time.Minute), time.Millisecond, "success", 1)
		tx.Service.Version = "1.0"
		b = append(b, tx)
	}
	for range 2 { // the same keys again: the cache full, or emptied for its bytes
		mustProcess(t, cached, slices.Clone(b))
		mustProcess(t, uncached, slices.Clone(b))
		if n := len(cached.agg.cache.m); n != aggCacheMax {
			t.Fatalf("%d entries cached after a commit of %d keys, want %d", n, aggCacheMax+202, aggCacheMax)
		}
	}
	want, got := aggValues(t, uncached), aggValues(t, cached)
	if len(got) != len(want) || len(want) < aggCacheMax+200 {
		t.Fatalf("%d keys with the cache, %d without", len(got), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Fatalf("key %q differs with the cache", k)
		}
	}
}
