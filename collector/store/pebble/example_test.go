package pebble_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// The store as intake, the query API and the Elasticsearch exporter use it.
func Example() {
	dir, _ := os.MkdirTemp("", "hotpath-example-")
	defer os.RemoveAll(dir)
	s, err := pebble.Open(pebble.Config{Dir: dir, MaxAge: 7 * 24 * time.Hour, MaxDisk: 10 << 30})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()

	// Intake: ProcessBatch returns once the batch is fsynced.
	now := time.Now()
	b := collector.Batch{
		{Kind: collector.KindTransaction, Timestamp: now, TraceID: "0af7651916cd43dd8448eb211c80319c",
			Service:     collector.Service{Name: "search"},
			Event:       collector.EventInfo{Duration: 120 * time.Millisecond},
			Transaction: &collector.Transaction{ID: "b7ad6b7169203331", Name: "GET /search", Type: "request", Sampled: true}},
		{Kind: collector.KindSpan, Timestamp: now, TraceID: "0af7651916cd43dd8448eb211c80319c", ParentID: "b7ad6b7169203331",
			Service: collector.Service{Name: "search"},
			Span:    &collector.Span{ID: "00f067aa0ba902b7", Name: "POST /products/_search", Type: "db", Subtype: "elasticsearch"}},
	}
	if err := s.ProcessBatch(ctx, &b); err != nil {
		fmt.Println(err)
		return
	}

	// Query API: a trace, and the slowest transactions of an endpoint in the last 24 hours.
	trace, _ := s.GetTrace(ctx, "0af7651916cd43dd8448eb211c80319c", 0)
	fmt.Println("trace events:", len(trace))
	page, _ := s.Transactions(ctx, collector.TransactionQuery{Service: "search", Name: "GET /search",
		From: now.Add(-24 * time.Hour), To: now.Add(time.Minute), Order: collector.SlowestFirst, Limit: 50})
	for _, tx := range page.Transactions {
		fmt.Println("slowest:", tx.Name, tx.Duration)
	}

	// Exporter: read the event log from a durable cursor, confirm what was sent.
	pos, _ := s.RegisterCursor("elasticsearch")
	recs, _ := s.ReadFrom(ctx, pos, 1000)
	fmt.Println("to export:", len(recs))
	if len(recs) > 0 {
		_ = s.CommitCursor("elasticsearch", recs[len(recs)-1].Seq+1)
	}
	// Output:
	// trace events: 2
	// slowest: GET /search 120ms
	// to export: 2
}
