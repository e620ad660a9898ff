package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
)

// The golden documents in collector/testdata/apm-server/es-metrics are what APM Server 9.6's aggregator
// (apm-aggregation v1.5.1) writes for the intake fixtures beside them (intake-v2), each sent as one
// request at 2026-01-01T00:00:00Z and harvested at once (es-metrics/CHAIN-AGG.md says exactly how). The
// test runs hotpath's chain on the same input: decoder, enrich (which drops what the store would not
// keep), the aggregator, a harvest of every bucket at the request time; and compares the documents as
// multisets of canonical JSON, observer.hostname and observer.version left out.
//
// The `overflow` fixture runs with its own limits. Which groups overflow depends on the order in which
// the aggregator sees the events: hotpath's sees them in the order they were stored, APM Server's
// merges one request's events newest first. The test feeds that fixture newest first and compares
// every document, and also, per index, the counts that must hold whatever the order (documents,
// _doc_count, overflow documents and overflow_count).

type metricsManifestEntry struct {
	Input       string         `json:"input"`
	Endpoint    string         `json:"endpoint"`
	Golden      string         `json:"metrics_golden"`
	Limits      map[string]int `json:"limits"`
	Metrics     map[string]int `json:"metrics"`
	OverflowDoc int            `json:"overflow_documents"`
}

var aggGoldenTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// The shared fixtures (collector/testdata/apm-server/README.md).
const (
	apmServerTestdata = "../testdata/apm-server"
	intakeFixtures    = apmServerTestdata + "/intake-v2"
)

// storeEvents decodes and enriches an intake fixture as intake does before the store, and calls fn
// for every event the store would keep (valid only during the call: the decoder reuses events).
func storeEvents(t testing.TB, body []byte, endpoint string, fn func(e *collector.Event)) {
	t.Helper()
	en := enrich.New(enrich.Config{ObserverHostname: "hotpath-test"})
	p := collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		if endpoint == "rum" {
			en.ProcessRUM(b)
		} else {
			en.Process(b)
		}
		for i := range *b {
			fn(&(*b)[i])
		}
		return nil
	})
	ip := netip.MustParseAddr("127.0.0.1")
	base := collector.Event{Timestamp: aggGoldenTime, Host: collector.Host{IP: []netip.Addr{ip}}}
	if endpoint == "rum" {
		base = collector.Event{Timestamp: aggGoldenTime, Client: collector.Client{IP: ip},
			Source: collector.Source{IP: ip, Port: 54321}, UserAgent: collector.UserAgent{Original: "Go-http-client/1.1"}}
	}
	res, err := decoder.New(decoder.Options{}).Decode(context.Background(), bytes.NewReader(body), &base, p)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("decode errors: %+v", res.Errors)
	}
}

// aggDocument is one harvested document: its index and canonical source.
type aggDocument struct {
	Index  string
	Source map[string]any
}

func (d aggDocument) canonical() string {
	b, _ := json.Marshal(map[string]any{"index": d.Index, "source": d.Source})
	return string(b)
}

// parseBulk parses the bulk NDJSON the renderer wrote into documents, checking every action line.
func parseBulk(t testing.TB, body []byte) []aggDocument {
	t.Helper()
	var docs []aggDocument
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines)%2 != 0 {
		t.Fatalf("bulk body of %d lines", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		var action struct {
			Create struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			} `json:"create"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &action); err != nil || action.Create.Index == "" || action.Create.ID == "" {
			t.Fatalf("action line %q: %v", lines[i], err)
		}
		var src map[string]any
		if err := json.Unmarshal([]byte(lines[i+1]), &src); err != nil {
			t.Fatalf("source line %q: %v", lines[i+1], err)
		}
		docs = append(docs, aggDocument{Index: action.Create.Index, Source: src})
	}
	return docs
}

// normalize leaves out what describes the server rather than the data.
func normalize(d aggDocument) aggDocument {
	if o, ok := d.Source["observer"].(map[string]any); ok {
		delete(o, "hostname")
		delete(o, "version")
	}
	return d
}

// checkPerIndex fails the test unless got holds want[index] documents of each index want names.
func checkPerIndex(t testing.TB, got []aggDocument, want map[string]int) {
	t.Helper()
	perIndex := map[string]int{}
	for _, d := range got {
		perIndex[d.Index]++
	}
	for idx, n := range want {
		if perIndex[idx] != n {
			t.Errorf("%s: %d documents, want %d", idx, perIndex[idx], n)
		}
	}
}

func readMetricsGolden(t testing.TB, path string) []aggDocument {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []aggDocument
	for line := range strings.Lines(string(raw)) {
		var d struct {
			Index  string         `json:"index"`
			Source map[string]any `json:"source"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, aggDocument{Index: d.Index, Source: d.Source})
	}
	return docs
}

