package segmenter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/examples/search/internal/intaketest"
	"github.com/hotpath-apm/hotpath/examples/search/internal/leakcheck"
	"github.com/hotpath-apm/hotpath/examples/search/loopback"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func start(t *testing.T, cfg Config) string {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := loopback.Serve("", s.Handler())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return srv.URL()
}

func post(t *testing.T, client *http.Client, ctx context.Context, url, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/segment", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func newClient(t *testing.T) *http.Client {
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// TestSegmentTraced: a caller traced with agent.WrapClient propagates its trace; the segmenter's
// transaction continues it, under the caller's span, with a tokenize span.
func TestSegmentTraced(t *testing.T) {
	in := intaketest.New(t)
	segTracer := in.Tracer(t, "segmenter")
	callerTracer := in.Tracer(t, "caller")
	url := start(t, Config{Tracer: segTracer})

	client := agent.WrapClient(newClient(t), agent.WithTargetService("segmenter"))
	tx := callerTracer.StartTransaction("caller", "request")
	ctx := apm.ContextWithTransaction(context.Background(), tx)
	status, body := post(t, client, ctx, url, "application/json; charset=utf-8", `{"text":"나이키운동화 Black"}`)
	tx.End()
	if status != http.StatusOK || strings.TrimSpace(body) != `{"tokens":["나이키","운동화","black"]}` {
		t.Fatalf("got %d %s", status, body)
	}
	callerTracer.Flush(nil)
	segTracer.Flush(nil)

	var callSpan, segTx intaketest.Event
	for _, s := range in.Spans() {
		if s.Name == "POST segmenter" {
			callSpan = s
		}
	}
	for _, e := range in.Transactions() {
		if e.Service == "segmenter" {
			segTx = e
		}
	}
	if callSpan.ID == "" || segTx.Name != "POST /segment" {
		t.Fatalf("caller span %+v, segmenter transaction %+v", callSpan, segTx)
	}
	if segTx.TraceID != callSpan.TraceID || segTx.ParentID != callSpan.ID {
		t.Errorf("segmenter transaction in trace %s under %s, want trace %s under the caller's span %s",
			segTx.TraceID, segTx.ParentID, callSpan.TraceID, callSpan.ID)
	}
	children := in.Children(segTx.ID)
	if len(children) != 1 || children[0].Name != "tokenize" {
		t.Errorf("segmenter transaction's children %+v, want one tokenize span", children)
	}
}

func TestSegmentRefusals(t *testing.T) {
	url := start(t, Config{MaxTextBytes: 64})
	client := newClient(t)
	ctx := context.Background()
	fits := `{"text":"` + strings.Repeat("a", 64-len(`{"text":""}`)) + `"}`
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"ok at the limit", "application/json", fits, 200, `{"tokens":["` + strings.Repeat("a", 53) + `"]}`},
		{"one byte over", "application/json", fits + " ", 413, `{"error":"body over 64 bytes"}`},
		{"empty text", "application/json", `{"text":""}`, 200, `{"tokens":[]}`},
		{"not JSON", "application/json", `text=shoes`, 400, "invalid character"},
		{"missing text", "application/json", `{}`, 400, `missing \"text\"`},
		{"unknown member", "application/json", `{"text":"a","lang":"ko"}`, 400, `unknown member \"lang\"`},
		{"member named in capitals", "application/json", `{"Text":"a"}`, 400, `missing \"text\"`},
		{"null", "application/json", `null`, 400, `missing \"text\"`},
		{"two values", "application/json", `{"text":"a"} {}`, 400, "more than one"},
		{"text not a string", "application/json", `{"text":3}`, 400, "must be a string"},
		{"text null", "application/json", `{"text":null}`, 400, "must be a string"},
		{"form", "application/x-www-form-urlencoded", `{"text":"a"}`, 415, "application/json"},
		{"no content type", "", `{"text":"a"}`, 415, "application/json"},
	} {
		status, body := post(t, client, ctx, url, tc.contentType, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: got %d %s, want %d with %s", tc.name, status, body, tc.status, tc.want)
		}
	}
}

// TestSlowCalls: with SlowFraction 1 every call waits SlowDelay; a caller that gives up ends the wait.
func TestSlowCalls(t *testing.T) {
	url := start(t, Config{SlowFraction: 1, SlowDelay: 80 * time.Millisecond})
	client := newClient(t)
	begin := time.Now()
	if status, _ := post(t, client, context.Background(), url, "application/json", `{"text":"a"}`); status != 200 {
		t.Fatalf("status %d", status)
	}
	if d := time.Since(begin); d < 80*time.Millisecond {
		t.Errorf("a slow call took %v, want at least SlowDelay", d)
	}

	// A caller giving up: the handler's wait ends with its context (goleak checks nothing is left).
	slowURL := start(t, Config{SlowFraction: 1, SlowDelay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, slowURL+"/segment", strings.NewReader(`{"text":"a"}`))
	req.Header.Set("Content-Type", "application/json")
	if _, err := client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call slower than its caller's deadline: %v", err)
	}
}

// TestSlowFraction: the share of slow calls is SlowFraction, and the choice is the seed's.
func TestSlowFraction(t *testing.T) {
	draw := func(seed uint64, fraction float64) []bool {
		s, err := New(Config{SlowFraction: fraction, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]bool, 4000)
		for i := range out {
			out[i] = s.slowCall()
		}
		return out
	}
	for _, f := range []float64{0, 0.05, 0.5, 1} {
		slow := 0
		for _, b := range draw(1, f) {
			if b {
				slow++
			}
		}
		// 4000 draws: 5 standard deviations is at most 0.04.
		if got := float64(slow) / 4000; math.Abs(got-f) > 0.04 {
			t.Errorf("SlowFraction %v: %v of calls slow", f, got)
		}
	}
	if !reflect.DeepEqual(draw(3, 0.5), draw(3, 0.5)) || reflect.DeepEqual(draw(3, 0.5), draw(4, 0.5)) {
		t.Error("the slow calls are not a function of the seed")
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{{SlowFraction: -0.1}, {SlowFraction: 1.5}, {Delay: -1}, {MaxTextBytes: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// FuzzDecodeRequest: a decoded request encodes back to a body that decodes to the same request; bad
// bodies get an error, never a panic.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"text":"나이키"}`, `{}`, `{"text":null}`, `{"text":"a"} 1`, `[`, `{"text":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			return
		}
		again, _ := json.Marshal(req)
		back, err := DecodeRequest(again)
		if err != nil || back != req {
			t.Fatalf("%q decoded to %+v, re-encoded %s decoded to %+v, %v", body, req, again, back, err)
		}
		if !bytes.Contains(body, []byte("text")) && !bytes.Contains(body, []byte(`\u`)) {
			t.Fatalf("%q decoded without a text member", body)
		}
	})
}
