package agent_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
)

// TestWrapClientPropagatesAndNamesByService: a service calls two others through WrapClient; everything is
// sent by the real tracer to the intake. The exit spans are children of the caller's transaction, named
// after the service called (or its address without WithTargetService), and each called service continues
// the trace from the span (traceparent), so its transaction's parent is that span.
func TestWrapClientPropagatesAndNamesByService(t *testing.T) {
	in := newIntake(t)
	tracer := tracer(t, in)

	var gotTraceparent string
	segMux := http.NewServeMux()
	segMux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		gotTraceparent = r.Header.Get("Traceparent")
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `["red","shoes"]`)
	})
	segmenter := httptest.NewServer(agent.Wrap(segMux, agent.WithTracer(tracer)))
	defer segmenter.Close()
	other := httptest.NewServer(agent.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "{}")
	}), agent.WithTracer(tracer), agent.WithRouteName(func(*http.Request) string { return "GET /synonyms" })))
	defer other.Close()

	segClient := agent.WrapClient(segmenter.Client(), agent.WithTargetService("segmenter"))
	otherClient := agent.WrapClient(other.Client())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "POST", segmenter.URL+"/tokenize", strings.NewReader("red shoes"))
		resp, err := segClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		req, _ = http.NewRequestWithContext(r.Context(), "GET", other.URL+"/synonyms", nil)
		if resp, err = otherClient.Do(req); err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		io.WriteString(w, "results")
	})
	front := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer)))
	defer front.Close()

	resp, err := front.Client().Get(front.URL + "/search")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tracer.Flush(nil)

	search := oneTransaction(t, in, "GET /search")
	tokenize := oneTransaction(t, in, "POST /tokenize")
	synonyms := oneTransaction(t, in, "GET /synonyms")
	spans := map[string]sentSpan{}
	for _, s := range decode[sentSpan](t, in, "span") {
		spans[s.Name] = s
	}
	otherHost := strings.TrimPrefix(other.URL, "http://")
	segSpan, ok1 := spans["POST segmenter"]
	otherSpan, ok2 := spans["GET "+otherHost]
	if !ok1 || !ok2 || len(spans) != 2 {
		t.Fatalf("spans %v, want POST segmenter and GET %s", keys(spans), otherHost)
	}
	for _, s := range []sentSpan{segSpan, otherSpan} {
		if s.TraceID != search.TraceID || s.TransactionID != search.ID || s.ParentID != search.ID {
			t.Errorf("span %s: trace %s tx %s parent %s; want %s %s %s", s.Name, s.TraceID, s.TransactionID, s.ParentID,
				search.TraceID, search.ID, search.ID)
		}
		if s.Type != "external" || s.Subtype != "http" || s.Outcome != "success" {
			t.Errorf("span %s: type %s.%s outcome %s", s.Name, s.Type, s.Subtype, s.Outcome)
		}
	}
	if segSpan.Context.Service == nil || segSpan.Context.Service.Target.Name != "segmenter" || segSpan.Context.Service.Target.Type != "http" {
		t.Errorf("segmenter span service target %+v", segSpan.Context.Service)
	}
	if otherSpan.Context.Service == nil || otherSpan.Context.Service.Target.Name != otherHost {
		t.Errorf("other span service target %+v, want %s", otherSpan.Context.Service, otherHost)
	}
	// The called services continue the trace from the spans.
	if want := "00-" + search.TraceID + "-" + segSpan.ID + "-01"; gotTraceparent != want {
		t.Errorf("segmenter got traceparent %q, want %q", gotTraceparent, want)
	}
	if tokenize.TraceID != search.TraceID || tokenize.ParentID != segSpan.ID {
		t.Errorf("tokenize trace %s parent %s; want %s %s", tokenize.TraceID, tokenize.ParentID, search.TraceID, segSpan.ID)
	}
	if synonyms.TraceID != search.TraceID || synonyms.ParentID != otherSpan.ID {
		t.Errorf("synonyms trace %s parent %s; want %s %s", synonyms.TraceID, synonyms.ParentID, search.TraceID, otherSpan.ID)
	}
	if search.ParentID != "" {
		t.Errorf("front transaction has parent %s", search.ParentID)
	}
}

// TestWrapClientWithoutTransaction: a request outside any transaction goes out untraced and unchanged.
func TestWrapClientWithoutTransaction(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	c := agent.WrapClient(srv.Client(), agent.WithTargetService("segmenter"))
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("Traceparent") != "" {
		t.Fatalf("traceparent %q without a transaction", got.Get("Traceparent"))
	}
	if apm.TransactionFromContext(resp.Request.Context()) != nil {
		t.Fatal("transaction appeared")
	}
	c.CloseIdleConnections()
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
