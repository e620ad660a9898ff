package agent_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/apmtest"

	"github.com/hotpath-apm/hotpath/agent"
)

// dispatchPatterns are ServeMux patterns of every kind the agent's dispatch has to take apart: literals,
// {name}, {name...}, {$}, a trailing slash, a host, with and without a method, and escaped literals.
var dispatchPatterns = []string{
	"GET /items/{id}",
	"GET /items/special",
	"GET /items/{id}/parts/{part}",
	"/files/{path...}",
	"POST /files/{dir}/{path...}",
	"GET /exact/{$}",
	"/tree/",
	"/tree/{x}/leaf",
	"GET example.com/host/{id}",
	"GET /host/{id}",
	"/a%2Fb/{id}",
	"DELETE\t/tabbed/{id}",
	"GET /{$}",
	"/x/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}",
}

// dispatchTargets are requests for dispatchPatterns, and for what matches none of them or only after a
// redirect: unclean paths, missing trailing slashes, escaped slashes and dots, other methods.
var dispatchTargets = []struct{ method, target string }{
	{"GET", "/items/42"}, {"HEAD", "/items/42"}, {"POST", "/items/42"}, {"GET", "/items/special"},
	{"GET", "/items/a%2Fb"}, {"GET", "/items/%7E"}, {"GET", "/items/%41%2f"}, {"GET", "/items/"},
	{"GET", "/items"}, {"GET", "/items/42/"}, {"GET", "/items//42"}, {"GET", "/items/./42"},
	{"GET", "/items/../items/42"}, {"GET", "/items/42/parts/7"}, {"GET", "/items/%2E%2E"},
	{"GET", "/files/"}, {"GET", "/files"}, {"GET", "/files/a/b/c"}, {"GET", "/files/a%2Fb/c"},
	{"GET", "/files/a/./b"}, {"GET", "/files/a//b"}, {"POST", "/files/d/a/b"}, {"POST", "/files/d"},
	{"GET", "/exact/"}, {"GET", "/exact"}, {"GET", "/exact/more"}, {"GET", "/tree"}, {"GET", "/tree/"},
	{"GET", "/tree/any/thing"}, {"GET", "/tree/1/leaf"}, {"GET", "/tree/1/leaf/"},
	{"GET", "http://example.com/host/1"}, {"GET", "http://example.com:8080/host/1"},
	{"GET", "http://other.com/host/1"}, {"GET", "/a%2Fb/1"}, {"GET", "/a/b/1"}, {"DELETE", "/tabbed/9"},
	{"GET", "/"}, {"GET", "/nothing"}, {"PURGE", "/items/42"}, {"OPTIONS", "*"},
	{"GET", "/x/1/2/3/4/5/6/7/8/9"}, {"GET", "/items/%20"}, {"GET", "/items/a+b"},
}

// dispatchMux returns a ServeMux of dispatchPatterns whose handlers write what they were given: the
// pattern and every path value their pattern names.
func dispatchMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range dispatchPatterns {
		var names []string
		for _, seg := range strings.Split(p, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok && name != "$}" {
				names = append(names, strings.TrimSuffix(strings.TrimSuffix(name, "}"), "..."))
			}
		}
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			// What the handler sees of the transaction, when it looks (agent.Wrap names it then).
			if tx := apm.TransactionFromContext(r.Context()); tx != nil {
				w.Header().Set("X-Transaction", tx.Name)
			}
			fmt.Fprintf(w, "pattern=%q", r.Pattern)
			for _, n := range names {
				fmt.Fprintf(w, " %s=%q", n, r.PathValue(n))
			}
		})
	}
	return mux
}

// answer is what a client and the handler saw of a request (the transaction's name as the handler saw
// it apart: the ServeMux alone has none).
func answer(h http.Handler, method, target string) (got, txName string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	txName = w.Header().Get("X-Transaction")
	w.Header().Del("X-Transaction")
	hdr := make([]string, 0, len(w.Header()))
	for k, v := range w.Header() {
		hdr = append(hdr, k+": "+strings.Join(v, ", "))
	}
	sort.Strings(hdr)
	return fmt.Sprintf("%d %v %s", w.Code, hdr, w.Body.String()), txName
}

