package intake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"testing"
	"time"
)

func TestRoot(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		method     string
		header     string
		accept     string
		wantStatus int
		wantInfo   bool
	}{
		{name: "no auth configured", method: http.MethodGet, wantStatus: 200, wantInfo: true},
		{name: "no auth configured, JSON", method: http.MethodGet, accept: "application/json", wantStatus: 200, wantInfo: true},
		{name: "HEAD", method: http.MethodHead, wantStatus: 200},
		{name: "auth on, anonymous", token: "t", method: http.MethodGet, wantStatus: 200},
		{name: "auth on, wrong token", token: "t", method: http.MethodGet, header: "Bearer x", wantStatus: 200},
		{name: "auth on, right token", token: "t", method: http.MethodGet, header: "Bearer t", wantStatus: 200, wantInfo: true},
		{name: "POST", method: http.MethodPost, wantStatus: 405},
		{name: "PUT, anonymous", token: "t", method: http.MethodPut, wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, _, _ := newTestAPI(t, Config{SecretToken: tt.token, Version: "8.19.3"})
			srv := httptest.NewServer(api.Handler())
			defer srv.Close()
			req, _ := http.NewRequest(tt.method, srv.URL+"/", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			var body map[string]any
			dec := json.NewDecoder(resp.Body)
			err = dec.Decode(&body)
			switch {
			case tt.wantStatus == 405:
				if err != nil || body["error"] != "method not supported: this is the server information endpoint; did you mean to send data to another endpoint instead?" {
					t.Errorf("405 body %v (%v)", body, err)
				}
			case tt.wantInfo:
				if err != nil {
					t.Fatal(err)
				}
				if body["version"] != "8.19.3" || body["publish_ready"] != true || body["build_date"] == nil || body["build_sha"] == nil {
					t.Errorf("server info %v", body)
				}
				wantCT := "text/plain; charset=utf-8"
				if tt.accept != "" {
					wantCT = "application/json"
				}
				if ct := resp.Header.Get("Content-Type"); ct != wantCT {
					t.Errorf("Content-Type %q, want %q", ct, wantCT)
				}
			case tt.method == http.MethodHead:
				if err == nil {
					t.Errorf("HEAD body %v, want none", body)
				}
			default:
				if err == nil || resp.ContentLength != 0 {
					t.Errorf("body %v (Content-Length %d), want empty", body, resp.ContentLength)
				}
			}
		})
	}
}

func TestRootPublishReady(t *testing.T) {
	ready := false
	api, _, _ := newTestAPI(t, Config{PublishReady: func() bool { return ready }})
	get := func() map[string]any {
		var body map[string]any
		w := serve(api.Handler(), httptest.NewRequest(http.MethodGet, "/", nil))
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		return body
	}
	if got := get()["publish_ready"]; got != false {
		t.Errorf("publish_ready %v, want false", got)
	}
	ready = true
	if got := get()["publish_ready"]; got != true {
		t.Errorf("publish_ready %v, want true", got)
	}
	if got := get()["version"]; got != DefaultVersion {
		t.Errorf("default version %v, want %s", got, DefaultVersion)
	}
}

func TestNotFound(t *testing.T) {
	api, _, reg := newTestAPI(t, Config{SecretToken: "t"})
	for _, path := range []string{"/nope", "/intake/v2/events/", "/intake/v2/profile", "/config/v1/agents/x", "/intake/v3/events"} {
		w := serve(api.Handler(), httptest.NewRequest(http.MethodPost, path, nil))
		if w.Code != http.StatusNotFound || w.Body.String() != `{"error":"404 page not found"}`+"\n" {
			t.Errorf("%s: %d %q", path, w.Code, w.Body)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	if got := metric(t, reg, "hotpath_intake_requests_total", "endpoint=not_found", "code=404"); got != 5 {
		t.Errorf("requests{not_found,404} = %v", got)
	}
}

// TestMountBeside checks that handlers registered beside intake on the same mux take precedence over
// its 404, which is how the collector mounts /metrics, the query API and the UI.
func TestMountBeside(t *testing.T) {
	api, _, _ := newTestAPI(t, Config{})
	mux := http.NewServeMux()
	api.Register(mux)
	mux.Handle("GET /api/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	if w := serve(mux, httptest.NewRequest(http.MethodGet, "/api/v1/traces", nil)); w.Code != http.StatusTeapot {
		t.Errorf("mounted handler: %d", w.Code)
	}
	if w := serve(mux, httptest.NewRequest(http.MethodGet, "/elsewhere", nil)); w.Code != http.StatusNotFound {
		t.Errorf("fallback: %d", w.Code)
	}
}

// TestBuildInfo: GET /'s build_date and build_sha come from the VCS stamp, else the module's
// pseudo-version, else (go run) the date the executable was built; the zero date only with nothing.
func TestBuildInfo(t *testing.T) {
	built := time.Date(2026, 12, 6, 15, 4, 5, 999, time.FixedZone("X", 3600))
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}}
	for _, tc := range []struct {
		name      string
		info      *debug.BuildInfo
		built     time.Time
		date, sha string
	}{
		{"vcs stamp", &debug.BuildInfo{Settings: vcs, Main: debug.Module{Version: "(devel)"}}, built,
			"2026-11-30T10:00:00Z", "0123456789abcdef0123456789abcdef01234567"},
		{"pseudo-version", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201081500-abcdef123456"}}, built,
			"2026-12-01T08:15:00Z", "abcdef123456"},
		{"pseudo-version after a tag", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261201081500-abcdef123456+incompatible"}}, built,
			"2026-12-01T08:15:00Z", "abcdef123456"},
		{"go run", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, built, "2026-12-06T14:04:05Z", ""},
		{"not a pseudo-version", &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0-rc1-abcdefabcdef"}}, built, "2026-12-06T14:04:05Z", ""},
		{"a release", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, built, "2026-12-06T14:04:05Z", ""},
		{"nothing", nil, time.Time{}, "0001-01-01T00:00:00Z", ""},
	} {
		date, sha := buildInfoFrom(tc.info, tc.built)
		if date != tc.date || sha != tc.sha {
			t.Errorf("%s: %q %q, want %q %q", tc.name, date, sha, tc.date, tc.sha)
		}
	}
	// This test binary was built moments ago: GET / says so.
	if date, _ := buildInfo(); date == "0001-01-01T00:00:00Z" {
		t.Errorf("build_date %s", date)
	}
}
