package intake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func apiKeyHeader(id, key string) string {
	return "ApiKey " + base64.StdEncoding.EncodeToString([]byte(id+":"+key))
}

func TestAuthentication(t *testing.T) {
	const token = "s3cret-token"
	keys := []APIKey{{ID: "ci", Key: "k-one"}, {ID: "svc", Key: "k-two"}}
	tests := []struct {
		name        string
		secretToken string
		apiKeys     []APIKey
		header      string
		wantStatus  int    // of POST /intake/v2/events with an empty body
		wantError   string // the 401 body's error
	}{
		{name: "no auth configured, no header", wantStatus: 202},
		{name: "no auth configured, any header", header: "Bearer whatever", wantStatus: 202},
		{name: "token: missing header", secretToken: token, wantStatus: 401, wantError: msgAuthMissing},
		{name: "token: right", secretToken: token, header: "Bearer " + token, wantStatus: 202},
		{name: "token: wrong", secretToken: token, header: "Bearer " + token + "x", wantStatus: 401, wantError: "authentication failed"},
		{name: "token: prefix of it", secretToken: token, header: "Bearer s3cret", wantStatus: 401, wantError: "authentication failed"},
		{name: "token: empty", secretToken: token, header: "Bearer ", wantStatus: 401, wantError: "authentication failed"},
		{name: "token: no space", secretToken: token, header: "Bearer" + token, wantStatus: 401, wantError: msgAuthMissing},
		{name: "token: lowercase kind", secretToken: token, header: "bearer " + token, wantStatus: 202},
		{name: "token: lowercase kind, wrong", secretToken: token, header: "bearer x", wantStatus: 401, wantError: "authentication failed"},
		{name: "token: basic", secretToken: token, header: "Basic dXNlcjpwYXNz", wantStatus: 401,
			wantError: "authentication failed: unknown Authentication header: " + expectedAuthHeaderFormat},
		{name: "token: scheme not echoed", secretToken: token, header: "Token-" + token + " x", wantStatus: 401,
			wantError: "authentication failed: unknown Authentication header: " + expectedAuthHeaderFormat},
		{name: "token: api key sent but none configured", secretToken: token, header: apiKeyHeader("ci", "k-one"), wantStatus: 401, wantError: "authentication failed"},
		{name: "keys: first", apiKeys: keys, header: apiKeyHeader("ci", "k-one"), wantStatus: 202},
		{name: "keys: lowercase kind", apiKeys: keys, header: "apikey " + strings.TrimPrefix(apiKeyHeader("ci", "k-one"), "ApiKey "), wantStatus: 202},
		{name: "keys: second", apiKeys: keys, header: apiKeyHeader("svc", "k-two"), wantStatus: 202},
		{name: "keys: key of another id", apiKeys: keys, header: apiKeyHeader("ci", "k-two"), wantStatus: 401, wantError: "authentication failed"},
		{name: "keys: unknown id", apiKeys: keys, header: apiKeyHeader("nobody", "k-one"), wantStatus: 401, wantError: "authentication failed"},
		{name: "keys: not base64", apiKeys: keys, header: "ApiKey ***", wantStatus: 401,
			wantError: "authentication failed: improperly encoded ApiKey credentials: expected base64(ID:APIKey): illegal base64 data at input byte 0"},
		{name: "keys: no colon", apiKeys: keys, header: "ApiKey " + base64.StdEncoding.EncodeToString([]byte("ci")), wantStatus: 401,
			wantError: "authentication failed: improperly formatted ApiKey credentials: expected base64(ID:APIKey)"},
		{name: "keys: token sent but none configured", apiKeys: keys, header: "Bearer k-one", wantStatus: 401, wantError: "authentication failed"},
		{name: "both: token", secretToken: token, apiKeys: keys, header: "Bearer " + token, wantStatus: 202},
		{name: "both: key", secretToken: token, apiKeys: keys, header: apiKeyHeader("svc", "k-two"), wantStatus: 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, _, reg := newTestAPI(t, Config{SecretToken: tt.secretToken, APIKeys: tt.apiKeys})
			req := httptest.NewRequest(http.MethodPost, "/intake/v2/events", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			w := serve(api.Handler(), req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantStatus != 401 {
				return
			}
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Error != tt.wantError {
				t.Errorf("error %q, want %q", body.Error, tt.wantError)
			}
			if w.Header().Get("Connection") != "" {
				t.Errorf("401 has Connection %q; APM Server's auth middleware sets none", w.Header().Get("Connection"))
			}
			if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=unauthorized"); got != 1 {
				t.Errorf("rejected{unauthorized} = %v, want 1", got)
			}
		})
	}
}

func TestParseAPIKey(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    APIKey
		wantErr bool
	}{
		{in: "id:key", want: APIKey{ID: "id", Key: "key"}},
		{in: "id:key:with:colons", want: APIKey{ID: "id", Key: "key:with:colons"}},
		{in: "id:", wantErr: true},
		{in: ":key", wantErr: true},
		{in: "nocolon", wantErr: true},
		{in: "", wantErr: true},
	} {
		got, err := ParseAPIKey(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAPIKey(%q) = %+v, %v", tt.in, got, err)
		}
	}
	if s := (APIKey{ID: "ci", Key: "hunter2"}).String(); strings.Contains(s, "hunter2") {
		t.Errorf("String() shows the secret: %q", s)
	}
}

func TestNewRejectsBadAPIKeys(t *testing.T) {
	for _, keys := range [][]APIKey{
		{{ID: "", Key: "k"}},
		{{ID: "a", Key: ""}},
		{{ID: "a:b", Key: "k"}},
		{{ID: "a", Key: "k"}, {ID: "a", Key: "other"}},
	} {
		if _, err := New(Config{Processor: &recorder{}, APIKeys: keys}); err == nil {
			t.Errorf("New accepted API keys %v", keys)
		}
	}
}

func TestRequireAuth(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })

	open, _, _ := newTestAPI(t, Config{})
	if w := serve(open.RequireAuth(inner), httptest.NewRequest(http.MethodGet, "/metrics", nil)); w.Code != http.StatusTeapot {
		t.Errorf("without auth configured: status %d, want the handler's", w.Code)
	}

	api, _, _ := newTestAPI(t, Config{SecretToken: "tok", APIKeys: []APIKey{{ID: "a", Key: "b"}}})
	h := api.RequireAuth(inner)
	for header, want := range map[string]int{
		"":                     http.StatusUnauthorized,
		"Bearer nope":          http.StatusUnauthorized,
		"Bearer tok":           http.StatusTeapot,
		apiKeyHeader("a", "b"): http.StatusTeapot,
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Authorization", header)
		if w := serve(h, req); w.Code != want {
			t.Errorf("Authorization %q: status %d, want %d", header, w.Code, want)
		}
	}
}

// TestAuthenticateComparesDigests checks that what the authenticator keeps is not the secret itself.
func TestAuthenticateComparesDigests(t *testing.T) {
	a, err := newAuthenticator("plain-secret", []APIKey{{ID: "id", Key: "plain-key"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(a.secretToken[:]), "plain-secret") {
		t.Error("secret token kept in clear")
	}
	d := a.apiKeys["id"]
	if strings.Contains(string(d[:]), "plain-key") {
		t.Error("API key kept in clear")
	}
}
