package agent

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"unicode"

	"go.elastic.co/apm/v2/apmtest"
)

func TestPatternNames(t *testing.T) {
	var p patternNames
	for _, tc := range []struct{ method, pattern, want string }{
		{"GET", "GET /items/{id}", "GET /items/{id}"},
		{"HEAD", "GET /items/{id}", "GET /items/{id}"}, // ServeMux serves HEAD with GET patterns
		{"POST", "/legacy/{x}", "POST /legacy/{x}"},
		{"GET", "/legacy/{x}", "GET /legacy/{x}"},
		{"PURGE", "/legacy/{x}", "PURGE /legacy/{x}"},
		{"GET", "example.com/", "GET example.com/"},
		{"GET", "GET\texample.com/", "GET\texample.com/"},
		{"GET", "GET  example.com/x/{id}", "GET  example.com/x/{id}"},
		{"PUT", "example.com/x/{id}", "PUT example.com/x/{id}"},
		{"GET", "/", "GET /"},
	} {
		if got := p.name(tc.method, tc.pattern); got != tc.want {
			t.Errorf("name(%q, %q) = %q, want %q", tc.method, tc.pattern, got, tc.want)
		}
	}
	// A pattern that names a method is the name without a lookup: for every pattern the ServeMux accepts,
	// namesMethod agrees with the parse (the first blank ends the method).
	for _, pattern := range []string{"GET /a", "GET\t/a", "/a", "example.com/a", "POST example.com/a b",
		"/a b", "/a\tb", "{$}", "GET", "/{x}/ {y}", "PATCH  /a/{b...}", "get /a", "x.com/{$}"} {
		if !muxAccepts(pattern) {
			continue
		}
		if got, want := namesMethod(pattern), parseRoute(pattern).hasBlank; got != want {
			t.Errorf("namesMethod(%q) = %v, the parse says %v", pattern, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { p.name("POST", "/legacy/{x}") }); n != 0 {
		t.Errorf("a seen route costs %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = unknownRoute("DELETE") }); n != 0 {
		t.Errorf("unknown route costs %v allocations", n)
	}
	// Concurrent first sightings.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				pattern := fmt.Sprintf("/p%d", j)
				method := []string{"GET", "POST", "PUT", "DELETE"}[(i+j)%4]
				if got := p.name(method, pattern); got != method+" "+pattern {
					t.Errorf("got %q", got)
				}
			}
		})
	}
	wg.Wait()
}

// muxAccepts reports whether a ServeMux registers pattern.
func muxAccepts(pattern string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	http.NewServeMux().HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	return true
}

// TestSummaryReaderBoundedPrefix: a body whose summary is not complete within maxSummaryPrefix (a long
// list of shard failures before the hits) is passed through whole, the reader never keeps more than the
// bound, and the span gets what was found.
func TestSummaryReaderBoundedPrefix(t *testing.T) {
	var failures []string
	for i := range 500 {
		failures = append(failures, fmt.Sprintf(`{"shard":%d,"reason":{"type":"x","reason":"%s"}}`, i, strings.Repeat("r", 100)))
	}
	body := `{"took":77,"timed_out":false,"_shards":{"total":600,"successful":100,"skipped":0,"failed":500,"failures":[` +
		strings.Join(failures, ",") + `]},"hits":{"total":{"value":3,"relation":"eq"},"hits":[]}}`

	rt := apmtest.NewRecordingTracer()
	defer rt.Close()
	tx := rt.StartTransaction("t", "request")
	span := tx.StartSpan("Elasticsearch: POST x/_search", "db.elasticsearch", nil)
	r := &summaryReader{body: io.NopCloser(iotest.HalfReader(strings.NewReader(body))), span: span}
	var got strings.Builder
	buf := make([]byte, 1000)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if len(r.prefix) > maxSummaryPrefix {
			t.Fatalf("prefix holds %d bytes", len(r.prefix))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	span.End()
	tx.End()
	rt.Flush(nil)
	if got.String() != body {
		t.Fatal("body changed on its way through")
	}
	spans := rt.Payloads().Spans
	if len(spans) != 1 || spans[0].Context == nil {
		t.Fatalf("spans %+v", spans)
	}
	tags := map[string]any{}
	for _, item := range spans[0].Context.Tags {
		tags[item.Key] = item.Value
	}
	want := map[string]any{"es_took_ms": 77.0, "es_timed_out": false, "es_shards_failed": 500.0}
	if fmt.Sprint(tags) != fmt.Sprint(want) {
		t.Fatalf("labels %v, want %v", tags, want)
	}
}

// TestSummaryPrefixBoundary: a summary that completes at exactly maxSummaryPrefix bytes is read whole;
// one byte later, what came before the bound is kept and the rest is not looked for.
func TestSummaryPrefixBoundary(t *testing.T) {
	body := func(pad int) string {
		return `{"took":9,"pad":"` + strings.Repeat("x", pad) + `","hits":{"total":{"value":5,"relation":"eq"},"hits":[` +
			strings.Repeat(`{"_id":"1"},`, 1000) + `{"_id":"2"}]}}`
	}
	// The summary is complete once the total object has closed.
	end := func(b string) int { return strings.Index(b, `"eq"}`) + len(`"eq"}`) }
	pad := maxSummaryPrefix - end(body(0))
	for _, tc := range []struct {
		pad     int
		hasHits bool
	}{{pad, true}, {pad + 1, false}} {
		b := body(tc.pad)
		rt := apmtest.NewRecordingTracer()
		tx := rt.StartTransaction("t", "request")
		span := tx.StartSpan("Elasticsearch: POST x/_search", "db.elasticsearch", nil)
		r := &summaryReader{body: io.NopCloser(strings.NewReader(b)), span: span}
		got, err := io.ReadAll(iotest.OneByteReader(r))
		if err != nil || string(got) != b {
			t.Fatalf("pad %d: body changed (%v)", tc.pad, err)
		}
		span.End()
		tx.End()
		rt.Flush(nil)
		tags := map[string]any{}
		for _, item := range rt.Payloads().Spans[0].Context.Tags {
			tags[item.Key] = item.Value
		}
		rt.Close()
		if _, ok := tags["es_hits"]; ok != tc.hasHits || tags["es_took_ms"] != 9.0 {
			t.Errorf("summary complete at byte %d: labels %v, want es_hits: %v", end(b), tags, tc.hasHits)
		}
	}
}

func FuzzRedactCookies(f *testing.F) {
	f.Add("sid=abc; theme=dark", "prefs=x")
	f.Add(`a="q;u=o"; =b;;c`, " d = e ")
	f.Add("bare-secret-token", "x=1")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		out := redactCookies([]string{line1, line2})
		if out == "" {
			return
		}
		for part := range strings.SplitSeq(out, "; ") {
			name, ok := strings.CutSuffix(part, "="+redacted)
			if !ok || name == "" || strings.ContainsAny(name, ";=") {
				t.Fatalf("%q, %q -> %q: part %q", line1, line2, out, part)
			}
			// A name comes from a name=value part of the input: it is followed by "=" there.
			if !followedByEquals(line1, name) && !followedByEquals(line2, name) {
				t.Fatalf("%q, %q -> %q: name %q is no cookie name", line1, line2, out, name)
			}
		}
	})
}

