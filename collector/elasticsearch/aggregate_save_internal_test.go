package elasticsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// errKilled is what a killedSpool's reads return once the process it stands for is dead.
var errKilled = errors.New("killed")

// killedSpool is the real store as a process sees it that is killed after reading budget events: the
// aggregation reads them, then its next read fails, so it stops without the graceful stop's flush,
// keeping only what it saved, as after SIGKILL. It records where the first read started.
type killedSpool struct {
	*pebble.Store
	budget    int
	firstFrom uint64
}

func (s *killedSpool) ReadFrom(ctx context.Context, from uint64, limit int) ([]collector.Record, error) {
	if s.firstFrom == 0 {
		s.firstFrom = from
	}
	if s.budget <= 0 {
		return nil, errKilled
	}
	recs, err := s.Store.ReadFrom(ctx, from, min(limit, s.budget))
	s.budget -= len(recs)
	return recs, err
}

// TestAggregationKeepsWhatItReadAcrossKills: a collector killed before its first harvest (its backlog
// not read to the end, the harvest interval not reached) keeps what it read once it read saveEvery
// events; the next one resumes from there and the documents count every transaction exactly once.
// Before the aggregation saved its position while reading, every start read the backlog from the
// same place: under repeated kills it never moved (TestSIGKILLExport's last collector faced 890,000
// of 930,000 stored events after 30 kills).
func TestAggregationKeepsWhatItReadAcrossKills(t *testing.T) {
	es := estest.NewServer()
	defer es.Close()
	st, err := pebble.Open(pebble.Config{Dir: t.TempDir(), Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const transactions = 1000
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := make(collector.Batch, transactions)
	for i := range b {
		b[i] = collector.Event{Kind: collector.KindTransaction, Timestamp: base.Add(time.Duration(i) * 100 * time.Millisecond),
			TraceID: fmt.Sprintf("%032x", i+1), Agent: collector.Agent{Name: "go"},
			Service:     collector.Service{Name: "search", Environment: "test"},
			DataStream:  collector.DataStream{Type: "traces", Dataset: "apm", Namespace: "default"},
			Transaction: &collector.Transaction{ID: fmt.Sprintf("%016x", i+1), Name: "GET /search", Type: "request", Sampled: true, Root: true, RepresentativeCount: 1},
			Event:       collector.EventInfo{Outcome: "success", Duration: time.Duration(1+i%40) * time.Millisecond}}
	}
	if err := st.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}

	// run runs an aggregation over sp until it dies or until holds; it returns run's error and how
	// many stored events the aggregation then reports unread.
	run := func(sp *killedSpool, until func([]estest.Doc) bool) (uint64, error) {
		t.Helper()
		x, err := New(Config{ClientConfig: ClientConfig{URLs: []string{es.URL}}, RetryBackoff: time.Millisecond,
			Registerer: prometheus.NewRegistry(), Logger: zaptest.NewLogger(t)}, sp)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		// No harvest while reading a backlog, whatever the machine's speed: only saves keep progress.
		x.agg.harvestEvery = time.Hour
		x.agg.saveEvery = 100
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- x.agg.run(ctx, x) }()
		if until != nil {
			wctx, wcancel := context.WithTimeout(ctx, time.Minute)
			defer wcancel()
			if err := es.WaitFor(wctx, func(docs []estest.Doc, _ int) bool { return until(docs) }); err != nil {
				t.Fatalf("waiting for the documents: %v", err)
			}
			cancel()
		}
		err = <-done
		return x.agg.unread(), err
	}

	// Three collectors killed, each after reading 250 events: each resumes where the last one's save
	// left it (about 100 events before its kill at most), none from the start.
	from := uint64(1)
	for kill := range 3 {
		sp := &killedSpool{Store: st, budget: 250}
		unread, err := run(sp, nil)
		if !errors.Is(err, errKilled) {
			t.Fatalf("kill %d: run returned %v, want the kill", kill+1, err)
		}
		if want := uint64(transactions) - (from - 1 + 250); unread != want {
			t.Errorf("kill %d: %d events unread, want %d", kill+1, unread, want)
		}
		if sp.firstFrom != from {
			t.Errorf("kill %d: the aggregation read from %d, want %d (where the last one saved)", kill+1, sp.firstFrom, from)
		}
		if n := es.DocCount(); n != 0 {
			t.Fatalf("kill %d: %d documents written before any harvest", kill+1, n)
		}
		pos, _ := st.Cursor("elasticsearch-metrics")
		if pos <= from {
			t.Fatalf("kill %d: the cursor is at %d after reading 250 events from %d", kill+1, pos, from)
		}
		from = pos
	}
	if from == 1 || from > transactions {
		t.Fatalf("the cursor at %d after three kills", from)
	}

	// The last collector reads the rest, harvests once it caught up, and is stopped.
	sp := &killedSpool{Store: st, budget: transactions}
	caughtUp := func(docs []estest.Doc) bool {
		n, _ := countTransactions(docs)
		return n["metrics-apm.transaction.1m-default"] == transactions
	}
	unread, err := run(sp, caughtUp)
	if err != nil {
		t.Fatal(err)
	}
	if unread != 0 {
		t.Errorf("%d events unread once caught up", unread)
	}
	if sp.firstFrom != from {
		t.Errorf("the last collector read from %d, want %d", sp.firstFrom, from)
	}
	n, err := countTransactions(es.Docs())
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range []string{"transaction", "service_transaction"} {
		for _, ivl := range []string{"1m", "10m", "60m"} {
			if idx := "metrics-apm." + ms + "." + ivl + "-default"; n[idx] != transactions {
				t.Errorf("%s counts %d transactions, want %d", idx, n[idx], transactions)
			}
		}
	}
}

// countTransactions sums _doc_count per transaction and service_transaction index; an _id created
// twice is an error.
func countTransactions(docs []estest.Doc) (map[string]int, error) {
	n := map[string]int{}
	ids := map[string]bool{}
	for _, d := range docs {
		if !strings.HasPrefix(d.Index, "metrics-apm.transaction.") && !strings.HasPrefix(d.Index, "metrics-apm.service_transaction.") {
			continue
		}
		if ids[d.ID] {
			return n, fmt.Errorf("_id %s created twice", d.ID)
		}
		ids[d.ID] = true
		var src struct {
			DocCount int `json:"_doc_count"`
		}
		if err := json.Unmarshal(d.Source, &src); err != nil {
			return n, err
		}
		n[d.Index] += src.DocCount
	}
	return n, nil
}
