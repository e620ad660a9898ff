package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestVersionAggregates: the per-version aggregates of each transaction name hold exactly the
// transactions of that version (over batches written in different ingest hours, and after a reopen);
// transactions without a version are in none; Versions lists each version's first and last minute and
// count, the first seen first.
func TestVersionAggregates(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	r := rand.New(rand.NewPCG(15, 15))
	start := t0.Add(-3 * time.Hour)
	names := []string{"GET /search", "GET /suggest"}
	versions := []string{"1.4.2", "1.5.0", ""}
	all := writeRounds(t, s, clk, 3, time.Hour, func() collector.Batch {
		var b collector.Batch
		for range 1200 {
			ts := start.Add(time.Duration(r.Int64N(int64(3 * time.Hour))))
			ver := versions[r.IntN(len(versions))]
			if ver == "1.5.0" && ts.Before(start.Add(time.Hour)) {
				ver = "1.4.2" // 1.5.0 starts an hour in
			}
			e := aggTx([]string{"search", "indexer"}[r.IntN(2)], names[r.IntN(len(names))], ts,
				time.Duration(r.ExpFloat64()*float64(30*time.Millisecond)), []string{"success", "failure", "unknown"}[r.IntN(3)], 1)
			e.Service.Version = ver
			b = append(b, e)
		}
		return b
	})
	raw := func(svc, ver, name string, from, to time.Time) *rawAgg {
		return rawAggOf(all, from, to, func(e *collector.Event) bool {
			return e.Service.Name == svc && e.Service.Version == ver && (name == "" || e.Transaction.Name == name)
		})
	}
	check := func(t *testing.T, s *Store) {
		ctx := context.Background()
		from, to := start.Add(30*time.Minute), start.Add(150*time.Minute)
		for _, svc := range []string{"search", "indexer"} {
			for _, ver := range versions[:2] {
				eps, err := s.VersionAggregates(ctx, svc, ver, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if len(eps) != len(names) {
					t.Fatalf("%s %s: %d endpoints, want %d", svc, ver, len(eps), len(names))
				}
				for _, name := range names {
					raw(svc, ver, name, from, to).check(t, fmt.Sprintf("%s %s %s", svc, ver, name), eps[name])
				}
			}
			vs, err := s.Versions(ctx, svc, start, t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 2 || vs[0].Version != "1.4.2" || vs[1].Version != "1.5.0" {
				t.Fatalf("%s: versions %+v, want 1.4.2 then 1.5.0", svc, vs)
			}
			for _, v := range vs {
				first, last, n := time.Time{}, time.Time{}, int64(0)
				for _, e := range all {
					if e.Service.Name == svc && e.Service.Version == v.Version {
						m := e.Timestamp.Truncate(time.Minute)
						if first.IsZero() || m.Before(first) {
							first = m
						}
						if m.After(last) {
							last = m
						}
						n++
					}
				}
				if !v.First.Equal(first) || !v.Last.Equal(last) || v.Count != n {
					t.Errorf("%s %s: %v..%v %d, want %v..%v %d", svc, v.Version, v.First, v.Last, v.Count, first, last, n)
				}
			}
		}
		if vs, err := s.Versions(ctx, "nobody", start, t0); err != nil || len(vs) != 0 {
			t.Errorf("unknown service: %v, %v", vs, err)
		}
		if eps, err := s.VersionAggregates(ctx, "search", "0.0.1", start, t0); err != nil || len(eps) != 0 {
			t.Errorf("unknown version: %v, %v", eps, err)
		}
	}
	checkReopened(t, s, check)
}

func TestVersionQueryErrors(t *testing.T) {
	s := openTest(t, Config{Dir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.Versions(ctx, "", time.Time{}, time.Time{}); err == nil {
		t.Error("Versions without a service")
	}
	if _, err := s.VersionAggregates(ctx, "search", "", time.Time{}, time.Time{}); err == nil {
		t.Error("VersionAggregates without a version")
	}
	if _, err := s.VersionAggregates(ctx, "", "1.0", time.Time{}, time.Time{}); err == nil {
		t.Error("VersionAggregates without a service")
	}
}

// TestVersionBreakdown: breakdown metricsets count in their version's breakdown only (and in the
// service's, as before); a name selects one transaction name's.
func TestVersionBreakdown(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	ts := t0.Add(-30 * time.Minute)
	withVersion := func(e collector.Event, v string) collector.Event {
		e.Service.Version = v
		return e
	}
	mustProcess(t, s, collector.Batch{
		withVersion(breakdownEvent("search", "GET /search", ts, "db", "elasticsearch", 10, 600*time.Millisecond), "1.4.2"),
		withVersion(breakdownEvent("search", "GET /search", ts, "app", "", 10, 900*time.Millisecond), "1.4.2"),
		withVersion(breakdownEvent("search", "GET /search", ts, "db", "elasticsearch", 10, 500*time.Millisecond), "1.5.0"),
		withVersion(breakdownEvent("search", "GET /search", ts, "app", "", 10, 100*time.Millisecond), "1.5.0"),
		withVersion(breakdownEvent("search", "GET /other", ts, "db", "elasticsearch", 1, time.Second), "1.5.0"),
		breakdownEvent("search", "GET /search", ts, "db", "elasticsearch", 1, time.Hour), // no version
	})
	ctx := context.Background()
	for _, tc := range []struct {
		version, name string
		want          []collector.SpanTypeTime
	}{
		{"1.4.2", "GET /search", []collector.SpanTypeTime{{Type: "app", Count: 10, Sum: 900 * time.Millisecond},
			{Type: "db", Subtype: "elasticsearch", Count: 10, Sum: 600 * time.Millisecond}}},
		{"1.5.0", "GET /search", []collector.SpanTypeTime{{Type: "db", Subtype: "elasticsearch", Count: 10, Sum: 500 * time.Millisecond},
			{Type: "app", Count: 10, Sum: 100 * time.Millisecond}}},
		{"1.5.0", "", []collector.SpanTypeTime{{Type: "db", Subtype: "elasticsearch", Count: 11, Sum: 1500 * time.Millisecond},
			{Type: "app", Count: 10, Sum: 100 * time.Millisecond}}},
		{"2.0.0", "", []collector.SpanTypeTime{}},
	} {
		got, err := s.VersionBreakdown(ctx, "search", tc.version, tc.name, ts, ts.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q:\n got %+v\nwant %+v", tc.version, tc.name, got, tc.want)
		}
	}
	if _, err := s.VersionBreakdown(ctx, "search", "", "", ts, t0); err == nil {
		t.Error("VersionBreakdown without a version")
	}
}