// followedByEquals reports whether name occurs in s followed by blanks (as strings.TrimSpace sees them)
// then "=".
func followedByEquals(s, name string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		rest := strings.TrimLeftFunc(s[i+j+len(name):], unicode.IsSpace)
		if strings.HasPrefix(rest, "=") {
			return true
		}
		i += j + 1
	}
}

func TestGlobFold(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"password", "Password", true},
		{"password", "passwords", false},
		{"*key", "X-Api-Key", true},
		{"*key", "keys", false},
		{"*token*", "access_TOKEN_v2", true},
		{"*auth*", "Authorization", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
	} {
		if got := globFold(tc.p, tc.s); got != tc.want {
			t.Errorf("globFold(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

// FuzzRedactQuery: whatever the query string, redactQuery keeps its parameters in order, each either
// unchanged or, when its name is sensitive, with the value "[REDACTED]".
func FuzzRedactQuery(f *testing.F) {
	names := sanitizedFieldNames(func(string) string { return "password" })
	f.Add("password=a&token=b&q=c")
	f.Add("a%20key=x&&=y&api_key&Pass%77ord=z")
	f.Fuzz(func(t *testing.T, q string) {
		out := names.redactQuery(q)
		in, got := strings.Split(q, "&"), strings.Split(out, "&")
		if q == "" {
			in = nil
		}
		if out == "" {
			got = nil
		}
		if len(in) != len(got) {
			t.Fatalf("%q -> %q", q, out)
		}
		for i := range in {
			if names.sensitiveParam(in[i]) {
				name, _, _ := strings.Cut(in[i], "=")
				if got[i] != name+"="+redacted {
					t.Fatalf("%q -> %q: %q became %q", q, out, in[i], got[i])
				}
			} else if got[i] != in[i] {
				t.Fatalf("%q -> %q: %q became %q", q, out, in[i], got[i])
			}
		}
	})
}

// TestStartNameDispatches: a request the ServeMux routes to a pattern without wildcards (or to nothing)
// is served by the handler ServeMux.Handler found, not by the ServeMux again (which would match it a
// second time); one with path values, or a redirect, is left to the ServeMux.
func TestStartNameDispatches(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /search", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/tree/", func(http.ResponseWriter, *http.Request) {})
	h := Wrap(mux).(*handler)
	for _, tc := range []struct {
		target string
		byMux  bool
	}{
		{"/search", false}, {"/search?q=x", false}, {"/tree/a/b", false}, {"/nothing", false},
		{"/items/42", true}, {"/tree", true}, {"/tree/a/../b", true}, {"//search", true},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		name, _, next := h.startName(r)
		if byMux := next == http.Handler(mux); byMux != tc.byMux {
			t.Errorf("%s (%s): served by the ServeMux %v, want %v", tc.target, name, byMux, tc.byMux)
		}
	}
}
