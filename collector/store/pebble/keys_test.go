package pebble

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The index keys sort by service, then name, then time: escaping must keep string order and end each
// string unambiguously, whatever bytes names contain.
func TestEscapedStringsKeepOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, 0xff, 'a', 'b'}
	str := func() string {
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		a1, a2, b1, b2 := str(), str(), str(), str()
		ka := appendEscaped(appendEscaped(nil, a1), a2)
		kb := appendEscaped(appendEscaped(nil, b1), b2)
		want := 0
		switch {
		case a1 < b1 || (a1 == b1 && a2 < b2):
			want = -1
		case a1 > b1 || (a1 == b1 && a2 > b2):
			want = 1
		}
		if got := bytes.Compare(ka, kb); got != want {
			t.Fatalf("(%q,%q) vs (%q,%q): compare %d, want %d", a1, a2, b1, b2, got, want)
		}
		s, rest, ok := readEscaped(ka)
		if !ok || s != a1 {
			t.Fatalf("readEscaped(%q) = %q, %v", ka, s, ok)
		}
		if rest2, ok := skipEscaped(ka); !ok || !bytes.Equal(rest2, rest) {
			t.Fatalf("skipEscaped(%q) = %q, %v; want %q", ka, rest2, ok, rest)
		}
		if s2, _, ok := readEscaped(rest); !ok || s2 != a2 {
			t.Fatalf("second string of %q = %q, %v", ka, s2, ok)
		}
	}
}

func TestNamesWithAwkwardBytes(t *testing.T) {
	s := openTest(t, Config{})
	now := time.Now()
	var b collector.Batch
	for i, svc := range []string{"a", "a\x00", "a\x00b", "a\x01"} {
		b = append(b, collector.Event{Kind: collector.KindTransaction, Timestamp: now, TraceID: "t",
			Service:     collector.Service{Name: svc},
			Event:       collector.EventInfo{Duration: time.Duration(i+1) * time.Millisecond},
			Transaction: &collector.Transaction{ID: "x", Name: "GET /\x00" + svc, Type: "request"}})
	}
	mustProcess(t, s, b)
	svcs, err := s.Services(context.Background(), time.Time{}, time.Time{})
	if err != nil || !slices.Equal(svcs, []string{"a", "a\x00", "a\x00b", "a\x01"}) {
		t.Fatalf("services %q %v", svcs, err)
	}
	for i, svc := range svcs {
		p, err := s.Transactions(context.Background(), collector.TransactionQuery{Service: svc})
		if err != nil || len(p.Transactions) != 1 || p.Transactions[0].Name != "GET /\x00"+svc || p.Transactions[0].Duration != time.Duration(i+1)*time.Millisecond {
			t.Fatalf("transactions of %q: %+v %v", svc, p.Transactions, err)
		}
		eps, err := s.EndpointAggregates(context.Background(), svc, time.Time{}, time.Time{})
		if a, ok := eps["GET /\x00"+svc]; err != nil || len(eps) != 1 || !ok || a.Count != 1 {
			t.Fatalf("endpoints of %q: %v %v", svc, eps, err)
		}
	}
}

// TestTransactionsOldestFirstPages pages through a service's transactions over three hourly partitions,
// oldest first, a small page at a time: every transaction once, in order.
func TestTransactionsOldestFirstPages(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	g := newGen(15, t0)
	want := 0
	for _, e := range writeRounds(t, s, clk, 3, time.Hour, func() collector.Batch { return g.batch(400, 0) }) {
		if e.Kind == collector.KindTransaction && e.Service.Name == "search" {
			want++
		}
	}
	q := collector.TransactionQuery{Service: "search", Order: collector.OldestFirst, Limit: 7}
	seen := map[uint64]bool{}
	var last time.Time
	for pages := 0; ; pages++ {
		p, err := s.Transactions(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range p.Transactions {
			if tx.Timestamp.Before(last) {
				t.Fatalf("not oldest first: %v after %v", tx.Timestamp, last)
			}
			if seen[tx.Seq] {
				t.Fatalf("transaction %d listed twice", tx.Seq)
			}
			last, seen[tx.Seq] = tx.Timestamp, true
		}
		if p.Next == "" {
			break
		}
		if len(p.Transactions) != q.Limit {
			t.Fatalf("page %d: %d transactions and a next page", pages, len(p.Transactions))
		}
		q.Cursor = p.Next
	}
	if len(seen) != want {
		t.Fatalf("listed %d transactions, want %d", len(seen), want)
	}
}
