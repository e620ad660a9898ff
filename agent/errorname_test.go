package agent_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/model"

	"github.com/hotpath-apm/hotpath/agent"
)

// errorNames returns the transaction name each error carries, by the error's exception message.
func errorNames(p []model.Error) map[string]string {
	names := map[string]string{}
	for _, e := range p {
		names[e.Exception.Message] = e.Transaction.Name
	}
	return names
}

// TestErrorsCarryTheRoute: an error captured inside the handler and the error recorded for a panic carry
// the route's transaction name, not the provisional "METHOD unknown route": apm copies the transaction's
// name into an error when the error is created, and the UI groups errors by endpoint with it. With and
// without a listener (which runs the handler through Request.Serve).
func TestErrorsCarryTheRoute(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(t *testing.T) []agent.Option
	}{
		{"no listener", func(*testing.T) []agent.Option { return nil }},
		{"no listener, apm's key not known", func(*testing.T) []agent.Option { return []agent.Option{agent.WithoutTransactionKey()} }},
		{"listener", func(t *testing.T) []agent.Option {
			f := agent.NewInFlight()
			listen(t, f, &listener{})
			return []agent.Option{agent.WithInFlight(f), agent.WithSlowThreshold(time.Hour)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := recordingTracer(t)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				apm.CaptureError(r.Context(), errors.New("item "+r.PathValue("id")+" missing")).Send()
				http.Error(w, "missing", http.StatusNotFound)
			})
			mux.HandleFunc("/legacy/{rest...}", func(w http.ResponseWriter, r *http.Request) {
				span, ctx := apm.StartSpan(r.Context(), "lookup", "app")
				defer span.End()
				apm.CaptureError(ctx, errors.New("legacy "+r.PathValue("rest"))).Send()
			})
			mux.HandleFunc("GET /boom/{id}", func(http.ResponseWriter, *http.Request) { panic("boom") })
			h := agent.Wrap(mux, append(tc.opts(t), agent.WithTracer(rt.Tracer))...)
			if w := do(h, "GET", "/items/42"); w.Code != http.StatusNotFound {
				t.Fatalf("status %d", w.Code)
			}
			do(h, "POST", "/legacy/a/b")
			if w := do(h, "GET", "/boom/7"); w.Code != http.StatusInternalServerError {
				t.Fatalf("panic: status %d", w.Code)
			}

			rt.Flush(nil)
			p := rt.Payloads()
			var txNames []string
			for _, tx := range p.Transactions {
				txNames = append(txNames, tx.Name)
			}
			if len(txNames) != 3 || txNames[0] != "GET /items/{id}" || txNames[1] != "POST /legacy/{rest...}" ||
				txNames[2] != "GET /boom/{id}" {
				t.Fatalf("transactions %q", txNames)
			}
			got := errorNames(p.Errors)
			want := map[string]string{
				"item 42 missing": "GET /items/{id}",
				"legacy a/b":      "POST /legacy/{rest...}", // captured inside a span
				"boom":            "GET /boom/{id}",         // the panic
			}
			if len(got) != len(want) {
				t.Errorf("errors %v, want %v", got, want)
			}
			for msg, name := range want {
				if got[msg] != name {
					t.Errorf("error %q carries transaction.name %q, want %q", msg, got[msg], name)
				}
			}
		})
	}
}

