package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp/otlptest"
)

// The OTLP goldens in collector/intake/otlp/testdata/es-metrics are what APM Server 9.6's aggregator
// writes for the OTLP requests beside them (CHAIN-OTLP.md there says how). The test sends each request
// to a real intake and OTLP receiver on loopback (OTLP/HTTP; the aggregated documents do not depend on
// the transport), aggregates what reaches the store, harvests every bucket, and compares the documents
// with APM Server's as multisets of canonical JSON, as TestAggregatedGoldenDocuments does for intake v2.

const otlpFixtures = "../intake/otlp/testdata"

// eventSink keeps copies of the events intake hands on, as the store would receive them.
type eventSink struct {
	mu     sync.Mutex
	events []collector.Event
}

func (s *eventSink) ProcessBatch(_ context.Context, b *collector.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, *b...)
	return nil
}

func TestAggregatedGoldenDocumentsOTLP(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(otlpFixtures, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		Input   string         `json:"input"`
		Signal  string         `json:"signal"`
		Golden  string         `json:"metrics_golden"`
		Metrics map[string]int `json:"metrics"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{"traces": otlp.PathTraces, "metrics": otlp.PathMetrics, "logs": otlp.PathLogs}
	for _, m := range manifest {
		t.Run(strings.TrimSuffix(filepath.Base(m.Input), ".json"), func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(otlpFixtures, m.Input))
			if err != nil {
				t.Fatal(err)
			}
			sink := &eventSink{}
			srv := otlptest.NewServer(t, intake.Config{Processor: sink}, otlp.Config{})
			resp, err := http.Post(srv.URL+paths[m.Signal], "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", m.Signal, resp.StatusCode)
			}

			a := newAggregator(AggregationLimits{})
			for i := range sink.events {
				a.add(&sink.events[i])
			}
			r := aggRenderer{namespace: "default", observerHostname: "hotpath-test", observerVersion: "9.6.0", checkpoint: 1}
			a.harvest(&r, aggGoldenTime, 0, true)
			var got []aggDocument
			if r.docs > 0 {
				got = parseBulk(t, r.out)
			}
			checkPerIndex(t, got, m.Metrics)
			want := readMetricsGolden(t, filepath.Join(otlpFixtures, m.Golden))
			if len(want) == 0 || len(got) != len(want) {
				t.Fatalf("%d documents, the golden has %d", len(got), len(want))
			}
			compareMultisets(t, got, want)
		})
	}
}
