package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
)

// esCollectorConfig is the configuration of a collector exporting to esURL.
func esCollectorConfig(t *testing.T, dataDir, esURL string) collectorConfig {
	t.Helper()
	cfg, err := parseCollectorFlags([]string{"--listen", "127.0.0.1:0", "--data", dataDir, "--elasticsearch", esURL},
		envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Retry and flush fast: the defaults (500ms doubling to 30s, 1s) are for real clusters.
	cfg.elasticsearch.RetryBackoff = 10 * time.Millisecond
	cfg.elasticsearch.MaxRetryBackoff = 100 * time.Millisecond
	cfg.elasticsearch.FlushInterval = 20 * time.Millisecond
	return cfg
}

// postTraces posts n traces of gen to the collector and checks they are accepted.
func postTraces(t *testing.T, url string, gen *payloadGen, n int) {
	t.Helper()
	body, _ := gen.appendStream(nil, n, time.Now())
	resp, err := http.Post(url+"/intake/v2/events", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("intake answered %d", resp.StatusCode)
	}
}

// waitES waits until cond holds on the fake Elasticsearch.
func waitES(t *testing.T, es *estest.Server, what string, cond func([]estest.Doc, int) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := es.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// TestCollectorExportThroughOutageAndRestart is the export's promise, end to end through the real
// intake and store: Elasticsearch answers 503 while agents send, the collector is restarted in the
// middle of the outage, more events arrive, Elasticsearch recovers but the first answer after that is
// lost. At the end every acknowledged event is in Elasticsearch exactly once (each has an _id), as the
// document APM Server would have written.
func TestCollectorExportThroughOutageAndRestart(t *testing.T) {
	es := estest.NewServer()
	defer es.Close()
	es.SetOutage(http.StatusServiceUnavailable)
	dir := t.TempDir()
	gen := newPayloadGen("export", 5)

	tc := startCollector(t, esCollectorConfig(t, dir, es.URL), nil)
	postTraces(t, tc.url, gen, 20) // 120 events
	waitES(t, es, "bulk requests during the outage", func(_ []estest.Doc, n int) bool { return n >= 3 })
	_, page := get(t, tc.url+"/metrics", "")
	if lag := metricLine(page, "hotpath_elasticsearch_lag_events"); lag != "120" {
		t.Errorf("lag_events during the outage = %q, want 120", lag)
	}
	if !strings.Contains(page, `hotpath_elasticsearch_bulk_requests_total{status="503"}`) {
		t.Error("/metrics does not count the 503 answers")
	}
	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}

	tc = startCollector(t, esCollectorConfig(t, dir, es.URL), nil)
	postTraces(t, tc.url, gen, 20)
	before := es.BulkRequests()
	waitES(t, es, "bulk requests after the restart", func(_ []estest.Doc, n int) bool { return n >= before+3 })
	es.Inject(estest.Fault{Drop: true, After: true})
	es.SetOutage(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	last := tc.c.store.LastSeq()
	if err := tc.c.exporter.x.WaitConfirmed(ctx, last+1); err != nil {
		t.Fatalf("export did not catch up: %v", err)
	}
	// The graceful stop sends what the aggregation has read; what it has not read yet would wait for
	// the next start, which this test does not make.
	waitForCondWithin(t, 30*time.Second, "the aggregation reading every event",
		func() bool { return tc.c.exporter.x.MetricsRead() > last })
	_, page = get(t, tc.url+"/metrics", "")
	if lag := metricLine(page, "hotpath_elasticsearch_lag_events"); lag != "0" {
		t.Errorf("lag_events after recovery = %q, want 0", lag)
	}
	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}

	events := storedEvents(t, dir)
	if len(events) != 240 {
		t.Fatalf("%d events stored, want 240", len(events))
	}
	docs := map[string]estest.Doc{}
	var metricDocs []estest.Doc
	for _, d := range es.Docs() {
		if isAggregatedMetricset(d.Index) {
			metricDocs = append(metricDocs, d)
			continue
		}
		if d.GeneratedID {
			t.Fatalf("document without an _id of its own: %s", d.Source)
		}
		if _, dup := docs[d.ID]; dup {
			t.Fatalf("_id %s indexed twice", d.ID)
		}
		docs[d.ID] = d
	}
	for i := range events {
		e := &events[i]
		id := string(elasticsearch.AppendDocumentID(nil, e))
		d, ok := docs[id]
		if !ok {
			t.Fatalf("event %s (%s) is not in Elasticsearch", id, e.Kind)
		}
		want, err := elasticsearch.AppendDocument(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		index, _ := elasticsearch.Index(e)
		if d.Index != index || !bytes.Equal(d.Source, want) {
			t.Errorf("document %s: %s %s, want %s %s", id, d.Index, d.Source, index, want)
		}
		delete(docs, id)
	}
	if len(docs) != 0 {
		t.Errorf("%d documents in Elasticsearch that the store does not hold", len(docs))
	}
	checkMetricsetCounts(t, metricDocs, events)
}

// isAggregatedMetricset reports whether index is one of APM Server's aggregated metricsets' data
// streams (metrics-apm.transaction.1m-default...).
func isAggregatedMetricset(index string) bool {
	for _, ms := range []string{"transaction", "service_transaction", "service_summary", "service_destination"} {
		if strings.HasPrefix(index, "metrics-apm."+ms+".") {
			return true
		}
	}
	return false
}

// checkMetricsetCounts checks that, for the transaction and service_transaction metricsets at every
// interval, the documents count each stored transaction exactly once (by its representative count),
// and that no _id was created twice.
func checkMetricsetCounts(t *testing.T, docs []estest.Doc, events []collector.Event) {
	t.Helper()
	var want float64
	for i := range events {
		if e := &events[i]; e.APMType() == collector.KindTransaction {
			want += e.Transaction.RepresentativeCount
		}
	}
	got := map[string]float64{}
	ids := map[string]bool{}
	// per minute, for the 1m transaction metricset: what the documents count, in how many documents
	perMinute := map[time.Time]struct {
		count float64
		docs  int
	}{}
	for _, d := range docs {
		if ids[d.ID] {
			t.Errorf("metricset _id %s created twice", d.ID)
		}
		ids[d.ID] = true
		var src struct {
			Timestamp time.Time `json:"@timestamp"`
			DocCount  float64   `json:"_doc_count"`
		}
		if err := json.Unmarshal(d.Source, &src); err != nil {
			t.Fatal(err)
		}
		got[d.Index] += src.DocCount
		if d.Index == "metrics-apm.transaction.1m-default" {
			m := perMinute[src.Timestamp.UTC()]
			m.count += src.DocCount
			m.docs++
			perMinute[src.Timestamp.UTC()] = m
		}
	}
	for _, ms := range []string{"transaction", "service_transaction"} {
		for _, ivl := range []string{"1m", "10m", "60m"} {
			idx := "metrics-apm." + ms + "." + ivl + "-default"
			if got[idx] != want {
				t.Errorf("%s: _doc_count sums to %v, want %v (the stored transactions' representative counts)", idx, got[idx], want)
			}
		}
	}
	if got["metrics-apm.transaction.1m-default"] == want {
		return
	}
	// Which minutes are off, and by how much: a diagnosis, not a check.
	wantPerMinute := map[time.Time]float64{}
	for i := range events {
		if e := &events[i]; e.APMType() == collector.KindTransaction {
			wantPerMinute[e.Timestamp.Truncate(time.Minute).UTC()] += e.Transaction.RepresentativeCount
		}
	}
	for _, m := range slices.SortedFunc(maps.Keys(wantPerMinute), time.Time.Compare) {
		t.Logf("minute %s: %d documents count %v transactions of %v stored", m.Format(time.TimeOnly), perMinute[m].docs, perMinute[m].count, wantPerMinute[m])
	}
}

// Without --elasticsearch, the cursor an earlier run left is deleted: it would hold retention back.
func TestCollectorDeletesStaleExportCursor(t *testing.T) {
	es := estest.NewServer()
	defer es.Close()
	dir := t.TempDir()
	tc := startCollector(t, esCollectorConfig(t, dir, es.URL), nil)
	if _, ok := tc.c.store.Cursor(esCursor); !ok {
		// Run registers the cursor after its version check: wait for the first export.
		postTraces(t, tc.url, newPayloadGen("cursor", 1), 1)
		waitES(t, es, "the first document", func(d []estest.Doc, _ int) bool { return len(d) > 0 })
	}
	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseCollectorFlags([]string{"--listen", "127.0.0.1:0", "--data", dir}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tc = startCollector(t, cfg, nil)
	get(t, tc.url+"/", "") // serve answers once the export was started (here: its cursor dealt with)
	if _, ok := tc.c.store.Cursor(esCursor); ok {
		t.Error("the export cursor is still registered with the export off")
	}
}

// A cluster older than 8.15 stops the collector at start-up with a message that says why.
func TestCollectorRefusesOldElasticsearch(t *testing.T) {
	es := estest.NewServer(estest.WithVersion("8.14.3"))
	defer es.Close()
	c, err := openCollector(esCollectorConfig(t, t.TempDir(), es.URL), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = c.serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "8.14.3") || !strings.Contains(err.Error(), "8.15.0 or later") {
		t.Errorf("serve: %v", err)
	}
}

func TestCollectorElasticsearchFlags(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	es := estest.NewServer(estest.WithTLS())
	defer es.Close()
	if err := os.WriteFile(ca, es.CACert(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseCollectorFlags([]string{"--es-ca-cert", ca}, envMap(map[string]string{
		"HOTPATH_ELASTICSEARCH": "https://a:9200/, https://b:9200",
		"HOTPATH_ES_API_KEY":    "aWQ6a2V5",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.elasticsearch
	if e == nil || strings.Join(e.URLs, " ") != "https://a:9200 https://b:9200" || e.APIKey != "aWQ6a2V5" ||
		!bytes.Equal(e.CACert, es.CACert()) {
		t.Errorf("config %+v", e)
	}
	if cfg, err := parseCollectorFlags(nil, envMap(nil), io.Discard); err != nil || cfg.elasticsearch != nil {
		t.Errorf("without --elasticsearch: %+v, %v", cfg.elasticsearch, err)
	}
	for _, args := range [][]string{
		{"--es-username", "elastic"},
		{"--elasticsearch", "http://x:9200", "--es-username", "elastic"},
		{"--elasticsearch", "http://x:9200", "--es-ca-cert", filepath.Join(t.TempDir(), "missing.pem")},
	} {
		if _, err := parseCollectorFlags(args, envMap(nil), io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	var help bytes.Buffer
	_, _ = parseCollectorFlags([]string{"-h"}, envMap(nil), &help)
	if strings.Contains(help.String(), "aWQ6") || !strings.Contains(help.String(), "-elasticsearch") {
		t.Errorf("help: %s", help.String())
	}
}
