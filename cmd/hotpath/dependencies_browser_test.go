package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.elastic.co/apm/v2"
)

// TestUIDependencies: searches sent by the real Go agent, each calling Elasticsearch (a quarter of the
// calls slow) and the segmenter over HTTP (a tenth of the calls failing). From the services, one click
// into Dependencies, where both are listed with their percentiles and error rates; one into
// Elasticsearch, with its latency over time and its slowest calls; one into a slow call's waterfall.
func TestUIDependencies(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	tr := newTestTracer(t, tc.url, "", "search", "1.0")
	segmenter, err := url.Parse("http://segmenter:8080/segment?q=shoes")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-2 * time.Minute)
	for k := range 40 {
		at := start.Add(time.Duration(k) * time.Second)
		tx := tr.StartTransactionOptions("GET /search", "request", apm.TransactionOptions{Start: at})
		ctx := apm.ContextWithTransaction(context.Background(), tx)

		seg, _ := apm.StartSpanOptions(ctx, "GET segmenter:8080", "external.http", apm.SpanOptions{Start: at, ExitSpan: true})
		seg.Context.SetHTTPRequest(&http.Request{Method: http.MethodGet, URL: segmenter})
		seg.Duration = 2 * time.Millisecond
		if k%10 == 0 {
			seg.Outcome = "failure"
		}
		seg.End()

		es, _ := apm.StartSpanOptions(ctx, "Elasticsearch: POST products/_search", "db.elasticsearch.request",
			apm.SpanOptions{Start: at.Add(3 * time.Millisecond), ExitSpan: true})
		es.Context.SetDatabase(apm.DatabaseSpanContext{Type: "elasticsearch", Statement: `{"query":{"match":{"title":"shoes"}}}`})
		es.Duration = 5 * time.Millisecond
		if k%4 == 0 {
			es.Duration = 200 * time.Millisecond
		}
		es.End()
		tx.Duration = es.Duration + 5*time.Millisecond
		tx.Result, tx.Outcome = "HTTP 2xx", "success"
		tx.End()
	}
	tr.Flush(nil)

	ctx := newBrowser(t, 1280, 1000)
	fromServices(t, ctx, tc.url, "search", "dependencies")
	type row struct{ Target, Name, Rate, P50, P99 string }
	rows := evalJS[[]row](t, ctx, `[...document.querySelectorAll('table.dependencies tbody tr')].map((r) => ({
		target: r.dataset.target, name: r.querySelector('.dep-name').textContent,
		rate: r.cells[2].textContent, p50: r.cells[3].textContent, p99: r.cells[5].textContent }))`)
	if len(rows) != 2 || rows[0].Target != "elasticsearch" || rows[1].Name != "segmenter:8080" {
		t.Fatalf("dependencies by total time %+v, want Elasticsearch then the segmenter", rows)
	}
	// Elasticsearch: p50 5 ms, p99 200 ms (the slow quarter); the segmenter: 10% of its calls failed.
	if !strings.HasPrefix(rows[0].P50, "5") || !strings.HasPrefix(rows[0].P99, "20") || !strings.HasSuffix(rows[0].P99, "ms") {
		t.Errorf("Elasticsearch p50 %q p99 %q, want 5 ms and 200 ms", rows[0].P50, rows[0].P99)
	}
	if !strings.HasPrefix(rows[1].Rate, "10") {
		t.Errorf("the segmenter's error rate %q, want 10%%", rows[1].Rate)
	}
	screenshot(t, ctx, "dependencies")

	browse(t, ctx, "into Elasticsearch",
		chromedp.Click(chromedp.CSS(`table.dependencies tbody tr:first-child a.dependency-link`)),
		chromedp.WaitVisible(chromedp.CSS(`table.slowest a.slow-call-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.latency-chart svg path.line`)))
	slowest := evalJS[[]string](t, ctx, `[...document.querySelectorAll('table.slowest tbody tr')].map((r) => r.cells[0].textContent)`)
	if len(slowest) == 0 || len(slowest) > 10 || !strings.HasPrefix(slowest[0], "20") {
		t.Errorf("slowest calls %q, want the 200 ms ones first", slowest)
	}
	screenshot(t, ctx, "dependency")

	browse(t, ctx, "into a slow call's waterfall",
		chromedp.Click(chromedp.CSS(`table.slowest tbody tr:first-child a.slow-call-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.wf-item`)))
	if page := evalJS[string](t, ctx, `new URLSearchParams(location.search).get('page')`); page != "trace" {
		t.Errorf("page %q, want the trace", page)
	}
}
