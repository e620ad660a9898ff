package pebble

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestScanTransactions: every transaction of the service in the range, across names and partitions,
// once, with its labels; none of another service or outside the range; fn's false stops the scan and
// its error is returned.
func TestScanTransactions(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	start := t0.Add(-2 * time.Hour)
	var want []time.Duration
	for part := range 2 {
		var b collector.Batch
		for i := range 300 {
			ts := start.Add(time.Duration(i) * 20 * time.Second)
			d := time.Duration(part*1000+i+1) * time.Microsecond
			e := aggTx([]string{"search", "indexer"}[i%2], []string{"GET /a", "GET /b", "GET /c"}[i%3], ts, d, "success", 1)
			e.Labels = []collector.Label{{Key: "es_cluster", Value: []string{"es2", "es7"}[i%4/2]}}
			b = append(b, e)
			if e.Service.Name == "search" && !ts.Before(start.Add(10*time.Minute)) && ts.Before(start.Add(90*time.Minute)) {
				want = append(want, d)
			}
		}
		mustProcess(t, s, b)
		clk.Add(time.Hour)
	}
	var got []time.Duration
	err := s.ScanTransactions(context.Background(), "search", start.Add(10*time.Minute), start.Add(90*time.Minute), func(ts *collector.TransactionSummary) (bool, error) {
		if ts.Service != "search" || len(ts.Labels) != 1 || ts.Labels[0].Key != "es_cluster" {
			t.Fatalf("summary %+v", ts)
		}
		got = append(got, ts.Duration)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("scanned %d transactions, want %d", len(got), len(want))
	}
	n := 0
	if err := s.ScanTransactions(context.Background(), "search", time.Time{}, time.Time{}, func(*collector.TransactionSummary) (bool, error) {
		n++
		return n < 7, nil
	}); err != nil || n != 7 {
		t.Errorf("stopped after %d (%v), want 7", n, err)
	}
	boom := errors.New("boom")
	if err := s.ScanTransactions(context.Background(), "search", time.Time{}, time.Time{}, func(*collector.TransactionSummary) (bool, error) {
		return true, boom
	}); !errors.Is(err, boom) {
		t.Errorf("error %v, want fn's", err)
	}
	if err := s.ScanTransactions(context.Background(), "", time.Time{}, time.Time{}, nil); err == nil {
		t.Error("no service: no error")
	}
}
