package intake

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestRequestLog: one line per request at a level that follows the status, with what an operator needs,
// and never a secret.
func TestRequestLog(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	const token, key = "tok-SECRET-1", "key-SECRET-2"
	api, rec, _ := newTestAPI(t, Config{Logger: zap.New(core), SecretToken: token, APIKeys: []APIKey{{ID: "ci", Key: key}}})
	h := api.Handler()
	body := newStream("svc").transactions(2).bytes()

	send := func(auth string, b []byte) {
		req := httptest.NewRequest(http.MethodPost, "/intake/v2/events", bytes.NewReader(b))
		req.Header.Set("Authorization", auth)
		serve(h, req)
	}
	send("Bearer "+token, body)                                                       // 202: debug
	send("Bearer wrong-"+token, body)                                                 // 401: info
	send("ApiKey "+base64.StdEncoding.EncodeToString([]byte("ci:"+key)), []byte("x")) // 400: info
	rec.fail = func(int, *collector.Batch) error { return fmt.Errorf("boom") }
	send("Bearer "+token, body) // 500: error

	entries := logs.All()
	if len(entries) != 4 { // one per request
		t.Fatalf("%d log entries: %v", len(entries), entries)
	}
	wantLevels := []zapcore.Level{zapcore.DebugLevel, zapcore.InfoLevel, zapcore.InfoLevel, zapcore.ErrorLevel}
	for i, e := range entries {
		if e.Level != wantLevels[i] {
			t.Errorf("entry %d %q: level %s, want %s", i, e.Message, e.Level, wantLevels[i])
		}
		line := e.Message + fmt.Sprint(e.ContextMap())
		if strings.Contains(line, "SECRET") {
			t.Errorf("entry %d shows a secret: %s", i, line)
		}
	}
	first := entries[0].ContextMap()
	for _, k := range []string{"http.request.method", "url.path", "source.address", "http.response.status_code", "event.duration", "accepted"} {
		if _, ok := first[k]; !ok {
			t.Errorf("request log has no %s: %v", k, first)
		}
	}
	if first["accepted"] != int64(2) || first["http.response.status_code"] != int64(202) {
		t.Errorf("request log %v", first)
	}
	if msg := entries[1].ContextMap()["error.message"]; msg != "authentication failed" {
		t.Errorf("401 logged with error.message %v", msg)
	}
	if msg := entries[3].ContextMap()["error.message"]; msg != "cannot handle stream: cannot process batch: boom" {
		t.Errorf("500 logged with error.message %v", msg)
	}
}

// TestPanicRecovered: a panic in a handler (here, in the Processor) is answered 500 and logged, and the
// server goes on.
func TestPanicRecovered(t *testing.T) {
	core, logs := observer.New(zapcore.ErrorLevel)
	api, rec, reg := newTestAPI(t, Config{Logger: zap.New(core)})
	rec.fail = func(int, *collector.Batch) error { panic("processor bug") }
	w := serve(api.Handler(), httptest.NewRequest(http.MethodPost, "/intake/v2/events", bytes.NewReader(newStream("svc").transactions(1).bytes())))
	if w.Code != 500 || !strings.Contains(w.Body.String(), "panic handling request") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	if logs.FilterMessage("panic handling request").Len() != 1 {
		t.Errorf("panic not logged: %v", logs.All())
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=internal"); got != 1 {
		t.Errorf("rejected{internal} %v", got)
	}
	rec.fail = nil
	w = serve(api.Handler(), httptest.NewRequest(http.MethodPost, "/intake/v2/events", bytes.NewReader(newStream("svc").transactions(1).bytes())))
	if w.Code != 202 {
		t.Errorf("after the panic: %d", w.Code)
	}
}
