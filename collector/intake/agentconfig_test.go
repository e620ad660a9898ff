package intake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const agentConfigJSON = `[
  {"service": {"name": "search", "environment": "production"}, "settings": {"transaction_sample_rate": 0.2}},
  {"service": {"name": "search"}, "settings": {"transaction_sample_rate": "0.5", "recording": true}},
  {"service": {"environment": "staging"}, "settings": {"log_level": "debug"}},
  {"settings": {"capture_body": "errors"}, "etag": "fixed-etag"}
]`

func writeAgentConfig(t *testing.T, dir, content string) string {
	t.Helper()
	path := filepath.Join(dir, "agent-config.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// agentConfigGet queries GET /config/v1/agents and returns the response with its decoded settings.
func agentConfigGet(t *testing.T, h http.Handler, query, ifNoneMatch string) (*httptest.ResponseRecorder, map[string]string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/config/v1/agents?"+query, nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	w := serve(h, req)
	var settings map[string]string
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &settings); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
	}
	return w, settings
}

func TestAgentConfigMatch(t *testing.T) {
	path := writeAgentConfig(t, t.TempDir(), agentConfigJSON)
	api, _, _ := newTestAPI(t, Config{AgentConfigFile: path})
	h := api.Handler()
	tests := []struct {
		query string
		want  map[string]string
	}{
		{"service.name=search&service.environment=production", map[string]string{"transaction_sample_rate": "0.2"}},
		{"service.name=search&service.environment=dev", map[string]string{"transaction_sample_rate": "0.5", "recording": "true"}},
		{"service.name=search", map[string]string{"transaction_sample_rate": "0.5", "recording": "true"}},
		{"service.name=other&service.environment=staging", map[string]string{"log_level": "debug"}},
		{"service.name=other", map[string]string{"capture_body": "errors"}},
	}
	etags := map[string]string{}
	for _, tt := range tests {
		w, got := agentConfigGet(t, h, tt.query, "")
		if w.Code != 200 || !equalMaps(got, tt.want) {
			t.Errorf("%s: %d %v, want %v", tt.query, w.Code, got, tt.want)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "max-age=30, must-revalidate" {
			t.Errorf("%s: Cache-Control %q", tt.query, cc)
		}
		if w.Header().Get("Access-Control-Expose-Headers") != "Etag" {
			t.Errorf("%s: no Access-Control-Expose-Headers: Etag", tt.query)
		}
		etag := w.Header().Get("Etag")
		if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 3 {
			t.Errorf("%s: Etag %q not quoted", tt.query, etag)
		}
		etags[tt.query] = etag
	}
	if etags["service.name=other"] != `"fixed-etag"` {
		t.Errorf("given etag not used: %s", etags["service.name=other"])
	}

	// The ETag is stable: a second API over the same file computes the same ones.
	api2, _, _ := newTestAPI(t, Config{AgentConfigFile: path})
	for query, etag := range etags {
		if w, _ := agentConfigGet(t, api2.Handler(), query, ""); w.Header().Get("Etag") != etag {
			t.Errorf("%s: Etag %s after restart, was %s", query, w.Header().Get("Etag"), etag)
		}
	}
}

func TestAgentConfigNotModified(t *testing.T) {
	path := writeAgentConfig(t, t.TempDir(), agentConfigJSON)
	api, _, _ := newTestAPI(t, Config{AgentConfigFile: path, AgentConfigMaxAge: 4 * time.Second})
	h := api.Handler()
	w, _ := agentConfigGet(t, h, "service.name=search", "")
	etag := w.Header().Get("Etag")

	for _, inm := range []string{etag, strings.Trim(etag, `"`)} {
		w, _ = agentConfigGet(t, h, "service.name=search", inm)
		if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: %d %q, want 304 and no body", inm, w.Code, w.Body)
		}
		if w.Header().Get("Etag") != etag || w.Header().Get("Cache-Control") != "max-age=4, must-revalidate" {
			t.Errorf("304 headers %v", w.Header())
		}
	}
	// The query parameter form.
	if w, _ = agentConfigGet(t, h, "service.name=search&ifnonematch="+strings.Trim(etag, `"`), ""); w.Code != http.StatusNotModified {
		t.Errorf("ifnonematch parameter: %d", w.Code)
	}
	// A stale ETag gets the settings.
	if w, _ = agentConfigGet(t, h, "service.name=search", `"stale"`); w.Code != http.StatusOK {
		t.Errorf("stale etag: %d", w.Code)
	}
}

func TestAgentConfigNoFile(t *testing.T) {
	for name, path := range map[string]string{
		"not configured": "",
		"missing file":   filepath.Join(t.TempDir(), "agent-config.json"),
	} {
		t.Run(name, func(t *testing.T) {
			api, _, _ := newTestAPI(t, Config{AgentConfigFile: path})
			w, got := agentConfigGet(t, api.Handler(), "service.name=search", "")
			if w.Code != 200 || len(got) != 0 || w.Header().Get("Etag") != `"-"` {
				t.Errorf("%d %v Etag %s, want 200 {} \"-\"", w.Code, got, w.Header().Get("Etag"))
			}
			if w, _ = agentConfigGet(t, api.Handler(), "service.name=search", `"-"`); w.Code != http.StatusNotModified {
				t.Errorf("If-None-Match \"-\": %d", w.Code)
			}
		})
	}
}

