package intake

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRUMDisabled(t *testing.T) {
	for _, path := range []string{"/intake/v2/rum/events", "/intake/v3/rum/events", "/config/v1/rum/agents"} {
		t.Run(path, func(t *testing.T) {
			api, _, _ := newTestAPI(t, Config{})
			req := httptest.NewRequest(http.MethodPost, path, nil)
			req.Header.Set("Origin", "https://shop.example")
			w := serve(api.Handler(), req)
			if w.Code != http.StatusForbidden || w.Body.String() != `{"error":"`+msgRUMDisabled+`"}`+"\n" {
				t.Errorf("%d %s", w.Code, w.Body)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != "https://shop.example" {
				t.Errorf("Access-Control-Allow-Origin %q", w.Header().Get("Access-Control-Allow-Origin"))
			}

			// The CORS preflight still succeeds, as APM Server's CORS middleware runs first.
			req = httptest.NewRequest(http.MethodOptions, path, nil)
			req.Header.Set("Origin", "https://shop.example")
			w = serve(api.Handler(), req)
			h := w.Header()
			if w.Code != http.StatusOK || w.Body.Len() != 0 || h.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
				h.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" || h.Get("Access-Control-Max-Age") != "3600" ||
				h.Get("Vary") != "Origin" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("preflight: %d %v", w.Code, h)
			}
		})
	}
}

func TestRUMDisabledAuthFirst(t *testing.T) {
	api, _, _ := newTestAPI(t, Config{SecretToken: "t"})
	w := serve(api.Handler(), httptest.NewRequest(http.MethodPost, "/intake/v2/rum/events", nil))
	if w.Code != http.StatusUnauthorized {
		t.Errorf("without auth: %d, want 401 (auth runs before the kill switch)", w.Code)
	}
	req := httptest.NewRequest(http.MethodPost, "/intake/v2/rum/events", nil)
	req.Header.Set("Authorization", "Bearer t")
	if w := serve(api.Handler(), req); w.Code != http.StatusForbidden {
		t.Errorf("with auth: %d, want 403", w.Code)
	}
}
