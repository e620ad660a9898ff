package main

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
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
	seed := *sigkillSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -args -sigkill.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	es := estest.NewServer()
	defer es.Close()
	dataDir := t.TempDir()

	// Buckets are harvested as soon as they end, so that kills also fall between a harvest and its
	// delivery; rounds last long enough for the export to get going.
	args := []string{"--elasticsearch", es.URL, "--es-metrics-grace", "1ms"}
	minRun, maxRun := max(*sigkillMinRun, 1500*time.Millisecond), max(*sigkillMaxRun, 4*time.Second)
	proc := startCollectorProcess(t, "127.0.0.1:0", dataDir, args...)
	listen := strings.TrimPrefix(proc.url, "http://")
	load := newIntakeLoad(loadgenConfig{url: proc.url, concurrency: 4, events: 60, spans: 5, gzip: true, service: "sigkill-export"})
	ctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan intakeReport, 1)
	go func() { loadDone <- load.run(ctx) }()

	ackedBefore := 0
	for round := 1; round <= *sigkillRounds; round++ {
		if round > 1 {
			proc = startCollectorProcess(t, listen, dataDir, args...)
		}
		runFor := minRun + time.Duration(rng.Int64N(int64(maxRun-minRun)+1))
		began := time.Now()
		docsBefore := es.DocCount()
		waitForCondWithin(t, time.Minute, "intake and export in round "+strconv.Itoa(round), func() bool {
			return load.acked() > ackedBefore && es.DocCount() > docsBefore
		})
		time.Sleep(max(runFor-time.Since(began), runFor/4)) // the kill moment itself, not a synchronisation
		proc.kill(t)
		acked := load.acked()
		t.Logf("round %d: killed after %d more events acknowledged, %d documents in Elasticsearch", round, acked-ackedBefore, es.DocCount())
		ackedBefore = acked
	}
	stopLoad()
	<-loadDone

	// A last collector exports what is left, then stops gracefully: the open buckets are flushed.
	proc = startCollectorProcess(t, listen, dataDir, args...)
	waitForCondWithin(t, time.Minute, "the export's lag at 0", func() bool {
		_, page := get(t, proc.url+"/metrics", "")
		return metricLine(page, "hotpath_elasticsearch_lag_events") == "0"
	})
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-proc.exited; err != nil {
		t.Fatalf("collector stopped with %v: %s", err, proc.stderr)
	}

	events := storedEvents(t, dataDir)
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
