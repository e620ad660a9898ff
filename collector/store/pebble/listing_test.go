package pebble

import (
	"context"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// The duration index holds keys only and lists the summaries of the time index; entries written by
// earlier versions, which carry their own summary, are listed with it.
func TestDurationIndexKeysOnly(t *testing.T) {
	s := openTest(t, Config{})
	mustProcess(t, s, newGen(31, t0).batch(60, 2))
	slowest := func() []collector.TransactionSummary {
		t.Helper()
		var all []collector.TransactionSummary
		for _, svc := range services {
			p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: svc, Order: collector.SlowestFirst, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p.Transactions...)
		}
		return all
	}
	before := slowest()
	if len(before) == 0 {
		t.Fatal("no transactions listed")
	}
	it, err := s.iter(context.Background(), ksTxDur)
	if err != nil {
		t.Fatal(err)
	}
	var keys [][]byte
	for ok := it.First(); ok; ok = it.Next() {
		if len(it.Value()) != 0 {
			t.Fatalf("duration index entry %q has a value of %d bytes", it.Key(), len(it.Value()))
		}
		keys = append(keys, append([]byte(nil), it.Key()...))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(before) {
		t.Fatalf("%d duration index entries for %d transactions", len(keys), len(before))
	}
	// An entry as an earlier version wrote it: its own summary.
	old := collector.TransactionSummary{Name: "old", Type: "request", Result: "from the duration index", Duration: before[0].Duration}
	if err := s.db.Set(keys[0], appendTxSummaryEarlier(nil, &old), pebbledb.NoSync); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, ts := range slowest() {
		if ts.Result == old.Result {
			found++
		}
	}
	if found != 1 {
		t.Fatalf("the entry with its own summary listed %d times", found)
	}
}
