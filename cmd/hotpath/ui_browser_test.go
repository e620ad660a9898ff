package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (HOTPATH_CHROMIUM overrides). Under CI (CI set), a missing
// browser fails the test: CI installs it (.ci/run), so its absence is a broken set-up, not a reason to
// skip. Elsewhere the test skips, saying how to run it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOTPATH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: CI must install it (.ci/run does: apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed: install it (apt-get install chromium) or set HOTPATH_CHROMIUM to run the browser test")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and returns a tab's context. Closing happens
// at cleanup, and waits for the browser to exit.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// screenshot saves a full-page PNG in the test's artifact directory (kept with go test -artifacts).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// evalJS runs a JavaScript expression in the page and decodes its value.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// fromServices opens the services page of the UI at url (the last 15 minutes) and clicks on into the
// service's page (its table, filled: "queries", "dependencies").
func fromServices(t *testing.T, ctx context.Context, url, service, page string) {
	t.Helper()
	link := chromedp.CSS(`section.service[data-service="` + service + `"] a.` + page + `-link`)
	browse(t, ctx, "from the services into "+page,
		chromedp.Navigate(url+"/ui/?range=15m"),
		chromedp.WaitVisible(link),
		chromedp.Click(link),
		chromedp.WaitVisible(chromedp.CSS(`table.`+page+` tbody tr`)))
}

