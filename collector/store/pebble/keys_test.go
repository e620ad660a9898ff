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
		eps, err := s.Endpoints(context.Background(), svc, time.Time{}, time.Time{})
		if err != nil || len(eps) != 1 || eps[0].Name != "GET /\x00"+svc {
			t.Fatalf("endpoints of %q: %q %v", svc, eps, err)
		}
	}
}

func TestEachTransaction(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	g := newGen(15, t0)
	want := 0
	for range 3 {
		b := g.batch(400, 0)
		for _, e := range b {
			if e.Kind == collector.KindTransaction && e.Service.Name == "search" {
				want++
			}
		}
		mustProcess(t, s, b)
		clk.Add(time.Hour)
	}
	got := 0
	var last time.Time
	err := s.EachTransaction(context.Background(), "search", "", time.Time{}, time.Time{}, func(tx *collector.TransactionSummary) (bool, error) {
		if tx.Timestamp.Before(last) {
			t.Fatalf("not oldest first: %v after %v", tx.Timestamp, last)
		}
		last = tx.Timestamp
		got++
		return true, nil
	})
	if err != nil || got != want {
		t.Fatalf("EachTransaction saw %d, want %d: %v", got, want, err)
	}
	stopped := 0
	_ = s.EachTransaction(context.Background(), "search", "", time.Time{}, time.Time{}, func(*collector.TransactionSummary) (bool, error) {
		stopped++
		return stopped < 5, nil
	})
	if stopped != 5 {
		t.Fatalf("EachTransaction went on after fn returned false: %d", stopped)
	}
}
