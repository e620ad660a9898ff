package main

import (
	"context"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDemoCompareBrowser: in the demo, whose search service runs 1.4.2 (with the example's trouble)
// beside 1.5.0 (with it fixed), real headless Chromium opens Compare from the endpoint page and finds
// GET /search faster in 1.5.0, with its interval and q-value; the endpoint's latency chart marks where a
// version starts.
func TestDemoCompareBrowser(t *testing.T) {
	cfg, err := parseDemoFlags([]string{"--listen", "127.0.0.1:0", "--rate", "40", "--catalog-size", "200",
		"--duration", "3m"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan demoRunning, 1)
	cfg.ready = func(r demoRunning) { ready <- r }
	demoCtx, interrupt := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	stopped := make(chan struct{})
	var demoErr error
	go func() {
		defer close(stopped)
		demoErr = demo(demoCtx, cfg, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		interrupt()
		<-stopped
	})
	var run demoRunning
	select {
	case run = <-ready:
	case <-stopped:
		t.Fatalf("the demo stopped before it was ready: %v\n%s", demoErr, stderr.String())
	}

	// Wait (through the API) until the comparison has enough searches of each version for a verdict.
	compareQuery := url.Values{"service": {demoService}, "by": {"version"}, "a": {demoOldVersion}, "b": {demoNewVersion},
		"from": {"now-15m"}}.Encode()
	var c struct {
		Endpoints []compareRow `json:"endpoints"`
	}
	// The verdict must hold for 5 polls in a row: with few searches a side it may come and go.
	deadline := time.Now().Add(150 * time.Second)
	for held := 0; held < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("after 150 s, GET /search is not faster in 1.5.0 against 1.4.2 for 5 polls in a row: %+v", c)
		}
		select {
		case <-time.After(time.Second):
		case <-stopped:
			t.Fatalf("the demo stopped: %v\n%s", demoErr, stderr.String())
		}
		getJSON(t, run.collectorURL, "/api/v1/compare?"+compareQuery, "", &c)
		held++
		if !slices.ContainsFunc(c.Endpoints, func(e compareRow) bool { return e.Name == "GET /search" && e.Verdict == "faster" }) {
			held = 0
		}
	}

	// The endpoint page: a marker where a version starts, and the way to Compare.
	ctx := newBrowser(t, 1280, 900)
	endpoint := run.collectorURL + "/ui/?" + url.Values{"page": {"endpoint"}, "service": {demoService}, "name": {"GET /search"}, "range": {"15m"}}.Encode()
	browse(t, ctx, "endpoint",
		chromedp.Navigate(endpoint),
		chromedp.WaitVisible(chromedp.CSS(`.latency-chart svg g.marker`)),
		chromedp.Click(chromedp.CSS(`h1 a.compare-link`)),
		chromedp.WaitVisible(chromedp.CSS(`table.compare tr[data-endpoint="GET /search"] .verdict`)))
	marker := evalJS[string](t, ctx, `location.search`)
	if !strings.Contains(marker, "page=compare") {
		t.Errorf("Compare's URL %q", marker)
	}
	verdict := evalJS[string](t, ctx, `document.querySelector('table.compare tr[data-endpoint="GET /search"] .verdict').dataset.verdict`)
	row := evalJS[string](t, ctx, `document.querySelector('table.compare tr[data-endpoint="GET /search"]').textContent`)
	picked := evalJS[[]string](t, ctx, `[...document.querySelectorAll('.compare-form select')].slice(1).map(s => s.value)`)
	if verdict != "faster" || !strings.Contains(row, "[") || len(picked) != 2 || picked[0] != demoOldVersion || picked[1] != demoNewVersion {
		t.Errorf("Compare shows GET /search %q (row %q), versions %q; want faster in %s against %s", verdict, row, picked, demoNewVersion, demoOldVersion)
	}
	screenshot(t, ctx, "compare")

}

// compareRow is what the test reads of an endpoint of /api/v1/compare.
type compareRow struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
}