// TestWithRouteNameBeforeTheHandler: a WithRouteName function that can answer from the request as
// received names the transaction before the handler runs, so errors captured in the handler carry its
// name. One that learns the route while dispatching (as chi does) answers after the handler: errors
// captured before that carry "METHOD unknown route", but the error of a panic carries the final name.
func TestWithRouteNameBeforeTheHandler(t *testing.T) {
	rt := recordingTracer(t)

	// A router whose route is known from the request: answers before the handler.
	prefixRouter := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apm.CaptureError(r.Context(), errors.New("in v1")).Send()
	})
	prefix := agent.Wrap(prefixRouter, agent.WithTracer(rt.Tracer), agent.WithRouteName(func(r *http.Request) string {
		if len(r.URL.Path) >= 4 && r.URL.Path[:4] == "/v1/" {
			return r.Method + " /v1/*"
		}
		return ""
	}))
	do(prefix, "GET", "/v1/things")

	// A router that learns the route while dispatching.
	learning := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apm.CaptureError(r.Context(), errors.New("before routing")).Send()
		r.Context().Value(routeKey{}).(*routeHolder).route = "GET /users/:id"
		if r.URL.Query().Get("panic") != "" {
			panic("after routing")
		}
	})
	late := agent.Wrap(learning, agent.WithTracer(rt.Tracer), agent.WithRouteName(func(r *http.Request) string {
		return r.Context().Value(routeKey{}).(*routeHolder).route
	}))
	for _, target := range []string{"/users/7", "/users/8?panic=1"} {
		req := httptest.NewRequest("GET", target, nil)
		req = req.WithContext(context.WithValue(req.Context(), routeKey{}, &routeHolder{}))
		late.ServeHTTP(httptest.NewRecorder(), req)
	}

	rt.Flush(nil)
	p := rt.Payloads()
	if len(p.Transactions) != 3 || p.Transactions[0].Name != "GET /v1/*" ||
		p.Transactions[1].Name != "GET /users/:id" || p.Transactions[2].Name != "GET /users/:id" {
		t.Fatalf("transactions %+v", p.Transactions)
	}
	if len(p.Errors) != 4 {
		t.Fatalf("%d errors, want 4", len(p.Errors))
	}
	for i, want := range []string{"GET /v1/*", "GET unknown route", "GET unknown route", "GET /users/:id"} {
		if e := p.Errors[i]; e.Transaction.Name != want {
			t.Errorf("error %q carries transaction.name %q, want %q", e.Exception.Message, e.Transaction.Name, want)
		}
	}
}

// TestWithRouteNamePanics: WithRouteName's function is called inside apmhttp's recovery, so one that
// panics is recorded as an error and answered 500, like a handler that panics; the server goes on.
func TestWithRouteNamePanics(t *testing.T) {
	rt := recordingTracer(t)
	h := agent.Wrap(itemsMux(), agent.WithTracer(rt.Tracer), agent.WithRouteName(func(r *http.Request) string {
		if r.URL.Path == "/items/0" {
			panic("no route for item 0")
		}
		return ""
	}))
	if w := do(h, "GET", "/items/0"); w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	if w := do(h, "GET", "/items/1"); w.Code != http.StatusOK {
		t.Fatalf("after the panic: status %d", w.Code)
	}
	rt.Flush(nil)
	p := rt.Payloads()
	if len(p.Transactions) != 2 || p.Transactions[0].Result != "HTTP 5xx" || p.Transactions[1].Name != "GET /items/{id}" {
		t.Fatalf("transactions %+v", p.Transactions)
	}
	if len(p.Errors) != 1 || p.Errors[0].Exception.Message != "no route for item 0" {
		t.Fatalf("errors %+v", p.Errors)
	}
}

// TestErrorsFromGoroutinesCarryTheRoute: the transaction is named when its context is first looked at,
// whichever goroutine looks first; errors captured at once from goroutines the handler started all carry
// the route (and, under -race, naming from several goroutines is not a data race).
func TestErrorsFromGoroutinesCarryTheRoute(t *testing.T) {
	for name, opts := range map[string][]agent.Option{"": nil, "apm's key not known": {agent.WithoutTransactionKey()}} {
		t.Run(name, func(t *testing.T) {
			rt := recordingTracer(t)
			mux := http.NewServeMux()
			const n = 8
			mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						apm.CaptureError(r.Context(), fmt.Errorf("order %s part %d", r.PathValue("id"), i)).Send()
					})
				}
				wg.Wait()
			})
			do(agent.Wrap(mux, append(opts, agent.WithTracer(rt.Tracer))...), "GET", "/orders/7")
			rt.Flush(nil)
			got := errorNames(rt.Payloads().Errors)
			if len(got) != n {
				t.Fatalf("%d errors, want %d: %v", len(got), n, got)
			}
			for msg, name := range got {
				if name != "GET /orders/{id}" {
					t.Errorf("error %q carries transaction.name %q", msg, name)
				}
			}
		})
	}
}
