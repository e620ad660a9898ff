package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// getJSON gets a query API path with the secret token and decodes the answer.
func getJSON(t *testing.T, base, path, token string, into any) int {
	t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	code, body := get(t, base+path, auth)
	if into != nil && code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), into); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
	}
	return code
}

type apiStats struct {
	Transactions int64    `json:"transactions"`
	Throughput   float64  `json:"throughput_per_minute"`
	Failures     int64    `json:"failures"`
	ErrorRate    *float64 `json:"error_rate"`
	Latency      *struct {
		P50, P95, P99, Max int64
	} `json:"latency_us"`
}

// TestQueryAPIEndToEnd: the query API answers from the real store, filled by the real Go agent through
// the intake, behind the intake's secret token.
func TestQueryAPIEndToEnd(t *testing.T) {
	cfg := testConfig(t)
	cfg.secretToken = "s3cret"
	tc := startCollector(t, cfg, nil)
	fillSearchService(t, tc.url, cfg.secretToken, false)
	tok := cfg.secretToken

	// The same token as intake.
	for _, auth := range []string{"", "Bearer wrong"} {
		if code, _ := get(t, tc.url+"/api/v1/services", auth); code != http.StatusUnauthorized {
			t.Errorf("services with %q: %d, want 401", auth, code)
		}
	}
	if code, _ := get(t, tc.url+"/ui/", ""); code != http.StatusOK {
		t.Errorf("the UI's files are public: %d", code)
	}

	var svcs struct {
		Services []struct {
			Name string `json:"name"`
			apiStats
		} `json:"services"`
	}
	if code := getJSON(t, tc.url, "/api/v1/services", tok, &svcs); code != 200 || len(svcs.Services) != 1 {
		t.Fatalf("services %d %+v", code, svcs)
	}
	all := svcs.Services[0]
	const total = searchFast + 2 + searchSuggests
	if all.Name != "search" || all.Transactions != total || all.Failures != 1 || all.Latency == nil ||
		all.Latency.Max < slowESDelay.Microseconds() {
		t.Errorf("service %+v", all)
	}

	var eps struct {
		Endpoints []struct {
			Name string `json:"name"`
			Type string `json:"type"`
			apiStats
		} `json:"endpoints"`
	}
	getJSON(t, tc.url, "/api/v1/endpoints?service=search", tok, &eps)
	if len(eps.Endpoints) != 2 || eps.Endpoints[0].Name != "GET /search" || eps.Endpoints[0].Transactions != searchFast+2 ||
		eps.Endpoints[1].Name != "GET /suggest" || eps.Endpoints[1].Transactions != searchSuggests || eps.Endpoints[0].Type != "request" {
		t.Fatalf("endpoints %+v", eps)
	}
	if r := eps.Endpoints[0].ErrorRate; r == nil || *r != float64(1)/float64(searchFast+2) && *r != round6(1/float64(searchFast+2)) {
		t.Errorf("error rate of GET /search: %v", r)
	}

	var ep struct {
		apiStats
		Series []struct {
			Start time.Time `json:"start"`
			apiStats
		} `json:"series"`
		Histogram []struct{ Count int64 } `json:"histogram"`
	}
	getJSON(t, tc.url, "/api/v1/endpoint?service=search&name="+url.QueryEscape("GET /search")+"&from=now-15m", tok, &ep)
	var inSeries, inHist int64
	for _, p := range ep.Series {
		inSeries += p.Transactions
	}
	for _, b := range ep.Histogram {
		inHist += b.Count
	}
	if ep.Transactions != searchFast+2 || inSeries != ep.Transactions || inHist != ep.Transactions || len(ep.Series) < 15 || len(ep.Series) > 16 {
		t.Errorf("endpoint: %d transactions, %d in the series (%d points), %d in the histogram", ep.Transactions, inSeries, len(ep.Series), inHist)
	}

	// The slowest transaction of GET /search, then the slow ones by label.
	var txs struct {
		Transactions []struct {
			TraceID       string            `json:"trace_id"`
			TransactionID string            `json:"transaction_id"`
			DurationUS    int64             `json:"duration_us"`
			Result        string            `json:"result"`
			Labels        map[string]string `json:"labels"`
		} `json:"transactions"`
		Next *string `json:"next"`
	}
	getJSON(t, tc.url, "/api/v1/transactions?service=search&name="+url.QueryEscape("GET /search")+"&sort=duration&limit=3", tok, &txs)
	if len(txs.Transactions) != 3 || txs.Next == nil || txs.Transactions[0].DurationUS < slowESDelay.Microseconds() ||
		txs.Transactions[0].Labels["slow"] != "true" || txs.Transactions[1].DurationUS > txs.Transactions[0].DurationUS {
		t.Fatalf("slowest %+v", txs)
	}
	slowest := txs.Transactions[0]
	getJSON(t, tc.url, "/api/v1/transactions?service=search&slow=true", tok, &txs)
	if len(txs.Transactions) != 1 || txs.Transactions[0].TraceID != slowest.TraceID || txs.Next != nil {
		t.Errorf("slow=true: %+v", txs)
	}
	getJSON(t, tc.url, "/api/v1/transactions?service=search&result="+url.QueryEscape("HTTP 5xx"), tok, &txs)
	if len(txs.Transactions) != 1 {
		t.Errorf("result=HTTP 5xx: %+v", txs)
	}

	// Its trace: the spans nested as the service made them, Elasticsearch's took on its span.
	var tr struct {
		Items []struct {
			Kind     string         `json:"kind"`
			Name     string         `json:"name"`
			Depth    int            `json:"depth"`
			Duration int64          `json:"duration_us"`
			Labels   map[string]any `json:"labels"`
			DB       *struct {
				Statement string `json:"statement"`
			} `json:"db"`
		} `json:"items"`
	}
	if code := getJSON(t, tc.url, "/api/v1/traces/"+slowest.TraceID, tok, &tr); code != 200 {
		t.Fatalf("trace: %d", code)
	}
	var lines []string
	for _, it := range tr.Items {
		lines = append(lines, strings.Repeat("  ", it.Depth)+it.Kind+" "+it.Name)
	}
	want := []string{
		"transaction GET /search",
		"  span build query",
		"    span POST segmenter",
		"  span " + esSearchName,
		"  span rank results",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("trace\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	es := tr.Items[3]
	if es.Labels["es_took_ms"] != float64(slowTook) || es.DB == nil || !strings.Contains(es.DB.Statement, "running slow") ||
		es.Duration < slowESDelay.Microseconds() {
		t.Errorf("Elasticsearch span %+v", es)
	}

	// Where the time goes: the agent's breakdown, Elasticsearch first.
	var bd struct {
		Types []struct {
			Type, Subtype string
			Share         float64
		} `json:"types"`
	}
	getJSON(t, tc.url, "/api/v1/breakdown?service=search&name="+url.QueryEscape("GET /search"), tok, &bd)
	if len(bd.Types) < 3 || bd.Types[0].Type != "db" || bd.Types[0].Subtype != "elasticsearch" || bd.Types[0].Share < 0.5 {
		t.Errorf("breakdown %+v", bd)
	}

	// The error, grouped, pointing at its trace.
	var errs struct {
		Total  int64 `json:"total"`
		Groups []struct {
			Count   int64  `json:"count"`
			Message string `json:"message"`
			Latest  struct {
				TraceID string `json:"trace_id"`
			} `json:"latest"`
		} `json:"groups"`
	}
	getJSON(t, tc.url, "/api/v1/errors?service=search", tok, &errs)
	if errs.Total != 1 || len(errs.Groups) != 1 || !strings.Contains(errs.Groups[0].Message, "503") || errs.Groups[0].Latest.TraceID == "" {
		t.Errorf("errors %+v", errs)
	}

	// Bad input names the parameter; the API is read-only.
	code, body := get(t, tc.url+"/api/v1/transactions?service=search&sort=sideways", "Bearer "+tok)
	if code != 400 || !strings.Contains(body, `"parameter":"sort"`) {
		t.Errorf("bad sort: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, tc.url+"/api/v1/traces/"+slowest.TraceID, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if code, _ := do(t, req); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", code)
	}
}

func round6(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }
