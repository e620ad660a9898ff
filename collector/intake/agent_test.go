package intake

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"go.elastic.co/apm/v2/apmconfig"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/collector"
)

// TestGoAgentCentralConfig: the Elastic Go agent's own config client gets the settings from the file,
// is answered 304 while they do not change (it sends the ETag back), and gets the new ones when they do.
func TestGoAgentCentralConfig(t *testing.T) {
	dir := t.TempDir()
	path := writeAgentConfig(t, dir, `[{"service":{"name":"search"},"settings":{"transaction_sample_rate":"0.5"}}]`)
	api, _, reg := newTestAPI(t, Config{AgentConfigFile: path, AgentConfigMaxAge: time.Second, SecretToken: "tok"})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	tp := agenttest.NewTransport(t, srv.URL, agenttest.Options{SecretToken: "tok"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := tp.WatchConfig(ctx, apmconfig.WatchParams{Service: struct{ Name, Environment string }{Name: "search"}})

	next := func() apmconfig.Change {
		t.Helper()
		select {
		case c := <-changes:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no configuration change from the agent's client in 10s")
			return apmconfig.Change{}
		}
	}
	if c := next(); c.Err != nil || c.Attrs["transaction_sample_rate"] != "0.5" {
		t.Fatalf("first change %+v", c)
	}
	waitFor(t, func() bool {
		return metric(t, reg, "hotpath_intake_requests_total", "endpoint=agent_config", "code=304") >= 1
	})
	writeAgentConfig(t, dir, `[{"service":{"name":"search"},"settings":{"transaction_sample_rate":"0.25"}}]`)
	if c := next(); c.Err != nil || c.Attrs["transaction_sample_rate"] != "0.25" {
		t.Fatalf("second change %+v", c)
	}
	cancel()
	for range changes { // the client's goroutine ends
	}
}

// TestGoAgentDelivers: a tracer of the Elastic Go agent sends to the API (its server-version check,
// then a zlib stream); every transaction and span arrives, and the agent reports nothing dropped or
// failed.
func TestGoAgentDelivers(t *testing.T) {
	api, rec, _ := newTestAPI(t, Config{APIKeys: []APIKey{{ID: "ci", Key: "k"}}})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	tracer := agenttest.NewTracer(t, srv.URL, agenttest.Options{Service: "agent-test", APIKey: "Y2k6aw=="}) // base64("ci:k")
	const txs = 50
	for range txs {
		tx := tracer.StartTransaction("GET /search", "request")
		for _, name := range []string{"build query", "search"} {
			span := tx.StartSpan(name, "app.internal", nil)
			span.Duration = 2 * time.Millisecond
			span.End()
		}
		tx.End()
	}
	tracer.Flush(nil)
	stats := tracer.Stats()
	if stats.TransactionsSent != txs || stats.SpansSent != 2*txs || stats.TransactionsDropped+stats.SpansDropped+stats.Errors.SendStream != 0 {
		t.Fatalf("agent stats %+v", stats)
	}
	kinds := map[collector.Kind]int{}
	for _, e := range rec.stored() {
		if e.Service == "agent-test" {
			kinds[e.Kind]++
		}
	}
	if kinds[collector.KindTransaction] != txs || kinds[collector.KindSpan] != 2*txs {
		t.Errorf("received %v", kinds)
	}
}
