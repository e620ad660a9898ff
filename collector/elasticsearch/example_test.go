package elasticsearch_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// An event, once intake enriched it, renders as the document APM Server would index, in the data
// stream APM Server would pick.
func ExampleAppendDocument() {
	b := collector.Batch{{
		Kind:        collector.KindTransaction,
		Timestamp:   time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		TraceID:     "0af7651916cd43dd8448eb211c80319c",
		Service:     collector.Service{Name: "search"},
		Event:       collector.EventInfo{Outcome: "success", Duration: 1500 * time.Microsecond},
		Transaction: &collector.Transaction{ID: "b7ad6b7169203331", Name: "GET /search", Type: "request", Sampled: true},
	}}
	enrich.New(enrich.Config{ObserverHostname: "collector-1"}).Process(&b)

	index, _ := elasticsearch.Index(&b[0])
	doc, _ := elasticsearch.AppendDocument(nil, &b[0])
	fmt.Println(index)
	fmt.Println(string(doc))
	// Output:
	// traces-apm-default
	// {"@timestamp":"2026-01-01T12:00:00.000Z","data_stream":{"dataset":"apm","namespace":"default","type":"traces"},"event":{"duration":1500000,"outcome":"success"},"observer":{"hostname":"collector-1","type":"apm-server","version":"9.6.0"},"service":{"name":"search"},"timestamp":{"us":1767268800000000},"trace":{"id":"0af7651916cd43dd8448eb211c80319c"},"transaction":{"id":"b7ad6b7169203331","name":"GET /search","sampled":true,"type":"request"}}
}

// The exporter copies the store to Elasticsearch (here the in-process fake) and keeps its place in a
// durable cursor.
func ExampleExporter() {
	es := estest.NewServer()
	defer es.Close()
	dir, _ := os.MkdirTemp("", "hotpath-example")
	defer os.RemoveAll(dir)
	st, _ := pebble.Open(pebble.Config{Dir: dir, Logger: zap.NewNop()})
	defer st.Close()

	b := makeEvents(0, 100) // enriched events, as intake stores them
	_ = st.ProcessBatch(context.Background(), &b)

	x, err := elasticsearch.New(elasticsearch.Config{
		ClientConfig:  elasticsearch.ClientConfig{URLs: []string{es.URL}},
		FlushInterval: 10 * time.Millisecond, // a partial batch waits this long (default 1s)
	}, st)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer x.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()

	_ = x.WaitConfirmed(context.Background(), st.LastSeq()+1) // every stored event confirmed
	cancel()
	// Stopping flushes the aggregated metricsets: 100 events, and the transaction, service_transaction
	// and service_summary documents of their one service at 1m, 10m and 60m.
	fmt.Println(<-done, es.DocCount(), "documents")
	// Output: <nil> 109 documents
}
