package agent_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/apmtest"
	"go.elastic.co/apm/v2/model"

	"github.com/hotpath-apm/hotpath/agent"
)

func recordingTracer(t *testing.T) *apmtest.RecordingTracer {
	t.Helper()
	rt := apmtest.NewRecordingTracer()
	t.Cleanup(rt.Close)
	return rt
}

// transactions flushes the tracer and returns what it sent.
func transactions(rt *apmtest.RecordingTracer) []model.Transaction {
	rt.Flush(nil)
	return rt.Payloads().Transactions
}

func do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func label(ctx *model.Context, key string) (any, bool) {
	if ctx == nil {
		return nil, false
	}
	for _, item := range ctx.Tags {
		if item.Key == key {
			return item.Value, true
		}
	}
	return nil, false
}

func itemsMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.HandleFunc("/legacy/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "legacy")
	})
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	})
	return mux
}

func TestWrapNamesTransactionsByRoute(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		name, result   string
		outcome        string
		status         int
	}{
		{"GET", "/items/42", "GET /items/{id}", "HTTP 2xx", "success", 200},
		{"GET", "/items/43", "GET /items/{id}", "HTTP 2xx", "success", 200}, // same name: no cardinality explosion
		{"POST", "/legacy/a/b", "POST /legacy/{rest...}", "HTTP 2xx", "success", 200},
		{"DELETE", "/legacy/x", "DELETE /legacy/{rest...}", "HTTP 2xx", "success", 200},
		{"POST", "/fail", "POST /fail", "HTTP 5xx", "failure", 503},
		{"GET", "/nowhere/7", "GET unknown route", "HTTP 4xx", "success", 404},
		{"PUT", "/items/42", "PUT unknown route", "HTTP 4xx", "success", 405},
		{"PURGE", "/items/42", "PURGE unknown route", "HTTP 4xx", "success", 405},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rt := recordingTracer(t)
			w := do(agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer)), tc.method, tc.target)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			txs := transactions(rt)
			if len(txs) != 1 {
				t.Fatalf("%d transactions, want 1", len(txs))
			}
			tx := txs[0]
			if tx.Name != tc.name || tx.Result != tc.result || tx.Outcome != tc.outcome || tx.Type != "request" {
				t.Errorf("name %q result %q outcome %q type %q; want %q %q %q request",
					tx.Name, tx.Result, tx.Outcome, tx.Type, tc.name, tc.result, tc.outcome)
			}
			if tx.Context == nil || tx.Context.Response == nil || tx.Context.Response.StatusCode != tc.status {
				t.Errorf("recorded response %+v, want status %d", tx.Context, tc.status)
			}
		})
	}
}

func TestMiddlewareIsWrap(t *testing.T) {
	rt := recordingTracer(t)
	h := agent.Middleware(agent.WithTracer(rt.Tracer))(itemsMux())
	do(h, "GET", "/items/1")
	if txs := transactions(rt); len(txs) != 1 || txs[0].Name != "GET /items/{id}" {
		t.Fatalf("got %+v", txs)
	}
}

// routeKey/routeHolder imitate a router that learns the route while dispatching and keeps it in a value
// the middleware's request shares (as chi's RouteContext does).
type routeKey struct{}
type routeHolder struct{ route string }

func TestWithRouteNameIsAskedAfterTheHandler(t *testing.T) {
	rt := recordingTracer(t)
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Context().Value(routeKey{}).(*routeHolder).route = "GET /users/:id"
	})
	h := agent.Wrap(router, agent.WithTracer(rt.Tracer), agent.WithRouteName(func(r *http.Request) string {
		return r.Context().Value(routeKey{}).(*routeHolder).route
	}))
	req := httptest.NewRequest("GET", "/users/7", nil)
	req = req.WithContext(context.WithValue(req.Context(), routeKey{}, &routeHolder{}))
	h.ServeHTTP(httptest.NewRecorder(), req)

	// An empty name falls back to the ServeMux pattern, then to unknown route.
	h2 := agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer), agent.WithRouteName(func(*http.Request) string { return "" }))
	do(h2, "GET", "/items/1")
	do(h2, "GET", "/nope")

	var names []string
	for _, tx := range transactions(rt) {
		names = append(names, tx.Name)
	}
	if want := "GET /users/:id,GET /items/{id},GET unknown route"; strings.Join(names, ",") != want {
		t.Fatalf("names %q, want %s", names, want)
	}
}

func TestWrapContinuesIncomingTrace(t *testing.T) {
	rt := recordingTracer(t)
	h := agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer))
	req := httptest.NewRequest("GET", "/items/1", nil)
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	txs := transactions(rt)
	if len(txs) != 1 {
		t.Fatalf("%d transactions", len(txs))
	}
	if got := fmt.Sprintf("%x", txs[0].TraceID[:]); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace id %s", got)
	}
	if got := fmt.Sprintf("%x", txs[0].ParentID[:]); got != "b7ad6b7169203331" {
		t.Errorf("parent id %s", got)
	}
}

