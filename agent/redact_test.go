package agent_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/agent/agenttest"
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
			tracer := tracer(t, in)
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
				send(t, srv.Client(), req)
			}
			tracer.Flush(nil)

			raw := in.Payload()
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

// TestSecretsNeverSentAnyWay: every kind of secret a request carries (Authorization, Proxy-Authorization,
// X-Api-Key, cookies, sensitive query parameters, a form body) and a token in the URL of an outgoing call,
// with the tracer capturing request bodies and an error captured inside the handler (which records the
// request as the tracer received it), under the default sanitizer and under
// ELASTIC_APM_SANITIZE_FIELD_NAMES=password. None is in the bytes the agent sent; the handler and the
// called service saw them all.
func TestSecretsNeverSentAnyWay(t *testing.T) {
	for _, env := range []string{"", "password"} {
		t.Run("sanitize="+env, func(t *testing.T) {
			t.Setenv("ELASTIC_APM_SANITIZE_FIELD_NAMES", env)
			in := newIntake(t)
			tracer := tracer(t, in)
			tracer.SetCaptureBody(apm.CaptureBodyAll)
			if env != "" {
				if err := tracer.SetSanitizedFieldNames(env); err != nil {
					t.Fatal(err)
				}
			}
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("token") != "out-GGGG" || r.URL.User != nil {
					t.Errorf("the called service saw %s", r.URL)
				}
			}))
			defer backend.Close()
			client := agent.WrapClient(backend.Client())
			var seen []string
			mux := http.NewServeMux()
			handle := func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil {
					t.Error(err)
				}
				seen = append(seen, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"),
					r.Form.Get("password"), r.Form.Get("token"), r.Form.Get("session_id"), r.Form.Get("api_key"))
				if c, err := r.Cookie("sid"); err == nil {
					seen = append(seen, c.Value)
				}
				out, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL+"/lookup?token=out-GGGG&q=visible-out", nil)
				if resp, err := client.Do(out); err != nil {
					t.Error(err)
				} else {
					resp.Body.Close()
				}
				apm.CaptureError(r.Context(), errors.New("captured inside the handler")).Send()
			}
			mux.HandleFunc("GET /account", handle)
			mux.HandleFunc("POST /login", handle)
			srv := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer)))
			defer srv.Close()

			secrets := append(agenttest.SendSecrets(t, srv.Client(), srv.URL), "out-GGGG")
			tracer.Flush(nil)

			for _, s := range secrets {
				if !strings.Contains(strings.Join(seen, " "), s) && !strings.HasPrefix(s, "cHJ") && !strings.HasPrefix(s, "out") {
					t.Errorf("the handler did not see %q (saw %q)", s, seen)
				}
			}
			raw := in.Payload()
			for _, s := range secrets {
				if strings.Contains(raw, s) {
					t.Errorf("%q was sent to the APM server", s)
				}
			}
			for _, want := range []string{"page=2", "visible-out", "captured inside the handler", "token=[REDACTED]"} {
				if !strings.Contains(raw, want) {
					t.Errorf("the payload has no %q: the test proves nothing", want)
				}
			}
			if errs := decode[sentError](t, in, "error"); len(errs) != 2 || errs[0].Context.Request == nil {
				t.Errorf("errors %+v", errs)
			}
		})
	}
}

// send sends req and reads the answer to its end.
func send(t *testing.T, c *http.Client, req *http.Request) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
