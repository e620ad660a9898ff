package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.elastic.co/apm/v2"
)

// TestUIQueries: searches sent by the real Go agent with Elasticsearch spans of two query shapes, the
// statements as any Elastic agent sends them (the collector computes the shapes): from the service,
// one click into Queries, where the slow ranking-script shape is on top by total time with Elasticsearch's
// took against the rest; one into that shape, with its slowest calls; one into a call's waterfall,
// whose Elasticsearch span links back to the shape.
func TestUIQueries(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	tr := newTestTracer(t, tc.url, "", "search", "1.0")
	start := time.Now().Add(-2 * time.Minute)
	for k := range 40 {
		slow := k%4 == 0
		at := start.Add(time.Duration(k) * time.Second)
		tx := tr.StartTransactionOptions("GET /search", "request", apm.TransactionOptions{Start: at})
		ctx := apm.ContextWithTransaction(context.Background(), tx)
		span, _ := apm.StartSpanOptions(ctx, "Elasticsearch: POST products/_search", "db.elasticsearch.request",
			apm.SpanOptions{Start: at.Add(time.Millisecond)})
		stmt, d, took := fmt.Sprintf(`{"query":{"match":{"title":"shoes %d"}},"size":20}`, k), 5*time.Millisecond, 3.0
		if slow {
			stmt = fmt.Sprintf(`{"query":{"script_score":{"query":{"match":{"title":"shoes %d"}},"script":{"source":"personal(doc, params.user)","params":{"user":%d}}}},"size":20}`, k, k)
			d, took = 200*time.Millisecond, 150
		}
		span.Context.SetDatabase(apm.DatabaseSpanContext{Type: "elasticsearch", Statement: stmt})
		span.Context.SetLabel("es_took_ms", took)
		span.Duration = d
		span.End()
		tx.Duration = d + 2*time.Millisecond
		tx.Result, tx.Outcome = "HTTP 2xx", "success"
		tx.End()
	}
	tr.Flush(nil)

	ctx := newBrowser(t, 1280, 1000)
	fromServices(t, ctx, tc.url, "search", "queries")
	rows := evalJS[[]string](t, ctx, `[...document.querySelectorAll('table.queries tbody tr')].map((r) => r.querySelector('.shape-summary').textContent + ' | ' + r.querySelector('.took').textContent)`)
	if len(rows) != 2 || !strings.Contains(rows[0], "script_score") || strings.Contains(rows[1], "script_score") {
		t.Fatalf("shapes by total time %q, want the ranking script's first of 2", rows)
	}
	// 150 ms of took and 50 ms around it, within the histograms' 1%.
	if !regexp.MustCompile(`(149|15[01])(\.\d)? ms / (49|50)(\.\d)? ms$`).MatchString(rows[0]) {
		t.Errorf("the ranking script's took against the rest %q, want 150 ms / 50 ms", rows[0])
	}
	screenshot(t, ctx, "queries")
	// The sort tabs: total time is the default; by calls, the match shape (three searches of four) leads.
	if active := evalJS[string](t, ctx, `document.querySelector('nav.tabs.sort a.active').textContent`); active != "total time" {
		t.Errorf("active sort tab %q, want total time", active)
	}
	browse(t, ctx, "sorted by calls",
		chromedp.Click(chromedp.CSS(`nav.tabs.sort a:last-child`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.tabs.sort a.active:last-child`)),
		chromedp.WaitVisible(chromedp.CSS(`table.queries tbody tr`)))
	byCalls := evalJS[[]string](t, ctx, `[...document.querySelectorAll('table.queries tbody tr .shape-summary')].map((c) => c.textContent)`)
	if len(byCalls) != 2 || strings.Contains(byCalls[0], "script_score") || !strings.Contains(byCalls[1], "script_score") {
		t.Errorf("shapes by calls %q, want the ranking script's last of 2", byCalls)
	}
	browse(t, ctx, "sorted by total time again",
		chromedp.Click(chromedp.CSS(`nav.tabs.sort a:first-child`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.tabs.sort a.active:first-child`)),
		chromedp.WaitVisible(chromedp.CSS(`table.queries tbody tr`)))

	browse(t, ctx, "into the ranking script's shape",
		chromedp.Click(chromedp.CSS(`table.queries tbody tr:first-child a.shape-link`)),
		chromedp.WaitVisible(chromedp.CSS(`table.examples a.example-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.latency-chart svg path.line`)))
	if n := evalJS[int](t, ctx, `document.querySelectorAll('table.examples tbody tr').length`); n == 0 || n > 10 {
		t.Errorf("%d slowest calls", n)
	}
	screenshot(t, ctx, "query-shape")
	shape := evalJS[string](t, ctx, `new URLSearchParams(location.search).get('shape')`)

	browse(t, ctx, "into a slowest call's waterfall",
		chromedp.Click(chromedp.CSS(`table.examples tbody tr:first-child a.example-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.wf-item a.shape-link`)))
	if href := evalJS[string](t, ctx, `document.querySelector('.wf-item a.shape-link').getAttribute('href')`); !strings.Contains(href, "shape="+shape) {
		t.Errorf("the span's shape link %q, want shape=%s", href, shape)
	}
}
