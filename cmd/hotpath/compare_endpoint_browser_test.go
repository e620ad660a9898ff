package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.elastic.co/apm/v2"
)

// TestUICompareEndpoint: Compare for one endpoint, with transactions of two versions sent by the real Go
// agent: the verdict chip, and the two latency histograms overlaid.
func TestUICompareEndpoint(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	start := time.Now().Add(-time.Minute)
	for i, v := range []string{"1.4.2", "1.5.0"} {
		tr := newTestTracer(t, tc.url, "", "search", v)
		for k := range 300 {
			tx := tr.StartTransactionOptions("GET /search", "request", apm.TransactionOptions{Start: start})
			tx.Outcome = "success"
			tx.Duration = time.Duration(10+k%50*(2-i)) * time.Millisecond // 1.5.0 about half as slow
			tx.End()
		}
		tr.Flush(nil)
		tr.Close()
	}
	ctx := newBrowser(t, 1280, 900)
	browse(t, ctx, "compare one endpoint",
		chromedp.Navigate(tc.url+"/ui/?page=compare&service=search&by=version&a=1.4.2&b=1.5.0&name=GET+%2Fsearch"),
		chromedp.WaitVisible(chromedp.CSS(`.compare-histogram svg rect.side-b`)))
	if v := evalJS[string](t, ctx, `document.querySelector('table.compare .verdict').dataset.verdict`); v != "faster" {
		t.Errorf("verdict %q, want faster", v)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('.compare-histogram svg rect.side-a').length`); n == 0 {
		t.Error("no bars of A in the overlaid histograms")
	}
	screenshot(t, ctx, "compare-endpoint")
}