// aggregateFixture runs the chain on one fixture and returns its harvested documents.
func aggregateFixture(t testing.TB, m metricsManifestEntry) []aggDocument {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(intakeFixtures, filepath.Base(m.Input)))
	if err != nil {
		t.Fatal(err)
	}
	limits := AggregationLimits{
		MaxServices:                           m.Limits["MaxServices"],
		MaxTransactionGroups:                  m.Limits["MaxTransactionGroups"],
		MaxTransactionGroupsPerService:        m.Limits["MaxTransactionGroupsPerService"],
		MaxServiceTransactionGroups:           m.Limits["MaxServiceTransactionGroups"],
		MaxServiceTransactionGroupsPerService: m.Limits["MaxServiceTransactionGroupsPerService"],
		MaxSpanGroups:                         m.Limits["MaxSpanGroups"],
		MaxSpanGroupsPerService:               m.Limits["MaxSpanGroupsPerService"],
	}
	if m.OverflowDoc > 0 {
		body = newestFirst(body)
	}
	a := newAggregator(limits)
	storeEvents(t, body, m.Endpoint, a.add)
	r := aggRenderer{namespace: "default", observerHostname: "hotpath-test", observerVersion: "9.6.0", checkpoint: 1}
	a.harvest(&r, aggGoldenTime, 0, true)
	if !a.empty() {
		t.Fatal("buckets left open after harvesting all")
	}
	if r.docs == 0 {
		return nil
	}
	return parseBulk(t, r.out)
}

// newestFirst reverses the events of an intake body (the metadata line stays first): the order in which
// APM Server's aggregator merges one request's events, the newest first, so that the same groups win
// the limits.
func newestFirst(body []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	slices.Reverse(lines[1:])
	return []byte(strings.Join(lines, "\n") + "\n")
}

func loadMetricsManifest(t testing.TB) []metricsManifestEntry {
	t.Helper()
	raw, err := os.ReadFile(apmServerTestdata + "/es-metrics/MANIFEST.json")
	if err != nil {
		t.Fatal(err)
	}
	var manifest []metricsManifestEntry
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	return manifest
}

func TestAggregatedGoldenDocuments(t *testing.T) {
	for _, m := range loadMetricsManifest(t) {
		name := strings.TrimSuffix(filepath.Base(m.Input), ".ndjson")
		t.Run(name, func(t *testing.T) {
			got := aggregateFixture(t, m)
			want := readMetricsGolden(t, filepath.Join(apmServerTestdata, m.Golden))
			checkPerIndex(t, got, m.Metrics)
			if m.OverflowDoc > 0 {
				compareOverflow(t, got, want)
			}
			compareMultisets(t, got, want)
		})
	}
}

// compareMultisets fails for every document one side has more often than the other.
func compareMultisets(t *testing.T, got, want []aggDocument) {
	t.Helper()
	count := map[string]int{}
	for _, d := range got {
		count[normalize(d).canonical()]++
	}
	for _, d := range want {
		count[normalize(d).canonical()]--
	}
	var diffs []string
	for k, n := range count {
		switch {
		case n > 0:
			diffs = append(diffs, fmt.Sprintf("unexpected (x%d): %s", n, k))
		case n < 0:
			diffs = append(diffs, fmt.Sprintf("missing    (x%d): %s", -n, k))
		}
	}
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
}

// overflowSummary is what the overflow fixture's documents must agree on whatever the arrival order.
type overflowSummary struct {
	docs, docCount, overflowDocs, overflowCount, overflowDocCount int
}

func summarizeOverflow(docs []aggDocument) map[string]overflowSummary {
	out := map[string]overflowSummary{}
	for _, d := range docs {
		s := out[d.Index]
		s.docs++
		n, _ := d.Source["_doc_count"].(float64)
		s.docCount += int(n)
		ms, _ := d.Source["metricset"].(map[string]any)
		if samples, ok := ms["samples"].([]any); ok {
			s.overflowDocs++
			v, _ := samples[0].(map[string]any)["value"].(float64)
			s.overflowCount += int(v)
			s.overflowDocCount += int(n)
		}
		out[d.Index] = s
	}
	return out
}

func compareOverflow(t *testing.T, got, want []aggDocument) {
	t.Helper()
	g, w := summarizeOverflow(got), summarizeOverflow(want)
	for idx, ws := range w {
		if gs := g[idx]; gs != ws {
			t.Errorf("%s: got %+v, want %+v", idx, gs, ws)
		}
	}
	for idx := range g {
		if _, ok := w[idx]; !ok {
			t.Errorf("unexpected index %s", idx)
		}
	}
}
