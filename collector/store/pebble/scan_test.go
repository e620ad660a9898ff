package pebble

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestScanLabel: every transaction of the service in the range, across names and partitions (read in
// parallel), once, with its name, outcome and the asked label's value (none for a transaction without
// it); none of another service or outside the range; a false stops every worker and an error is
// returned.
func TestScanLabel(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	start := t0.Add(-3 * time.Hour)
	type row struct {
		name, outcome, label string
		labelled             bool
		d                    time.Duration
	}
	var want []row
	for part := range 3 {
		var b collector.Batch
		for i := range 300 {
			ts := start.Add(time.Duration(i) * 20 * time.Second)
			d := time.Duration(part*1000+i+1) * time.Microsecond
			name, outcome := []string{"GET /a", "GET /b", "GET /c"}[i%3], []string{"success", "failure"}[i%5/4]
			e := aggTx([]string{"search", "indexer"}[i%2], name, ts, d, outcome, 1)
			r := row{name: name, outcome: outcome, d: d}
			if i%10 != 0 {
				r.label, r.labelled = []string{"es2", "es7"}[i%4/2], true
				e.Labels = []collector.Label{{Key: "tier", Value: "gold"}, {Key: "es_cluster", Value: r.label}}
			}
			b = append(b, e)
			if e.Service.Name == "search" && !ts.Before(start.Add(10*time.Minute)) && ts.Before(start.Add(150*time.Minute)) {
				want = append(want, r)
			}
		}
		mustProcess(t, s, b)
		clk.Add(time.Hour)
	}
	var (
		mu      sync.Mutex
		got     []row
		workers int
	)
	err := s.ScanLabel(context.Background(), "search", "es_cluster", start.Add(10*time.Minute), start.Add(150*time.Minute), func() func(*collector.LabelledTransaction) (bool, error) {
		mu.Lock()
		workers++
		mu.Unlock()
		return func(lt *collector.LabelledTransaction) (bool, error) {
			// The strings are views of the store's memory: kept, they are cloned.
			r := row{name: strings.Clone(lt.Name), outcome: strings.Clone(lt.Outcome), label: strings.Clone(lt.Label), labelled: lt.Labelled, d: lt.Duration}
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
			return true, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := min(runtime.GOMAXPROCS(0), 3); workers != want {
		t.Errorf("%d workers, want %d (GOMAXPROCS, at most one per partition)", workers, want)
	}
	byDuration := func(a, b row) int { return int(a.d - b.d) }
	slices.SortFunc(got, byDuration)
	slices.SortFunc(want, byDuration)
	if !slices.Equal(got, want) {
		t.Fatalf("scanned %d transactions, want %d; first %+v, want %+v", len(got), len(want), got[:min(3, len(got))], want[:3])
	}

	var n atomic.Int64
	if err := s.ScanLabel(context.Background(), "search", "es_cluster", time.Time{}, time.Time{}, func() func(*collector.LabelledTransaction) (bool, error) {
		return func(*collector.LabelledTransaction) (bool, error) { return n.Add(1) < 7, nil }
	}); err != nil || n.Load() < 7 || n.Load() > 7+int64(runtime.GOMAXPROCS(0)) {
		t.Errorf("stopped after %d calls (%v), want 7 and at most one more per other worker", n.Load(), err)
	}
	boom := errors.New("boom")
	if err := s.ScanLabel(context.Background(), "search", "es_cluster", time.Time{}, time.Time{}, func() func(*collector.LabelledTransaction) (bool, error) {
		return func(*collector.LabelledTransaction) (bool, error) { return true, boom }
	}); !errors.Is(err, boom) {
		t.Errorf("error %v, want fn's", err)
	}
	if err := s.ScanLabel(context.Background(), "", "es_cluster", time.Time{}, time.Time{}, nil); err == nil {
		t.Error("no service: no error")
	}
}
