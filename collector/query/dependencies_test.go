package query

import (
	"net/http"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

func TestDependencies(t *testing.T) {
	deps := fakeShapes{
		stats: []collector.DependencyStats{
			{QueryShapeCounts: collector.QueryShapeCounts{Shape: "elasticsearch", Summary: "elasticsearch", DBType: "elasticsearch",
				Count: 600, Errors: 6, Sum: 600 * 20 * time.Millisecond}, Duration: hist(10_000, 20_000, 900_000)},
			{QueryShapeCounts: collector.QueryShapeCounts{Shape: "http/segmenter:8080", Summary: "segmenter:8080", DBType: "http",
				Count: 1200, Sum: 1200 * 2 * time.Millisecond}, Duration: hist(1_000, 2_000, 3_000)},
		},
		examples: []collector.DependencyExample{{TraceID: "t1", TransactionID: "x1", SpanID: "s1", Timestamp: now.Add(-time.Minute),
			Duration: 900 * time.Millisecond, Statement: "Elasticsearch: POST /products/_search"}},
	}
	a := newTestAPI(t, Config{Store: &fakeStore{}, Dependencies: deps})
	body := getOK(t, a, "/api/v1/dependencies?service=search&from=now-1h")
	ds := body["dependencies"].([]any)
	es, seg := ds[0].(map[string]any), ds[1].(map[string]any)
	if len(ds) != 2 || es["target"] != "elasticsearch" || seg["target"] != "http/segmenter:8080" || seg["name"] != "segmenter:8080" ||
		seg["type"] != "http" {
		t.Fatalf("by total time: %v", ds)
	}
	// 600 calls in an hour, 1% of them failed, 20 ms each on average.
	if es["calls_per_minute"] != 10.0 || es["error_rate"] != 0.01 || es["mean_us"] != 20_000.0 || es["calls"] != 600.0 {
		t.Errorf("elasticsearch %v", es)
	}
	if p := es["duration_us"].(map[string]any); p["p99"].(float64) < 890_000 || p["p50"].(float64) > 21_000 {
		t.Errorf("elasticsearch percentiles %v", p)
	}
	_, body = do(t, a, http.MethodGet, "/api/v1/dependencies?service=search&sort=calls")
	if body["dependencies"].([]any)[0].(map[string]any)["target"] != "http/segmenter:8080" {
		t.Errorf("by calls: %v", body["dependencies"])
	}

	body = getOK(t, a, "/api/v1/dependency?service=search&target=elasticsearch&from=now-1h")
	if body["name"] != "elasticsearch" || len(body["series"].([]any)) != 1 || len(body["histogram"].([]any)) == 0 {
		t.Fatalf("one dependency: %v", body)
	}
	slowest := body["slowest"].([]any)
	if len(slowest) != 1 || slowest[0].(map[string]any)["trace_id"] != "t1" || slowest[0].(map[string]any)["duration_us"] != 900_000.0 ||
		slowest[0].(map[string]any)["name"] != "Elasticsearch: POST /products/_search" {
		t.Errorf("slowest %v", slowest)
	}
}
