package ui

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestServesTheUI(t *testing.T) {
	for path, ctype := range map[string]string{
		"/ui/":            "text/html; charset=utf-8",
		"/ui/app.js":      "text/javascript; charset=utf-8",
		"/ui/style.css":   "text/css; charset=utf-8",
		"/ui/favicon.svg": "image/svg+xml",
	} {
		rec := serve(t, http.MethodGet, path)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != ctype {
			t.Errorf("%s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	if rec := serve(t, http.MethodGet, "/ui/missing.js"); rec.Code != 404 {
		t.Errorf("missing file: %d", rec.Code)
	}
	rec := serve(t, http.MethodGet, "/ui?page=trace&trace=abc")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/ui/?page=trace&trace=abc" {
		t.Errorf("/ui: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := serve(t, http.MethodPost, "/ui/"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func staticFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(files, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := files.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		out[strings.TrimPrefix(path, "static/")] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestModulesResolve: every module import and every file index.html names is embedded.
func TestModulesResolve(t *testing.T) {
	all := staticFiles(t)
	imports := regexp.MustCompile(`(?m)^import .* from '\./([a-z]+\.js)';$`)
	refs := regexp.MustCompile(`(?:src|href)="([a-z]+\.[a-z]+)"`)
	for name, text := range all {
		var deps [][]string
		switch {
		case strings.HasSuffix(name, ".js"):
			deps = imports.FindAllStringSubmatch(text, -1)
		case strings.HasSuffix(name, ".html"):
			deps = refs.FindAllStringSubmatch(text, -1)
		}
		for _, m := range deps {
			if _, ok := all[m[1]]; !ok {
				t.Errorf("%s refers to %s, which is not embedded", name, m[1])
			}
		}
	}
	if len(all) < 9 {
		t.Errorf("only %d files embedded", len(all))
	}
}

// TestNoMarkupFromData: the UI builds the page from text nodes only, runs no inline script and no
// eval, and talks to nothing but the query API (fetch only in api.js, under ../api/v1/).
func TestNoMarkupFromData(t *testing.T) {
	for name, text := range staticFiles(t) {
		for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('style'"} {
			if strings.Contains(text, banned) {
				t.Errorf("%s uses %s", name, banned)
			}
		}
		if strings.HasSuffix(name, ".html") && regexp.MustCompile(`<script(?: [^>]*)?>[^<]`).MatchString(text) {
			t.Errorf("%s has an inline script", name)
		}
		if strings.HasSuffix(name, ".js") && name != "api.js" && (strings.Contains(text, "fetch(") || strings.Contains(text, "XMLHttpRequest")) {
			t.Errorf("%s makes requests itself; only api.js may", name)
		}
		if strings.Contains(text, "http://") && !strings.HasSuffix(name, ".svg") && !strings.Contains(text, "http://www.w3.org/2000/svg") {
			t.Errorf("%s names another origin", name)
		}
	}
	if api := staticFiles(t)["api.js"]; !strings.Contains(api, "new URL('../api/v1/', document.baseURI)") {
		t.Error("api.js does not read the query API relative to the UI")
	}
}