func TestWrapPanicIsAnErrorAnswered500(t *testing.T) {
	rt := recordingTracer(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom/{id}", func(w http.ResponseWriter, r *http.Request) { panic("boom: index out of range") })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(rt.Tracer)))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/boom/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	// The server is still serving.
	resp, err = srv.Client().Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the panic: status %d", resp.StatusCode)
	}

	rt.Flush(nil)
	p := rt.Payloads()
	if len(p.Transactions) != 2 || len(p.Errors) != 1 {
		t.Fatalf("%d transactions, %d errors; want 2, 1", len(p.Transactions), len(p.Errors))
	}
	tx, e := p.Transactions[0], p.Errors[0]
	if tx.Name != "GET /boom/{id}" || tx.Result != "HTTP 5xx" || tx.Outcome != "failure" {
		t.Errorf("transaction %q %q %q", tx.Name, tx.Result, tx.Outcome)
	}
	if e.Exception.Message != "boom: index out of range" || e.Exception.Handled {
		t.Errorf("exception %+v", e.Exception)
	}
	if e.TransactionID != tx.ID || e.TraceID != tx.TraceID || e.ParentID != tx.ID {
		t.Errorf("error ids trace %s tx %s parent %s; transaction trace %s id %s",
			e.TraceID, e.TransactionID, e.ParentID, tx.TraceID, tx.ID)
	}
	if e.Transaction.Name != "GET /boom/{id}" {
		t.Errorf("error's transaction name %q", e.Transaction.Name)
	}
}

func TestWrapIgnoredPaths(t *testing.T) {
	rt := recordingTracer(t)
	mux := itemsMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if apm.TransactionFromContext(r.Context()) != nil {
			t.Error("ignored request has a transaction")
		}
		io.WriteString(w, "ok")
	})
	h := agent.Wrap(mux, agent.WithTracer(rt.Tracer), agent.WithIgnorePaths("/healthz", "/metrics"))
	if w := do(h, "GET", "/healthz"); w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("healthz: %d %q", w.Code, w.Body)
	}
	do(h, "GET", "/items/1")
	txs := transactions(rt)
	if len(txs) != 1 || txs[0].Name != "GET /items/{id}" {
		t.Fatalf("want only GET /items/{id}, got %+v", txs)
	}
}

func TestWrapNotRecording(t *testing.T) {
	rt := recordingTracer(t)
	rt.SetRecording(false)
	h := agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer))
	if w := do(h, "GET", "/items/1"); w.Body.String() != "item 1" {
		t.Fatalf("body %q", w.Body)
	}
	if txs := transactions(rt); len(txs) != 0 {
		t.Fatalf("%d transactions while not recording", len(txs))
	}
}

// TestWrapKeepsApmhttpIgnorer: ELASTIC_APM_TRANSACTION_IGNORE_URLS (here set on the tracer) still applies.
func TestWrapKeepsApmhttpIgnorer(t *testing.T) {
	rt := recordingTracer(t)
	if err := rt.SetIgnoreTransactionURLs("/legacy/*"); err != nil {
		t.Fatal(err)
	}
	h := agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer))
	if w := do(h, "GET", "/legacy/x"); w.Body.String() != "legacy" {
		t.Fatalf("body %q", w.Body)
	}
	do(h, "GET", "/items/1")
	if txs := transactions(rt); len(txs) != 1 || txs[0].Name != "GET /items/{id}" {
		t.Fatalf("got %+v", txs)
	}
}

// busy returns a handler that runs for at least d (on the CPU: no sleeping) before answering.
func busy(d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for start := time.Now(); time.Since(start) < d; {
		}
		io.WriteString(w, "done")
	}
}

func TestSlowLabel(t *testing.T) {
	rt := recordingTracer(t)
	mux := http.NewServeMux()
	mux.Handle("GET /fast", busy(0))
	mux.Handle("GET /slow", busy(time.Microsecond))
	mux.Handle("GET /tolerated", busy(time.Microsecond))
	h := agent.Wrap(mux, agent.WithTracer(rt.Tracer),
		agent.WithSlowThreshold(time.Hour),
		agent.WithRouteSlowThreshold("GET /slow", time.Nanosecond),
		agent.WithRouteSlowThreshold("GET /tolerated", 0), // off for this route
	)
	do(h, "GET", "/fast")
	do(h, "GET", "/slow")
	do(h, "GET", "/tolerated")
	got := map[string]bool{}
	for _, tx := range transactions(rt) {
		v, ok := label(tx.Context, "slow")
		if ok && v != true {
			t.Errorf("%s: slow label %v", tx.Name, v)
		}
		got[tx.Name] = ok
	}
	want := map[string]bool{"GET /fast": false, "GET /slow": true, "GET /tolerated": false}
	for name, slow := range want {
		if got[name] != slow {
			t.Errorf("%s: slow label %v, want %v", name, got[name], slow)
		}
	}

	// The default threshold applies to every route.
	rt2 := recordingTracer(t)
	do(agent.Wrap(mux, agent.WithTracer(rt2.Tracer), agent.WithSlowThreshold(time.Nanosecond)), "GET", "/tolerated")
	if txs := transactions(rt2); len(txs) != 1 {
		t.Fatal(len(txs))
	} else if _, ok := label(txs[0].Context, "slow"); !ok {
		t.Errorf("default threshold: no slow label")
	}
}

// TestWrapUsesApmhttp: what apmhttp records (request URL, method, response headers) is there.
func TestWrapUsesApmhttp(t *testing.T) {
	rt := recordingTracer(t)
	do(agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer)), "GET", "/items/5?x=1")
	txs := transactions(rt)
	if len(txs) != 1 {
		t.Fatal(len(txs))
	}
	req := txs[0].Context.Request
	if req == nil || req.Method != "GET" || req.URL.Path != "/items/5" || req.URL.Search != "x=1" {
		t.Fatalf("request context %+v", req)
	}
}
