package elasticsearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
	"github.com/hotpath-apm/hotpath/internal/esdoctest"
)

// The golden documents (goldens) are what Elastic APM Server 9.6.0 (apm-data v1.22.1) sends to
// Elasticsearch for the intake fixtures (fixtures); es-source/CHAIN.md says exactly how they were made.
// This is hotpath's one golden test of events as documents: it runs the real chain hotpath runs,
// decoder (in batches of 10, so that events cross batches) then enrich then rendering, on the same input (request time 2026-01-01T00:00:00Z, client 127.0.0.1), and compares
// every document as canonical JSON: keys sorted, numbers as numbers, metricset.samples sorted by name
// (APM Server's order comes from a Go map), observer.hostname, observer.version and
// observer.ephemeral_id left out (they describe the server, not the event).

var goldenRequestTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// goldenBase returns the base event APM Server builds for a request to endpoint from 127.0.0.1.
func goldenBase(endpoint string) collector.Event {
	ip := netip.MustParseAddr("127.0.0.1")
	if endpoint == "rum" {
		return collector.Event{
			Timestamp: goldenRequestTime,
			Client:    collector.Client{IP: ip},
			Source:    collector.Source{IP: ip, Port: 54321},
			UserAgent: collector.UserAgent{Original: "Go-http-client/1.1"},
		}
	}
	return collector.Event{Timestamp: goldenRequestTime, Host: collector.Host{IP: []netip.Addr{ip}}}
}

type goldenEntry struct {
	Fixture  string         `json:"fixture"`
	Golden   string         `json:"golden"`
	Endpoint string         `json:"endpoint"`
	Accepted int            `json:"accepted"`
	Indexed  int            `json:"indexed"`
	Indices  map[string]int `json:"indices"`
}

// renderFixture decodes an intake fixture, enriches and renders every event as the exporter would. It
// returns the documents and the number of events the decoder accepted.
func renderFixture(t testing.TB, body []byte, endpoint string) ([]esdoctest.Doc, int) {
	t.Helper()
	en := enrich.New(enrich.Config{ObserverHostname: "hotpath-test"})
	var docs []esdoctest.Doc
	p := collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		if endpoint == "rum" {
			en.ProcessRUM(b)
		} else {
			en.Process(b)
		}
		for i := range *b {
			e := &(*b)[i]
			if e.MetricsOnly() {
				continue // kept for the aggregated metrics; the exporter indexes no document for it
			}
			doc, err := esdoctest.Render(e)
			if err != nil {
				return err
			}
			if !json.Valid(doc.Source) {
				return fmt.Errorf("invalid JSON rendered: %s", doc.Source)
			}
			docs = append(docs, doc)
		}
		return nil
	})
	base := goldenBase(endpoint)
	res, err := decoder.New(decoder.Options{BatchSize: 10}).Decode(context.Background(), bytes.NewReader(body), &base, p)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("decode errors: %+v", res.Errors)
	}
	return docs, res.Accepted
}

func TestGoldenDocuments(t *testing.T) {
	var manifest []goldenEntry
	raw, err := os.ReadFile(filepath.Join(goldens, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, m := range manifest {
		golden, err := os.ReadFile(filepath.Join(goldens, m.Golden))
		if os.IsNotExist(err) {
			continue // the manifest also lists fixtures whose golden file was not shipped
		}
		tested++
		t.Run(strings.TrimSuffix(m.Fixture, ".ndjson"), func(t *testing.T) {
			if err != nil {
				t.Fatal(err)
			}
			body, err := os.ReadFile(filepath.Join(fixtures, m.Fixture))
			if err != nil {
				t.Fatal(err)
			}
			want := esdoctest.ReadGolden(t, golden)
			if len(want) != m.Indexed {
				t.Fatalf("golden file has %d documents, manifest says %d", len(want), m.Indexed)
			}
			got, accepted := renderFixture(t, body, m.Endpoint)
			if accepted != m.Accepted {
				t.Errorf("decoder accepted %d events, want %d", accepted, m.Accepted)
			}
			if len(got) != len(want) {
				t.Errorf("%d documents, want %d", len(got), len(want))
			}
			for i := 0; i < len(got) && i < len(want); i++ {
				if got[i].Index != want[i].Index {
					t.Errorf("document %d: index %q, want %q", i, got[i].Index, want[i].Index)
				}
				g, w := esdoctest.Canonical(t, got[i].Source, nil), esdoctest.Canonical(t, want[i].Source, nil)
				if g != w {
					t.Errorf("document %d (%s) differs from APM Server's:\n%s", i, want[i].Index, esdoctest.Diff(g, w))
				}
			}
		})
	}
	if tested < 18 {
		t.Errorf("only %d golden files tested", tested)
	}
}