// TestUIThreeClicks drives real headless Chromium against a collector filled by the real Go agent:
// from the overview, one click into the endpoint, one on its slowest transaction, and the waterfall
// shows where the time went, down to Elasticsearch's own time and the query it ran.
func TestUIThreeClicks(t *testing.T) {
	ctx := newBrowser(t, 1280, 900)
	tc := startCollector(t, testConfig(t), nil)
	fillSearchService(t, tc.url, "", true)

	// 1. The overview: the service and its endpoints.
	browse(t, ctx, "overview",
		chromedp.Navigate(tc.url+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`section.service[data-service="search"] a.endpoint-link`)))
	names := evalJS[[]string](t, ctx, `[...document.querySelectorAll('a.endpoint-link')].map(a => a.textContent)`)
	if !slices.Equal(names, []string{"GET /search", "GET /suggest"}) { // the slowest p99 first
		t.Fatalf("endpoints on the overview: %q", names)
	}
	screenshot(t, ctx, "1-overview")

	// 2. Click the endpoint: its figures, charts and slowest transactions.
	browse(t, ctx, "endpoint",
		chromedp.Click(chromedp.CSS(`a.endpoint-link`)),
		chromedp.WaitVisible(chromedp.CSS(`table.transactions a.trace-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.latency-chart svg path.line.s-p99`)),
		chromedp.WaitVisible(chromedp.CSS(`.histogram svg rect.bar`)),
		chromedp.WaitVisible(chromedp.CSS(`table.breakdown`)))
	loc := evalJS[string](t, ctx, `location.search`)
	if !strings.Contains(loc, "page=endpoint") || !strings.Contains(loc, "name=GET+%2Fsearch") {
		t.Errorf("endpoint URL %q does not hold the view", loc)
	}
	p99 := evalJS[string](t, ctx, `document.querySelector('.tile.p99 .tile-value').textContent`)
	first := evalJS[string](t, ctx, `document.querySelector('table.transactions a.trace-link').textContent`)
	if !strings.HasSuffix(p99, " ms") || !strings.HasSuffix(first, " ms") {
		t.Errorf("p99 %q, slowest transaction %q", p99, first)
	}
	breakdown := evalJS[string](t, ctx, `document.querySelector('table.breakdown tbody tr').textContent`)
	if !strings.Contains(breakdown, "db.elasticsearch") {
		t.Errorf("time by span type starts with %q, want db.elasticsearch", breakdown)
	}
	screenshot(t, ctx, "2-endpoint")

	// 3. Click the slowest transaction: its waterfall.
	browse(t, ctx, "trace",
		chromedp.Click(chromedp.CSS(`table.transactions a.trace-link`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.wf-item[data-name=%q]`, esSearchName))))
	rows := evalJS[[]string](t, ctx, `[...document.querySelectorAll('.wf-item')].map(r =>
		r.dataset.kind + ' ' + r.dataset.name + ' @' + parseFloat(r.querySelector('.wf-name').style.paddingLeft))`)
	want := []string{
		"transaction GET /search @0.3",
		"span build query @1.4",
		"span POST segmenter @2.5",
		"span " + esSearchName + " @1.4",
		"span rank results @1.4",
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("waterfall rows (kind, name, indent):\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	label := evalJS[string](t, ctx, fmt.Sprintf(`document.querySelector('.wf-item[data-name=%q] .wf-label').textContent`, esSearchName))
	if !strings.Contains(label, fmt.Sprintf("ES took %d ms", slowTook)) {
		t.Errorf("Elasticsearch span label %q", label)
	}
	// The bar of the Elasticsearch span is the longest of the spans: it is where the time went.
	widest := evalJS[string](t, ctx, `[...document.querySelectorAll('.wf-item[data-kind="span"]')]
		.sort((a, b) => b.querySelector('.wf-bar').getBoundingClientRect().width - a.querySelector('.wf-bar').getBoundingClientRect().width)[0].dataset.name`)
	if widest != esSearchName {
		t.Errorf("widest span bar: %q", widest)
	}
	browse(t, ctx, "span details",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`.wf-item[data-name=%q]`, esSearchName))),
		chromedp.WaitVisible(chromedp.CSS(`.wf-detail pre.statement`)))
	statement := evalJS[string](t, ctx, `document.querySelector('.wf-detail pre.statement').textContent`)
	if !strings.Contains(statement, `"running slow"`) {
		t.Errorf("db.statement shown: %q", statement)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#profile').length`); n != 1 {
		t.Errorf("no place for the profile on the trace page")
	}
	screenshot(t, ctx, "3-trace")

	// The URL of the trace view is shareable: loaded afresh, it shows the same trace.
	traceURL := evalJS[string](t, ctx, `location.href`)
	browse(t, ctx, "reload the trace URL",
		chromedp.Navigate(traceURL),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.wf-item[data-name=%q]`, esSearchName))))

	// The errors of the service, grouped, each pointing at a trace.
	browse(t, ctx, "errors",
		chromedp.Click(chromedp.CSS(`header nav a:nth-child(2)`)),
		chromedp.WaitVisible(chromedp.CSS(`table.errors tbody tr`)))
	group := evalJS[string](t, ctx, `document.querySelector('table.errors tbody tr').textContent`)
	if !strings.Contains(group, "503 Service Unavailable") {
		t.Errorf("first error group: %q", group)
	}
	screenshot(t, ctx, "5-errors")

	// A narrow window: nothing overflows sideways.
	browse(t, ctx, "narrow window",
		chromedp.EmulateViewport(400, 800),
		chromedp.Navigate(tc.url+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`a.endpoint-link`)))
	if overflow := evalJS[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); overflow > 0 {
		t.Errorf("the overview overflows a 400 px window by %d px", overflow)
	}
	screenshot(t, ctx, "4-overview-narrow")
}

// TestUIEmptyAndErrors: a collector with no data shows an empty state that says what to do, and the
// errors page of a service without errors says so.
func TestUIEmptyAndErrors(t *testing.T) {
	ctx := newBrowser(t, 1000, 700)
	tc := startCollector(t, testConfig(t), nil)
	browse(t, ctx, "empty overview",
		chromedp.Navigate(tc.url+"/ui/?range=15m"),
		chromedp.WaitVisible(chromedp.CSS(`.state-empty`)))
	text := evalJS[string](t, ctx, `document.querySelector('.state-empty').textContent`)
	if !strings.Contains(text, "ELASTIC_APM_SERVER_URL="+tc.url) || !strings.Contains(text, "last 15 minutes") {
		t.Errorf("empty state: %q", text)
	}
	browse(t, ctx, "unknown trace",
		chromedp.Navigate(tc.url+"/ui/?page=trace&trace=0af7651916cd43dd8448eb211c80319c"),
		chromedp.WaitVisible(chromedp.CSS(`.state-error`)))
	text = evalJS[string](t, ctx, `document.querySelector('.state-error').textContent`)
	if !strings.Contains(text, "no trace 0af7651916cd43dd8448eb211c80319c") {
		t.Errorf("unknown trace: %q", text)
	}
}

// TestUICredentials: with a secret token, the UI asks for it when the API answers 401, keeps it, and then
// shows the data.
func TestUICredentials(t *testing.T) {
	ctx := newBrowser(t, 1000, 700)
	cfg := testConfig(t)
	cfg.secretToken = "ui-s3cret"
	tc := startCollector(t, cfg, nil)
	browse(t, ctx, "credentials form",
		chromedp.Navigate(tc.url+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`form.auth input[name="value"]`)))
	if text := evalJS[string](t, ctx, `document.querySelector('form.auth').textContent`); !strings.Contains(text, "authentication failed") {
		t.Errorf("credentials form: %q", text)
	}
	browse(t, ctx, "wrong token",
		chromedp.SendKeys(chromedp.CSS(`form.auth input[name="value"]`), "nope"),
		chromedp.Click(chromedp.CSS(`form.auth button[type="submit"]`)))
	// The form comes back, saying why (the first one said the header was missing).
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('form.auth .state-error')?.textContent === 'authentication failed'`)); err != nil {
		t.Fatalf("wrong token: %v", err)
	}
	browse(t, ctx, "right token",
		chromedp.SendKeys(chromedp.CSS(`form.auth input[name="value"]`), cfg.secretToken),
		chromedp.Click(chromedp.CSS(`form.auth button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page="overview"] .state-empty`)))
	// Kept for the next page.
	browse(t, ctx, "reload",
		chromedp.Navigate(tc.url+"/ui/?range=6h"),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page="overview"] .state-empty`)))
}
