package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
)

// TestUIFailover: the real Go agent's breaker hook sends an open period of 300 ms (shorter than any
// polling interval) and searches served by the emergency cache while it was open; on the endpoint page
// the latency chart shades the period, the Failover card shows the cache's share per minute over the same
// shading and the breaker's figures, and the waterfall of a short-circuited search says so.
func TestUIFailover(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	tr := newTestTracer(t, tc.url, "", "search", "1.0")
	b := agent.NewBreaker("elasticsearch", agent.WithBreakerTracer(tr))

	// Searches over the last three minutes, served by Elasticsearch; then the breaker opens for 300 ms,
	// during which searches are short-circuited and answered from the cache (or refused).
	now := time.Now()
	search := func(start time.Time, d agent.BreakerDecision, servedBy string) (trace, id string) {
		tx := tr.StartTransactionOptions("GET /search", "request", apm.TransactionOptions{Start: start})
		ctx := apm.ContextWithTransaction(context.Background(), tx)
		b.Decide(ctx, d)
		agent.ServedBy(ctx, servedBy)
		tx.Result, tx.Outcome = "HTTP 2xx", "success"
		tx.Duration = 20 * time.Millisecond
		trace, id = fmt.Sprint(tx.TraceContext().Trace), fmt.Sprint(tx.TraceContext().Span)
		tx.End()
		return trace, id
	}
	for k := range 60 {
		search(now.Add(-3*time.Minute+time.Duration(k)*3*time.Second), agent.DecisionAllowed, "elasticsearch")
	}
	opened := b.Changed(agent.BreakerClosed, agent.BreakerOpen, time.Time{})
	var cachedTrace, cachedTx string
	for k := range 6 {
		served := "emergency_cache"
		if k == 5 {
			served = agent.ServedRejected
		}
		trace, id := search(opened.At.Add(time.Duration(k)*40*time.Millisecond), agent.DecisionRejected, served)
		if k == 0 {
			cachedTrace, cachedTx = trace, id
		}
	}
	b.Changed(agent.BreakerOpen, agent.BreakerHalfOpen, opened.At.Add(300*time.Millisecond))
	b.Changed(agent.BreakerHalfOpen, agent.BreakerClosed, opened.At.Add(320*time.Millisecond))
	tr.Flush(nil)

	ctx := newBrowser(t, 1280, 1000)
	browse(t, ctx, "the endpoint page with a breaker's open period",
		chromedp.Navigate(tc.url+"/ui/?page=endpoint&service=search&name=GET+%2Fsearch&range=15m"),
		chromedp.WaitVisible(chromedp.CSS(`.latency-chart svg rect.band[data-band="elasticsearch"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.failover .cache-share-chart svg rect.band`)))
	if w := evalJS[float64](t, ctx, `+document.querySelector('.latency-chart svg rect.band').getAttribute('width')`); w < 2 {
		t.Errorf("the 300 ms band is %v px wide, want at least 2", w)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('.latency-chart svg rect.band').length`); n != 1 {
		t.Errorf("%d bands on the latency chart, want 1", n)
	}
	row := evalJS[[]string](t, ctx, `[...document.querySelectorAll('.failover table.breakers tr[data-breaker="elasticsearch"] td')].map((c) => c.textContent)`)
	if len(row) != 4 || row[1] != "3" || row[2] != "1×" {
		t.Errorf("breaker row %q, want elasticsearch, 3 changes, open 1×", row)
	}
	// The cache's share: 5 of the 66 searches in the range.
	if hint := evalJS[string](t, ctx, `document.querySelector('.failover .legend .hint').textContent`); hint != " 7.6 % of 66 requests in the range" {
		t.Errorf("cache share %q, want 7.6 %% of 66", hint)
	}
	screenshot(t, ctx, "failover-endpoint")

	browse(t, ctx, "the waterfall of a short-circuited search",
		chromedp.Navigate(fmt.Sprintf("%s/ui/?page=trace&trace=%s&tx=%s", tc.url, cachedTrace, cachedTx)),
		chromedp.WaitVisible(chromedp.CSS(`.chip.failover-note`)))
	if note := evalJS[string](t, ctx, `document.querySelector('.chip.failover-note').textContent`); note != "short-circuited (breaker elasticsearch open): answered from the emergency cache" {
		t.Errorf("waterfall note %q", note)
	}
}
