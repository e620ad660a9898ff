package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUIProfileFlameGraph drives headless Chromium over a collector filled by the profiled service:
// from the slow transaction's waterfall, a click on the transaction opens its details, a click there on
// its profile shows the CPU flame graph with the function that burned the CPU on top, the goroutine tab
// the channel receive the other request blocked in, and a click takes us back to the transaction.
func TestUIProfileFlameGraph(t *testing.T) {
	ctx := newBrowser(t, 1280, 900)
	cfg := testConfig(t)
	tc := startCollector(t, cfg, nil)
	runProfiledService(t, tc.url, "")
	txs := slowTransactions(t, tc.url, "")
	burn, block := txs["GET /burn"], txs["GET /block/{id}"]
	if burn.profileID == "" || block.profileID == "" {
		t.Fatalf("transactions %+v", txs)
	}

	// The waterfall of the slow /burn request; under it, the profile card already shows its CPU.
	browse(t, ctx, "trace of /burn",
		chromedp.Navigate(fmt.Sprintf("%s/ui/?page=trace&trace=%s&tx=%s", tc.url, burn.traceID, burn.id)),
		chromedp.WaitVisible(chromedp.CSS(`.wf-item[data-kind="transaction"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#profile .flame-node.self`)))
	screenshot(t, ctx, "profile-1-trace")

	// Click the transaction in the waterfall, then its profile link.
	browse(t, ctx, "the transaction's details",
		chromedp.Click(chromedp.CSS(`.wf-item[data-kind="transaction"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.wf-detail a.profile-link`)))
	browse(t, ctx, "its flame graph",
		chromedp.Click(chromedp.CSS(`.wf-detail a.profile-link`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page="profile"] .flame-card .flame-node.self`)))
	loc := evalJS[string](t, ctx, `location.search`)
	if !strings.Contains(loc, "page=profile") || !strings.Contains(loc, "id="+burn.profileID) {
		t.Errorf("profile page URL %q", loc)
	}
	// The frame where most CPU samples end is profilingtest.Burn, and it is drawn the widest of those.
	// The runtime's frames above it (asyncPreempt, when a busy machine preempts it often) are left out:
	// they are Burn's samples as much as those in it.
	most := evalJS[string](t, ctx, `[...document.querySelectorAll('.flame-card .flame-node.self')]
		.filter((n) => !n.dataset.name.startsWith('runtime.'))
		.sort((a, b) => b.dataset.self - a.dataset.self)[0].dataset.name`)
	widest := evalJS[string](t, ctx, `[...document.querySelectorAll('.flame-card .flame-node.self')]
		.filter((n) => !n.dataset.name.startsWith('runtime.'))
		.sort((a, b) => b.getBoundingClientRect().width - a.getBoundingClientRect().width)[0].dataset.name`)
	if !strings.HasSuffix(most, burnFunc) || widest != most {
		t.Errorf("CPU flame graph: most samples end in %q, widest frame with samples %q; want profilingtest.Burn", most, widest)
	}
	label := evalJS[string](t, ctx, fmt.Sprintf(`document.querySelector('.flame-card .flame-node[data-name$=%q] span').textContent`, burnFunc))
	if label != "profilingtest.Burn" {
		t.Errorf("profilingtest.Burn's frame reads %q", label)
	}
	// The sample count, honestly: a few dozen samples are flagged as few.
	note := evalJS[string](t, ctx, `document.querySelector('.flame-card .samples-note').textContent`)
	if !strings.Contains(note, "CPU samples") || !strings.Contains(note, "of CPU") {
		t.Errorf("samples note %q", note)
	}
	if low := evalJS[bool](t, ctx, `document.querySelector('.flame-card .samples-note').classList.contains('low')`); low != strings.Contains(note, ": few,") {
		t.Errorf("low-sample flag and note disagree: %q", note)
	}
	top := evalJS[string](t, ctx, `[...document.querySelectorAll('table.functions tbody tr')]
		.find((r) => !r.dataset.name.startsWith('runtime.'))?.dataset.name ?? ''`)
	if !strings.HasSuffix(top, burnFunc) {
		t.Errorf("largest function: %q", top)
	}
	screenshot(t, ctx, "profile-2-cpu")

	// A click on a frame zooms into it.
	browse(t, ctx, "zoom",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`.flame-card .flame-node[data-name$=%q]`, burnFunc))),
		chromedp.WaitVisible(chromedp.CSS(`.flame-zoom button`)))
	if w := evalJS[float64](t, ctx, fmt.Sprintf(`parseFloat(document.querySelector('.flame-card .flame-node[data-name$=%q]').style.width)`, burnFunc)); w != 100 {
		t.Errorf("zoomed frame is %v%% wide", w)
	}

	// Back to the transaction.
	browse(t, ctx, "back to the transaction",
		chromedp.Click(chromedp.CSS(`a.back-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.wf-item.selected[data-kind="transaction"]`)))
	if id := evalJS[string](t, ctx, `document.querySelector('.wf-item.selected').dataset.id`); id != burn.id {
		t.Errorf("back on transaction %q, want %q", id, burn.id)
	}

	// The blocked request: its goroutine flame graph shows where it waited.
	browse(t, ctx, "trace of /block",
		chromedp.Navigate(fmt.Sprintf("%s/ui/?page=trace&trace=%s&tx=%s", tc.url, block.traceID, block.id)),
		chromedp.WaitVisible(chromedp.CSS(`#profile a.profile-link`)),
		chromedp.Click(chromedp.CSS(`#profile a.profile-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.tabs a[data-part="goroutine"]`)),
		chromedp.Click(chromedp.CSS(`.tabs a[data-part="goroutine"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flame-card[data-part="goroutine"] .flame-node[data-name="runtime.chanrecv1"]`)))
	parent := evalJS[string](t, ctx, `(() => {
		const recv = document.querySelector('.flame-card .flame-node[data-name="runtime.chanrecv1"]');
		const r = recv.getBoundingClientRect();
		const above = [...document.querySelectorAll('.flame-card .flame-node')].find((n) => {
			const b = n.getBoundingClientRect();
			return parseFloat(n.style.top) === parseFloat(recv.style.top) - 19 && b.left <= r.left + 1 && b.right >= r.right - 1;
		});
		return above ? above.dataset.name : '';
	})()`)
	if !strings.HasSuffix(parent, waitFunc) {
		t.Errorf("the frame under runtime.chanrecv1 is %q, want waitForRelease", parent)
	}
	wait := evalJS[[]string](t, ctx, `(() => { const r = document.querySelector('table.waits tbody tr'); return [r.dataset.name, r.dataset.call]; })()`)
	if len(wait) != 2 || !strings.HasSuffix(wait[0], waitFunc) || wait[1] != "runtime.chanrecv1" {
		t.Errorf("where the goroutines were: %q, want waitForRelease in runtime.chanrecv1", wait)
	}
	screenshot(t, ctx, "profile-3-goroutines")
}
