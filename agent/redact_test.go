package agent_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/agent"
)

// TestSecretsNeverSent: requests carrying credentials, answered normally and by a panic, traced by the real
// tracer; the secrets are nowhere in the bytes the agent sent, and the places they would be say
// [REDACTED]. The handler itself still sees them. A second tracer whose sanitizer was reconfigured
// without "*auth*" shows that Authorization and cookies do not depend on that setting.
func TestSecretsNeverSent(t *testing.T) {
	for _, reconfigured := range []bool{false, true} {
		name := "default sanitizer"
		if reconfigured {
			name = "sanitizer without auth"
		}
		t.Run(name, func(t *testing.T) {
			in := newIntake(t)
			tracer := in.tracer(t)
			if reconfigured {
				if err := tracer.SetSanitizedFieldNames("password", "set-cookie"); err != nil {
					t.Fatal(err)
				}
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer tok-AAAA" {
					t.Errorf("handler saw Authorization %q", r.Header.Get("Authorization"))
				}
				if c, err := r.Cookie("sid"); err != nil || c.Value != "sid-BBBB" {
					t.Errorf("handler saw cookie %v %v", c, err)
				}
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "set-CCCC"})
				io.WriteString(w, "hello")
			})
			mux.HandleFunc("GET /crash", func(w http.ResponseWriter, r *http.Request) { panic("crash") })
			srv := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer)))
			defer srv.Close()

			for _, path := range []string{"/account", "/crash"} {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer tok-AAAA")
				req.Header.Set("Proxy-Authorization", "Basic cHJveHktRERERA==")
				req.Header.Add("Cookie", "sid=sid-BBBB; theme=theme-EEEE")
				req.Header.Add("Cookie", "prefs=prefs-FFFF")
				req.Header.Set("X-Request-Id", "visible-1")
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			tracer.Flush(nil)

			raw := in.rawPayload()
			for _, secret := range []string{"tok-AAAA", "sid-BBBB", "set-CCCC", "cHJveHktRERERA", "theme-EEEE", "prefs-FFFF"} {
				if strings.Contains(raw, secret) {
					t.Errorf("%q was sent to the APM server", secret)
				}
			}
			if !strings.Contains(raw, "visible-1") {
				t.Fatal("the payload does not hold the request headers at all: the test proves nothing")
			}

			account := oneTransaction(t, in, "GET /account")
			req, resp := account.Context.Request, account.Context.Response
			if req == nil || resp == nil {
				t.Fatalf("no request/response context: %+v", account.Context)
			}
			for _, h := range []string{"Authorization", "Proxy-Authorization"} {
				if got := req.Headers[h]; got != "[REDACTED]" {
					t.Errorf("request header %s sent as %v", h, got)
				}
			}
			for _, c := range []string{"sid", "theme", "prefs"} {
				if got := req.Cookies[c]; got != "[REDACTED]" {
					t.Errorf("cookie %s sent as %v", c, got)
				}
			}
			if got := resp.Headers["Set-Cookie"]; got != "[REDACTED]" {
				t.Errorf("Set-Cookie sent as %v", got)
			}
			errs := decode[sentError](t, in, "error")
			if len(errs) != 1 || errs[0].Context.Request == nil {
				t.Fatalf("errors %+v", errs)
			}
			if got := errs[0].Context.Request.Headers["Authorization"]; got != "[REDACTED]" {
				t.Errorf("error's request Authorization sent as %v", got)
			}
		})
	}
}