func TestAgentConfigErrors(t *testing.T) {
	api, _, _ := newTestAPI(t, Config{})
	h := api.Handler()
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantError  string
	}{
		{"no service name", httptest.NewRequest(http.MethodGet, "/config/v1/agents", nil), 400, "service.name is required"},
		{"PUT", httptest.NewRequest(http.MethodPut, "/config/v1/agents?service.name=x", nil), 405, "method not supported: PUT"},
		{"POST bad JSON", httptest.NewRequest(http.MethodPost, "/config/v1/agents", strings.NewReader("{")), 400, "unexpected EOF"},
		{"POST empty", httptest.NewRequest(http.MethodPost, "/config/v1/agents", nil), 400, "EOF"},
		{"POST no name", httptest.NewRequest(http.MethodPost, "/config/v1/agents", strings.NewReader(`{"service":{}}`)), 400, "service.name is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(h, tt.req)
			var body errorBody
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tt.wantStatus || body.Error != tt.wantError {
				t.Errorf("%d %q, want %d %q", w.Code, body.Error, tt.wantStatus, tt.wantError)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "max-age=300, must-revalidate" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
}

func TestAgentConfigPost(t *testing.T) {
	path := writeAgentConfig(t, t.TempDir(), agentConfigJSON)
	api, _, _ := newTestAPI(t, Config{AgentConfigFile: path, SecretToken: "t"})
	req := httptest.NewRequest(http.MethodPost, "/config/v1/agents",
		strings.NewReader(`{"service":{"name":"search","environment":"production"}}`))
	req.Header.Set("Authorization", "Bearer t")
	w := serve(api.Handler(), req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"transaction_sample_rate":"0.2"`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	// Auth is required, and checked before anything else.
	req = httptest.NewRequest(http.MethodGet, "/config/v1/agents?service.name=search", nil)
	if w := serve(api.Handler(), req); w.Code != http.StatusUnauthorized || w.Header().Get("Cache-Control") != "" {
		t.Errorf("without auth: %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
}

func TestAgentConfigReload(t *testing.T) {
	dir := t.TempDir()
	path := writeAgentConfig(t, dir, `[{"service":{"name":"a"},"settings":{"log_level":"info"}}]`)
	core, logs := observer.New(zapcore.ErrorLevel)
	api, _, _ := newTestAPI(t, Config{AgentConfigFile: path, Logger: zap.New(core)})
	h := api.Handler()
	w, got := agentConfigGet(t, h, "service.name=a", "")
	first := w.Header().Get("Etag")
	if got["log_level"] != "info" {
		t.Fatalf("settings %v", got)
	}

	// A changed file is picked up, with a new ETag. (The size changes, so a coarse mtime cannot hide it.)
	writeAgentConfig(t, dir, `[{"service":{"name":"a"},"settings":{"log_level":"warning"}}]`)
	w, got = agentConfigGet(t, h, "service.name=a", first)
	if w.Code != 200 || got["log_level"] != "warning" || w.Header().Get("Etag") == first {
		t.Fatalf("after change: %d %v %s", w.Code, got, w.Header().Get("Etag"))
	}
	second := w.Header().Get("Etag")

	// A broken file keeps the last good configuration, and is reported once.
	writeAgentConfig(t, dir, `[{"service":`)
	for range 3 {
		if w, got = agentConfigGet(t, h, "service.name=a", ""); got["log_level"] != "warning" || w.Header().Get("Etag") != second {
			t.Fatalf("after breaking: %v %s", got, w.Header().Get("Etag"))
		}
	}
	if n := logs.FilterMessage("agent configuration file unreadable; serving the previous one").Len(); n != 1 {
		t.Errorf("broken file logged %d times, want once", n)
	}

	// A removed file means no configuration.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if w, got = agentConfigGet(t, h, "service.name=a", ""); len(got) != 0 || w.Header().Get("Etag") != `"-"` {
		t.Errorf("after removal: %v %s", got, w.Header().Get("Etag"))
	}
}

func TestAgentConfigInvalidFile(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":         `nope`,
		"object":           `{"service":{"name":"a"}}`,
		"unknown field":    `[{"service":{"name":"a"},"setings":{}}]`,
		"nested value":     `[{"settings":{"a":{"b":1}}}]`,
		"null value":       `[{"settings":{"a":null}}]`,
		"duplicate":        `[{"service":{"name":"a"},"settings":{}},{"service":{"name":"a"},"settings":{}}]`,
		"trailing content": `[] []`,
	} {
		t.Run(name, func(t *testing.T) {
			path := writeAgentConfig(t, t.TempDir(), content)
			if _, err := New(Config{Processor: &recorder{}, AgentConfigFile: path}); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("New: %v, want an error naming the file", err)
			}
		})
	}
	if _, err := New(Config{Processor: &recorder{}, AgentConfigMaxAge: 1500 * time.Millisecond}); err == nil {
		t.Error("New accepted a max-age of 1.5s")
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func FuzzAgentConfigFile(f *testing.F) {
	f.Add([]byte(agentConfigJSON))
	f.Add([]byte(`[{"settings":{"a":1e400}}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfgs, err := parseAgentConfigs(b)
		if err != nil {
			return
		}
		for _, c := range cfgs {
			if c.Etag == "" {
				t.Fatal("entry without ETag")
			}
			settings, etag := cfgs.match(c.Service.Name, c.Service.Environment)
			if etag == "" || settings == nil {
				t.Fatalf("match: %v %q", settings, etag)
			}
			if _, err := json.Marshal(settings); err != nil {
				t.Fatal(err)
			}
		}
	})
}
