package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
)

// TestSIGKILLExport: TestSIGKILL with the export to Elasticsearch on. The collector is killed with
// SIGKILL at random moments under load and restarted, several times; then a last one catches up and is
// stopped with SIGTERM, which flushes every open aggregation bucket. Afterwards, for each aggregated
// transaction metricset and interval, the documents Elasticsearch received count every stored
// transaction exactly once by its representative count (every acknowledged one is stored, see
// TestSIGKILL), and no _id was created twice: neither a kill nor a restart lost or double-counted one.
// Each round waits for the export to deliver something before its kill moment, so that kills fall
// while exporting also on a machine slow enough (under -race, busy) to take seconds to start.
func TestSIGKILLExport(t *testing.T) {
	es := estest.NewServer()
	defer es.Close()

	// Buckets are harvested as soon as they end, so that kills also fall between a harvest and its
	// delivery; rounds last long enough for the export to get going.
	k := startKilling(t, "sigkill-export", t.TempDir(), "--elasticsearch", es.URL, "--es-metrics-grace", "1ms")
	k.rounds(max(*sigkillMinRun, 1500*time.Millisecond), max(*sigkillMaxRun, 4*time.Second), func() func() bool {
		docsBefore := es.DocCount()
		return func() bool { return es.DocCount() > docsBefore }
	}, " and export")
	k.stopLoad()

	// A last collector exports what is left and aggregates every stored event, then stops gracefully:
	// the open buckets are flushed. (What the aggregation has not read at a stop waits for the next
	// start, which this test does not make: it failed so at 30 rounds, stopped with 890,000 events
	// unread, before the aggregation saved its position while reading a backlog.)
	proc := k.restart()
	waitForCondWithin(t, time.Minute, "the export's lag and the aggregation's unread events at 0", func() bool {
		_, page := get(t, proc.url+"/metrics", "")
		return metricLine(page, "hotpath_elasticsearch_lag_events") == "0" &&
			metricLine(page, "hotpath_elasticsearch_metricsets_unread_events") == "0"
	})
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-proc.exited; err != nil {
		t.Fatalf("collector stopped with %v: %s", err, proc.stderr)
	}

	events := storedEvents(t, k.dataDir)
	var metricDocs []estest.Doc
	for _, d := range es.Docs() {
		if isAggregatedMetricset(d.Index) {
			metricDocs = append(metricDocs, d)
		}
	}
	transactions := 0
	for i := range events {
		if events[i].APMType() == collector.KindTransaction {
			transactions++
		}
	}
	t.Logf("%d events stored (%d transactions), %d aggregated documents", len(events), transactions, len(metricDocs))
	if transactions == 0 || len(metricDocs) == 0 {
		t.Fatal("nothing to compare")
	}
	checkMetricsetCounts(t, metricDocs, events)
}