// dispatchModes are the ways agent.Wrap names a ServeMux's transactions: from the pattern the ServeMux
// set when the handler first looks at the context (the default; and its fallback, when apm's context key
// of the transaction is not known), before the handler with ServeMux.Handler, serving the handler it
// found (a listener, which is told the route before the handler), and the same with WithRouteName
// answering nothing.
func dispatchModes(t testing.TB) map[string][]agent.Option {
	f := agent.NewInFlight()
	stop, err := f.Listen(nopListener{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return map[string][]agent.Option{
		"lazy":           nil,
		"lazy_nokey":     {agent.WithoutTransactionKey()},
		"listener":       {agent.WithInFlight(f), agent.WithSlowThreshold(time.Hour)},
		"listener_nokey": {agent.WithInFlight(f), agent.WithSlowThreshold(time.Hour), agent.WithoutTransactionKey()},
		"routeName":      {agent.WithRouteName(func(*http.Request) string { return "" })},
	}
}

// TestWrapDispatchesAsServeMux: agent.Wrap matches a request to the ServeMux's routes once. Every
// request, of every kind of pattern, is answered exactly as the ServeMux answers it alone (status,
// headers, what the handler saw), and the transaction is named by the pattern the ServeMux matched, as
// the handler sees it and as it is sent; in every mode of naming.
func TestWrapDispatchesAsServeMux(t *testing.T) {
	mux := dispatchMux()
	var want []string
	for _, tc := range dispatchTargets {
		// The name is the pattern the ServeMux sets (also for a redirect: the pattern it redirects to).
		r := httptest.NewRequest(tc.method, tc.target, nil)
		mux.ServeHTTP(httptest.NewRecorder(), r)
		switch {
		case r.Pattern == "":
			want = append(want, tc.method+" unknown route")
		case strings.ContainsAny(r.Pattern, " \t"):
			want = append(want, r.Pattern)
		default:
			want = append(want, tc.method+" "+r.Pattern)
		}
	}
	for mode, opts := range dispatchModes(t) {
		t.Run(mode, func(t *testing.T) {
			rt := recordingTracer(t)
			wrapped := agent.Wrap(mux, append(opts, agent.WithTracer(rt.Tracer))...)
			for i, tc := range dispatchTargets {
				direct, _ := answer(mux, tc.method, tc.target)
				traced, seen := answer(wrapped, tc.method, tc.target)
				if direct != traced {
					t.Errorf("%s %s:\nServeMux: %s\nWrap:     %s", tc.method, tc.target, direct, traced)
				}
				if ran := strings.HasPrefix(direct, "200 ") && strings.Contains(direct, "pattern="); ran && seen != want[i] {
					t.Errorf("%s %s: the handler saw transaction %q, want %q", tc.method, tc.target, seen, want[i])
				}
			}
			txs := transactions(rt)
			if len(txs) != len(want) {
				t.Fatalf("%d transactions, want %d", len(txs), len(want))
			}
			for i, tx := range txs {
				if tx.Name != want[i] {
					t.Errorf("%s %s: transaction %q, want %q", dispatchTargets[i].method, dispatchTargets[i].target, tx.Name, want[i])
				}
			}
		})
	}
}

// FuzzWrapDispatchesAsServeMux: any path, through agent.Wrap in each mode of naming, is answered as the
// ServeMux alone answers it, and the handler sees the transaction named by the pattern it was given.
func FuzzWrapDispatchesAsServeMux(f *testing.F) {
	for _, tc := range dispatchTargets {
		if strings.HasPrefix(tc.target, "/") {
			f.Add(tc.method, tc.target)
		}
	}
	mux := dispatchMux()
	tracer := apmtest.NewDiscardTracer()
	defer tracer.Close()
	modes := dispatchModes(f)
	wrapped := make(map[string]http.Handler, len(modes))
	for mode, opts := range modes {
		wrapped[mode] = agent.Wrap(mux, append(opts, agent.WithTracer(tracer))...)
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#?") ||
			method == "" || strings.ContainsFunc(method, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return // not a request line httptest.NewRequest takes
		}
		if _, err := http.ReadRequest(bufioReader(method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return
		}
		direct, _ := answer(mux, method, target)
		r := httptest.NewRequest(method, target, nil)
		mux.ServeHTTP(httptest.NewRecorder(), r)
		for mode, h := range wrapped {
			traced, seen := answer(h, method, target)
			if direct != traced {
				t.Errorf("%s: %s %s:\nServeMux: %s\nWrap:     %s", mode, method, target, direct, traced)
			}
			if r.Pattern != "" && strings.Contains(direct, "pattern=") && !strings.HasSuffix(seen, r.Pattern) {
				t.Errorf("%s: %s %s: the handler saw transaction %q, pattern %q", mode, method, target, seen, r.Pattern)
			}
		}
	})
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
