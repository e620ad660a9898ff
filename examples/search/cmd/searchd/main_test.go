package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/internal/clustertest"
	"github.com/hotpath-apm/hotpath/examples/search/internal/cmdtest"
	"github.com/hotpath-apm/hotpath/examples/search/internal/intaketest"
	"github.com/hotpath-apm/hotpath/examples/search/internal/leakcheck"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// runSearchd runs the command until the returned stop is called, and returns its stack once ready.
func runSearchd(t *testing.T, args []string, vars map[string]string) (*stack.Stack, func() error) {
	t.Helper()
	return cmdtest.Start(t, func(ctx context.Context, ready func(*stack.Stack)) error {
		return run(ctx, args, func(k string) string { return vars[k] }, io.Discard, zaptest.NewLogger(t), ready)
	})
}

func search1(t *testing.T, base, q string) search.Answer {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(base + "/search?q=" + q)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a search.Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %v", resp.Status, err)
	}
	return a
}

// TestSearchd runs the command as a user would (ELASTIC_APM_* to an intake, the stand-in, the profiler
// on), searches, stops it with its context, and finds both services' transactions at the intake.
func TestSearchd(t *testing.T) {
	in := intaketest.New(t)
	t.Setenv("ELASTIC_APM_SERVER_URL", in.URL())
	t.Setenv("ELASTIC_APM_SERVICE_NAME", "search")
	st, stop := runSearchd(t, []string{"-addr", "127.0.0.1:0", "-catalog-size", "500", "-trouble", "-profile"}, nil)
	if st.StandIn == nil || len(st.Products) != 500 {
		t.Errorf("stand-in %v, %d products", st.StandIn, len(st.Products))
	}
	if a := search1(t, st.SearchURL, "shoes"); a.Total == 0 {
		t.Errorf("no shoes: %+v", a)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	services := map[string]string{}
	for _, tx := range in.Transactions() {
		services[tx.Name] = tx.Service
	}
	if services["GET /search"] != "search" || services["POST /segment"] != "segmenter" {
		t.Errorf("transactions by service: %v", services)
	}
}

// TestSearchdOnCluster: with ELASTICSEARCH_URL, the command uses that cluster (here a stand-in started
// apart, as a cluster would be) and, with -setup-index, loads it first.
func TestSearchdOnCluster(t *testing.T) {
	es, url := clustertest.StandIn(t, esstandin.Config{})
	t.Setenv("ELASTIC_APM_ACTIVE", "false")
	st, stop := runSearchd(t, []string{"-addr", "127.0.0.1:0", "-catalog-size", "300", "-setup-index"},
		map[string]string{"ELASTICSEARCH_URL": url})
	if st.StandIn != nil || st.ElasticsearchURL != url {
		t.Errorf("stack on %s with stand-in %v", st.ElasticsearchURL, st.StandIn)
	}
	search1(t, st.SearchURL, "shoes")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := es.Stats().Searches; n != 1 {
		t.Errorf("the cluster answered %d searches, want 1", n)
	}
	if err := run(context.Background(), []string{"-catalog-size", "1"}, func(k string) string {
		return map[string]string{"ELASTICSEARCH_URL": url, "ELASTICSEARCH_CA_CERT": "/nonexistent"}[k]
	}, io.Discard, zaptest.NewLogger(t), nil); err == nil || !strings.Contains(err.Error(), "ELASTICSEARCH_CA_CERT") {
		t.Errorf("a missing CA file: %v", err)
	}
}
