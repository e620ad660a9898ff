package elasticsearch_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
)

// TestRealElasticsearch exports every golden fixture to a real cluster, when one is given:
//
//	HOTPATH_TEST_ES_URL=https://localhost:9200 HOTPATH_TEST_ES_USERNAME=elastic HOTPATH_TEST_ES_PASSWORD=... \
//	HOTPATH_TEST_ES_CA_CERT=/path/to/http_ca.crt go test -run TestRealElasticsearch -v ./collector/elasticsearch
//
// (or HOTPATH_TEST_ES_API_KEY instead of username and password). The cluster must be 8.15 or later; the
// test writes to its APM data streams (traces-apm-default, logs-apm.error-default, metrics-apm.*,
// logs-apm.app.*), every event labelled with a random run id so runs do not see each other's data. It
// checks that the cluster takes every document (no mapping error: APM Server's templates accept what
// hotpath writes) and that each can be found again, by run id and by _id. Without HOTPATH_TEST_ES_URL it
// is skipped.
func TestRealElasticsearch(t *testing.T) {
	url := os.Getenv("HOTPATH_TEST_ES_URL")
	if url == "" {
		t.Skip("HOTPATH_TEST_ES_URL is not set: no real Elasticsearch to test against (see the test's comment)")
	}
	cfg := elasticsearch.Config{
		ClientConfig: elasticsearch.ClientConfig{
			URLs:     strings.Split(url, ","),
			Username: os.Getenv("HOTPATH_TEST_ES_USERNAME"),
			Password: os.Getenv("HOTPATH_TEST_ES_PASSWORD"),
			APIKey:   os.Getenv("HOTPATH_TEST_ES_API_KEY"),
		},
	}
	if f := os.Getenv("HOTPATH_TEST_ES_CA_CERT"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg.CACert = pem
	}
	exportFixtures(t, cfg)
}

// TestExportFixturesToFake runs TestRealElasticsearch's steps against the in-process fake, so that they
// are known to work when a cluster is given.
func TestExportFixturesToFake(t *testing.T) {
	s := estest.NewServer()
	defer s.Close()
	exportFixtures(t, elasticsearch.Config{ClientConfig: elasticsearch.ClientConfig{URLs: []string{s.URL}}})
}

// exportFixtures exports every golden fixture to the cluster of cfg and finds the documents again.
func exportFixtures(t *testing.T, cfg elasticsearch.Config) {
	cfg.FlushInterval = 100 * time.Millisecond
	cfg.Aggregation.Disabled = true // the per-event documents are what this test finds again
	client, err := elasticsearch.NewClient(cfg.ClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	version, err := elasticsearch.CheckVersion(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Elasticsearch %s", version)

	// Every golden fixture, decoded and enriched as the collector does, labelled with this run's id.
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	run := hex.EncodeToString(rnd[:])
	st := openStore(t, t.TempDir())
	var manifest []goldenEntry
	raw, _ := os.ReadFile(filepath.Join(goldens, "MANIFEST.json"))
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	en := enrich.New(enrich.Config{})
	var ids []string
	unique := map[string]bool{}
	total, withoutID := 0, 0
	for fi, m := range manifest {
		if _, err := os.Stat(filepath.Join(goldens, m.Golden)); err != nil {
			continue
		}
		body, err := os.ReadFile(filepath.Join(fixtures, m.Fixture))
		if err != nil {
			t.Fatal(err)
		}
		base := goldenBase(m.Endpoint)
		now := time.Now()
		_, err = decoder.New(decoder.Options{}).Decode(ctx, bytes.NewReader(body), &base,
			collector.ProcessBatchFunc(func(ctx context.Context, b *collector.Batch) error {
				if m.Endpoint == "rum" {
					en.ProcessRUM(b)
				} else {
					en.Process(b)
				}
				for i := range *b {
					e := &(*b)[i]
					// The fixtures date from 2017: move them to now, inside the data streams' accepted
					// time range and retention.
					e.Timestamp = now
					e.Labels = append(e.Labels[:len(e.Labels):len(e.Labels)], collector.Label{Key: "hotpath_test_run", Value: run})
					if e.MetricsOnly() {
						continue // stored for the aggregated metrics, indexed as no document
					}
					total++
					// Fixture ids repeat between files: make them this run's and this file's. Within a file,
					// ratelimit.ndjson and minimal.ndjson send some events several times: with the same
					// _id, each is one document (APM Server, which sets no _id, indexes every copy).
					if id := elasticsearch.AppendDocumentID(nil, e); len(id) > 0 {
						e.TraceID = fmt.Sprintf("%s%02d%s", run, fi, e.TraceID)
						id := string(elasticsearch.AppendDocumentID(nil, e))
						if !unique[id] {
							unique[id] = true
							ids = append(ids, id)
						}
					} else {
						withoutID++
					}
				}
				return st.ProcessBatch(ctx, b)
			}))
		if err != nil {
			t.Fatalf("%s: %v", m.Fixture, err)
		}
	}

	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	exportAll(t, cfg, st)
	for _, name := range []string{"hotpath_elasticsearch_docs_failed_total", "hotpath_elasticsearch_docs_unrenderable_total"} {
		if got := metric(t, reg, name); got > 0 {
			t.Errorf("%s = %v: the cluster refused documents (see the log)", name, got)
		}
	}
	want := len(ids) + withoutID
	indexed := metric(t, reg, "hotpath_elasticsearch_docs_indexed_total")
	if dup := metric(t, reg, "hotpath_elasticsearch_docs_duplicate_total"); indexed != float64(want) || indexed+dup != float64(total) {
		t.Errorf("docs_indexed_total = %v and docs_duplicate_total = %v, want %d and %d", indexed, dup, want, total-want)
	}

	indices := []string{"traces-apm*", "logs-apm*", "metrics-apm*"}
	res, err := esapi.IndicesRefreshRequest{Index: indices}.Do(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	count := search(t, ctx, client, indices, fmt.Sprintf(`{"query":{"term":{"labels.hotpath_test_run":%q}}}`, run))
	if count != want {
		t.Errorf("%d documents of this run found, want %d", count, want)
	}
	q, _ := json.Marshal(map[string]any{"query": map[string]any{"ids": map[string]any{"values": ids}}})
	if n := search(t, ctx, client, indices, string(q)); n != len(ids) {
		t.Errorf("%d documents found by _id, want %d", n, len(ids))
	}
}

// search returns the number of hits (tracked exactly) of query over indices.
func search(t *testing.T, ctx context.Context, c esapi.Transport, indices []string, query string) int {
	t.Helper()
	res, err := esapi.SearchRequest{Index: indices, Body: strings.NewReader(query), TrackTotalHits: true, Size: new(int)}.Do(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.IsError() {
		t.Fatalf("search: %s", body)
	}
	var out struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Hits.Total.Value
}
