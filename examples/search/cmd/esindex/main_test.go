package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/internal/clustertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestEsindexOnStandIn runs the command as against a cluster (ELASTICSEARCH_URL), on the stand-in,
// which speaks the index creation, _bulk, _refresh and _count it uses.
func TestEsindexOnStandIn(t *testing.T) {
	_, url := clustertest.StandIn(t, esstandin.Config{})
	ctx := context.Background()
	vars := env(map[string]string{"ELASTICSEARCH_URL": url})
	var out strings.Builder
	if err := run(ctx, []string{"-size", "700", "-index", "shop"}, vars, &out, zaptest.NewLogger(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "indexed 700 products into shop") {
		t.Errorf("output %q", out.String())
	}
	if err := run(ctx, []string{"-size", "10", "-index", "shop"}, vars, &out, zaptest.NewLogger(t)); !errors.Is(err, search.ErrIndexExists) {
		t.Errorf("a second run without -recreate: %v", err)
	}
	if err := run(ctx, []string{"-size", "10", "-index", "shop", "-recreate"}, vars, &out, zaptest.NewLogger(t)); err != nil {
		t.Errorf("-recreate: %v", err)
	}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{nil, nil, "ELASTICSEARCH_URL is not set"},
		{[]string{"-size", "-1"}, nil, "-size must be"},
		{nil, map[string]string{"ELASTICSEARCH_URL": url, "ELASTICSEARCH_CA_CERT": "/nonexistent"}, "ELASTICSEARCH_CA_CERT"},
		{[]string{"-bogus"}, nil, "flag provided but not defined"},
	} {
		if err := run(ctx, tc.args, env(tc.vars), &out, zaptest.NewLogger(t)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want %q", tc.args, tc.vars, err, tc.want)
		}
	}
}

// TestEsindexOnCluster runs the command against a real Elasticsearch cluster when HOTPATH_TEST_ES_URL
// names one, with the variables the collector's integration test uses (HOTPATH_TEST_ES_USERNAME,
// _PASSWORD, _API_KEY, _CA_CERT). It is skipped otherwise: TestEsindexOnStandIn runs the same requests on
// the stand-in, and stack's TestRealCluster searches what this loads.
func TestEsindexOnCluster(t *testing.T) {
	c := clustertest.Real(t, "TestEsindexOnStandIn runs the same path on the stand-in")
	vars := env(map[string]string{"ELASTICSEARCH_URL": c.URL, "ELASTICSEARCH_API_KEY": c.APIKey,
		"ELASTICSEARCH_CA_CERT": c.CACertFile})
	const index = "hotpath-search-example-test"
	var out strings.Builder
	if err := run(context.Background(), []string{"-size", "1000", "-index", index, "-recreate"}, vars, &out, zaptest.NewLogger(t)); err != nil {
		t.Fatal(err)
	}
	es, closeIdle, err := search.NewElasticsearchClient(c.URL, c.APIKey, c.CACert(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdle()
	res, err := es.Indices.Delete([]string{index})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}
