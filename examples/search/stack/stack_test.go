package stack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/internal/clustertest"
	"github.com/hotpath-apm/hotpath/examples/search/internal/intaketest"
	"github.com/hotpath-apm/hotpath/examples/search/internal/leakcheck"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func get(t *testing.T, u string) search.Answer {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a search.Answer
	if resp.StatusCode != 200 || json.Unmarshal(b, &a) != nil {
		t.Fatalf("%s: %s", resp.Status, b)
	}
	return a
}

// TestStartShutdown: the zero Config (but a small catalog and test tracers) serves searches on loopback,
// and Shutdown stops everything (goleak checks).
func TestStartShutdown(t *testing.T) {
	in := intaketest.New(t)
	st, err := Start(context.Background(), Config{CatalogSize: 400,
		Search: search.Config{Tracer: in.Tracer(t, "search")}, Segmenter: segmenter.Config{Tracer: in.Tracer(t, "segmenter")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{st.SearchURL, st.SegmenterURL, st.ElasticsearchURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("%q is not on loopback", u)
		}
	}
	if a := get(t, st.SearchURL+"/search?q=shoes"); a.Total == 0 {
		t.Errorf("%+v", a)
	}
	if err := st.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(st.SearchURL + "/healthz"); err == nil {
		t.Error("the service still answers after Shutdown")
	}
}

func TestApplyTrouble(t *testing.T) {
	cfg := Config{Trouble: true}
	applyTrouble(&cfg)
	if !cfg.Search.Trouble.QuadraticSynonyms || cfg.Search.Trouble.HeavyRanking != DemoHeavyRanking ||
		cfg.Segmenter.SlowFraction != DemoSegmenterSlowFraction || cfg.Segmenter.SlowDelay != DemoSegmenterSlowDelay ||
		cfg.Segmenter.Delay != DemoSegmenterDelay || cfg.Search.SlowThreshold != DemoSlowThreshold {
		t.Errorf("demo trouble: %+v %+v", cfg.Search.Trouble, cfg.Segmenter)
	}
	// What the caller set is kept.
	cfg = Config{Trouble: true, Search: search.Config{Trouble: search.Trouble{HeavyRanking: 0.5}},
		Segmenter: segmenter.Config{SlowFraction: 0.2, Delay: time.Millisecond}}
	applyTrouble(&cfg)
	if cfg.Search.Trouble.QuadraticSynonyms || cfg.Search.Trouble.HeavyRanking != 0.5 || cfg.Segmenter.SlowFraction != 0.2 ||
		cfg.Segmenter.SlowDelay != 0 || cfg.Segmenter.Delay != time.Millisecond {
		t.Errorf("trouble over the caller's: %+v %+v", cfg.Search.Trouble, cfg.Segmenter)
	}
}

// TestStartFailure: a part that cannot start stops those already started (goleak checks) and says why.
func TestStartFailure(t *testing.T) {
	st, err := Start(context.Background(), Config{CatalogSize: 10, SearchAddr: "127.0.0.1:notaport",
		Search: search.Config{Tracer: intaketest.New(t).Tracer(t, "search")}})
	if err == nil || st != nil || !strings.Contains(err.Error(), "search service") {
		t.Errorf("Start with a bad address: %v, %v", st, err)
	}
	_, err = Start(context.Background(), Config{ElasticsearchURL: "http://127.0.0.1:1", SetupIndex: true, CatalogSize: 10,
		Segmenter: segmenter.Config{Tracer: intaketest.New(t).Tracer(t, "segmenter")}})
	if err == nil || !strings.Contains(err.Error(), "index setup") {
		t.Errorf("Start on an unreachable cluster: %v", err)
	}
}

// TestRealCluster runs the example on a real Elasticsearch cluster when HOTPATH_TEST_ES_URL names one
// (with HOTPATH_TEST_ES_USERNAME, _PASSWORD, _API_KEY, _CA_CERT as the collector's integration test): it
// loads a catalog into a test index and searches it with both ranking scripts, so the query DSL and the
// Painless scripts the stand-in runs are checked against Elasticsearch itself. Skipped otherwise.
func TestRealCluster(t *testing.T) {
	c := clustertest.Real(t, "the other tests run the example on the stand-in")
	in := intaketest.New(t)
	const index = "hotpath-search-example-stack-test"
	st, err := Start(context.Background(), Config{ElasticsearchURL: c.URL, ElasticsearchAPIKey: c.APIKey,
		ElasticsearchCACert: c.CACert(t), SetupIndex: true, CatalogSize: 2000,
		Search: search.Config{Index: index, Tracer: in.Tracer(t, "search")}, Segmenter: segmenter.Config{Tracer: in.Tracer(t, "segmenter")}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Shutdown(context.Background())
	def := get(t, st.SearchURL+"/search?q="+url.QueryEscape("나이키 러닝화"))
	per := get(t, st.SearchURL+"/search?rank=personalized&q="+url.QueryEscape("나이키 러닝화"))
	if def.Total == 0 || def.Total != per.Total || per.Ranking != search.RankPersonalized {
		t.Errorf("default %d hits, personalized %d (%s)", def.Total, per.Total, per.Ranking)
	}
	es, closeIdle, err := search.NewElasticsearchClient(c.URL, c.APIKey, c.CACert(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdle()
	if res, err := es.Indices.Delete([]string{index}); err == nil {
		res.Body.Close()
	}
}
