// Package ui is hotpath's web UI: static files embedded in the binary (go:embed), so `go build` is the
// whole build and the UI works on a machine with no network. It reads only the query API
// (collector/query) under ../api/v1/ relative to its own path, with the credentials the user types in
// (kept in the browser's local storage) when the collector requires them.
//
// Pages, each a URL whose query string holds its filters (so a view can be shared or reloaded):
//
//	/ui/                                        services, each with its endpoints: throughput, error rate, p50/p95/p99
//	/ui/?page=endpoint&service=S&name=N         an endpoint: p50/p95/p99 over time, latency histogram, time by
//	                                            span type, slowest (or latest) transactions with filters, errors
//	/ui/?page=trace&trace=ID&tx=TX              a trace's waterfall (bars on a time axis, nested by parent,
//	                                            coloured by type, Elasticsearch's took); a click shows a span's
//	                                            details (db.statement, labels, HTTP); the transaction's profile
//	/ui/?page=errors&service=S                  errors grouped by grouping key
//	/ui/?page=compare&service=S&by=version&a=A&b=B&name=N
//	                                            Compare: each endpoint (or N) in A against B (versions, the
//	                                            newest two by default; by=label:K, or by=time with a_from,
//	                                            a_to, b_from, b_to): deltas, 95% intervals, q, a verdict
//	                                            chip; for N, the histograms overlaid and the breakdowns
//	/ui/?page=profile&id=P&trace=ID&tx=TX       a profile: CPU and goroutine flame graphs (a click zooms), the
//	                                            largest functions or where the goroutines waited, the sample
//	                                            count said honestly, downloads for go tool pprof and go tool
//	                                            trace, and the way back to the transaction
//
// Every page takes range=15m|1h|6h|24h|7d (default 1h), or from and to (Unix milliseconds or RFC 3339).
// Times are shown in the viewer's time zone.
//
// The files are plain ES modules and CSS, no build step and no third-party code: app.js (pages and
// routing), nav.js (links between pages, keeping the time range), api.js (the query API client),
// chart.js (SVG line and bar charts, with version markers), compare.js (the Compare view: two
// versions, label values or time windows of a service, endpoint by endpoint), waterfall.js,
// profile.js (a transaction's profile under its waterfall, and the profile page), flamegraph.js (a DOM flame graph of the API's frame tree),
// format.js and dom.js (which builds elements from text only, so no data from the API is ever parsed
// as HTML).
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// Prefix is the path the UI is served under.
const Prefix = "/ui/"

//go:embed static
var files embed.FS

// contentSecurityPolicy allows the UI's own scripts, styles and API calls, and nothing else: no inline
// script, no other origin, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Handler serves the UI under Prefix (and redirects the bare "/ui" to it). It answers only GET and
// HEAD. The files hold no data, so they need no authentication; the API calls they make do.
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	fileServer := http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			target := Prefix
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}
