package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// writeShapeHours writes, in each of hours ingest hours (a partition each), spans of a few shapes at
// random durations and tooks, timed in the hour they are ingested in and, now and then, late: an hour
// earlier.
func writeShapeHours(t *testing.T, s *Store, clk *clock, hours int) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	for h := range hours {
		var b collector.Batch
		for i := range 40 {
			ts := clk.Now().Add(-time.Duration(r.IntN(60)) * time.Minute)
			if i%10 == 0 {
				ts = ts.Add(-time.Hour)
			}
			q := fmt.Sprintf(`{"query":{"term":{"f%d":%d}}}`, r.IntN(4), i)
			d := time.Duration(1+r.ExpFloat64()*float64(5*time.Millisecond)) + time.Millisecond
			took := -1.0
			if r.IntN(3) > 0 {
				took = float64(d/2) / float64(time.Millisecond)
			}
			outcome := "success"
			if r.IntN(10) == 0 {
				outcome = "failure"
			}
			b = append(b, esSpan("search", fmt.Sprintf("h%di%d", h, i), q, ts, d, took, outcome, false))
		}
		mustProcess(t, s, b)
		clk.Add(time.Hour)
	}
}

// checkRowsAreDetails checks that each shape a listing of [from, to) gives is the one QueryShape gives
// over the range the listing covered: the same counts and percentiles, bucket for bucket.
func checkRowsAreDetails(t *testing.T, s *Store, from, to time.Time, wantShapes int) {
	t.Helper()
	ctx := context.Background()
	rows, from, to, err := s.QueryShapes(ctx, "search", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != wantShapes {
		t.Fatalf("%d shapes, want %d", len(rows), wantShapes)
	}
	for _, row := range rows {
		st, _, _, err := s.QueryShape(ctx, "search", row.Shape, from, to, 0)
		if err != nil {
			t.Fatal(err)
		}
		if want := st.Row(); row != want || row.Count == 0 || row.TookCount == 0 {
			t.Errorf("listing %+v\nshape   %+v", row, want)
		}
	}
}

// A listing's rows are its shapes' figures as one shape's read gives them, by minutes and by hours.
func TestQueryShapesRowsAreDetails(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	writeShapeHours(t, s, clk, 8)
	checkRowsAreDetails(t, s, t0.Add(-30*time.Minute), t0.Add(2*time.Hour), 4)                    // minutes
	checkRowsAreDetails(t, s, t0.Add(-2*time.Hour-17*time.Minute), t0.Add(9*time.Hour), 4)        // hours
	checkRowsAreDetails(t, s, t0.Add(90*time.Minute), t0.Add(90*time.Minute+HourlyShapesFrom), 4) // hours, not aligned
}

// A range of more partitions than a listing reads at once is read in groups, and its shapes' figures
// are those of the whole range.
func TestQueryShapesManyPartitions(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: -1})
	hours := maxListIterators + 6
	writeShapeHours(t, s, clk, hours)
	if n := len(s.parts.snapshot()); n < maxListIterators+1 {
		t.Fatalf("%d partitions", n)
	}
	checkRowsAreDetails(t, s, t0.Add(-2*time.Hour), t0.Add(time.Duration(hours)*time.Hour), 4)
}
