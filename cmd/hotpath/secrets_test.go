package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
)

// TestSecretsReachNoOutput: a service on agent.Wrap, with the real agent capturing request bodies and
// ELASTIC_APM_SANITIZE_FIELD_NAMES=password (which drops the agent's own defaults), is sent every kind of
// secret (Authorization, Proxy-Authorization, X-Api-Key, a cookie, a query string, a form body) and
// calls another service with a token in its URL; it captures an error inside the handler. None of the
// secrets is anywhere the collector puts what it received: the store's files and events, every query
// API answer, the Elasticsearch documents.
func TestSecretsReachNoOutput(t *testing.T) {
	t.Setenv("ELASTIC_APM_SANITIZE_FIELD_NAMES", "password")
	es := estest.NewServer()
	defer es.Close()
	dir := t.TempDir()
	tc := startCollector(t, esCollectorConfig(t, dir, es.URL), nil)
	tracer := newTestTracer(t, tc.url, "", "secrets", "1.0.0")
	tracer.SetCaptureBody(apm.CaptureBodyAll)
	if err := tracer.SetSanitizedFieldNames("password"); err != nil {
		t.Fatal(err)
	}

	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()
	client := agent.WrapClient(backend.Client(), agent.WithTargetService("backend"))
	handle := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		out, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL+"/lookup?access_token=out-GGGG&q=plain", nil)
		if resp, err := client.Do(out); err != nil {
			t.Error(err)
		} else {
			resp.Body.Close()
		}
		apm.CaptureError(r.Context(), errors.New("lookup failed")).Send()
		w.WriteHeader(http.StatusInternalServerError)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /account", handle)
	mux.HandleFunc("POST /login", handle)
	srv := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer)))
	defer srv.Close()

	secrets := append(agenttest.SendSecrets(t, srv.Client(), srv.URL), "out-GGGG")
	tracer.Flush(nil)
	// 2 transactions, 2 spans, 2 errors, each one document.
	waitES(t, es, "the documents", func(docs []estest.Doc, _ int) bool { return len(docs) >= 6 })

	var outputs []string
	for _, d := range es.Docs() {
		outputs = append(outputs, "es "+d.Index+": "+string(d.Source))
	}
	_, txs := get(t, tc.url+"/api/v1/transactions?service=secrets", "")
	_, errs := get(t, tc.url+"/api/v1/errors?service=secrets", "")
	outputs = append(outputs, "transactions: "+txs, "errors: "+errs)
	for _, path := range []string{"/api/v1/services", "/api/v1/endpoints?service=secrets"} {
		_, body := get(t, tc.url+path, "")
		outputs = append(outputs, path+": "+body)
	}
	traceIDs := regexp.MustCompile(`"trace_id":\s*"([0-9a-f]{32})"`).FindAllStringSubmatch(txs, -1)
	if len(traceIDs) != 2 {
		t.Fatalf("transactions answer: %s", txs)
	}
	for _, m := range traceIDs {
		code, body := get(t, tc.url+"/api/v1/traces/"+m[1], "")
		if code != http.StatusOK {
			t.Fatalf("trace %s: %d %s", m[1], code, body)
		}
		outputs = append(outputs, "trace: "+body)
	}
	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}
	for _, e := range storedEvents(t, dir) {
		b, _ := json.Marshal(e)
		outputs = append(outputs, "stored event: "+string(b))
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		outputs = append(outputs, "file "+path+": "+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	all := strings.Join(outputs, "\n")
	for _, want := range []string{"page=2", "password=[REDACTED]", "access_token=[REDACTED]", "lookup failed", "/lookup"} {
		if !strings.Contains(all, want) {
			t.Errorf("no output holds %q: the test proves nothing", want)
		}
	}
	for _, secret := range secrets {
		for _, o := range outputs {
			if strings.Contains(o, secret) {
				t.Errorf("%q reached an output: %.300s", secret, o)
			}
		}
	}
}
