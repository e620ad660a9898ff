package profiling_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hotpath-apm/hotpath/profiling"
)

const testToken = "s3cret-token"

// adminServer mounts p's on-demand handler on an admin mux, as a user does.
func adminServer(t *testing.T, p *profiling.Profiler, configure func(*http.Server)) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/debug/hotpath/", p.Handler(testToken))
	srv := httptest.NewUnstartedServer(mux)
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, srv *httptest.Server, method, path, auth string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// TestEndpointRefuses: authentication first (constant-time bearer token), then method, path and
// parameters, each with its status.
func TestEndpointRefuses(t *testing.T) {
	p := newProfiler(t, profiling.WithoutCPURing(), profiling.WithoutFlightRecorder())
	srv := adminServer(t, p, nil)
	for _, c := range []struct {
		name, method, path, auth string
		status                   int
	}{
		{"no token", "GET", "/debug/hotpath/heap", "", 401},
		{"wrong token", "GET", "/debug/hotpath/heap", "Bearer wrong", 401},
		{"token prefix", "GET", "/debug/hotpath/heap", "Bearer " + testToken[:5], 401},
		{"token and more", "GET", "/debug/hotpath/heap", "Bearer " + testToken + "x", 401},
		{"basic scheme", "GET", "/debug/hotpath/heap", "Basic " + testToken, 401},
		{"no token, wrong method", "POST", "/debug/hotpath/heap", "", 401},
		{"no token, unknown path", "GET", "/debug/hotpath/nope", "", 401},
		{"POST", "POST", "/debug/hotpath/heap", "Bearer " + testToken, 405},
		{"HEAD", "HEAD", "/debug/hotpath/heap", "Bearer " + testToken, 405},
		{"unknown profile", "GET", "/debug/hotpath/mutex", "Bearer " + testToken, 404},
		{"seconds not a number", "GET", "/debug/hotpath/cpu?seconds=x", "Bearer " + testToken, 400},
		{"seconds zero", "GET", "/debug/hotpath/cpu?seconds=0", "Bearer " + testToken, 400},
		{"seconds negative", "GET", "/debug/hotpath/trace?seconds=-1", "Bearer " + testToken, 400},
		{"debug 3", "GET", "/debug/hotpath/goroutine?debug=3", "Bearer " + testToken, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := get(t, srv, c.method, c.path, c.auth)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			switch c.status {
			case 401:
				if a.header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate")
				}
			case 405:
				if a.header.Get("Allow") != "GET" {
					t.Errorf("Allow %q", a.header.Get("Allow"))
				}
			}
			if bytes.Contains(a.body, []byte(testToken)) {
				t.Error("the answer shows the token")
			}
		})
	}
	// The lower-case scheme is accepted (RFC 9110: schemes are case-insensitive).
	if a := get(t, srv, "GET", "/debug/hotpath/heap", "bearer "+testToken); a.status != 200 {
		t.Errorf("lower-case scheme: %d", a.status)
	}
}

func parseBody(t *testing.T, a answer) *profile.Profile {
	t.Helper()
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	p, err := profile.ParseData(a.body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEndpointProfiles: each kind answers what go tool pprof / go tool trace open.
func TestEndpointProfiles(t *testing.T) {
	p := newProfiler(t, profiling.WithOnDemandMaxSeconds(1))
	srv := adminServer(t, p, nil)
	auth := "Bearer " + testToken

	if hp := parseBody(t, get(t, srv, "GET", "/debug/hotpath/heap?gc=1", auth)); hp.SampleType[0].Type != "alloc_objects" {
		t.Errorf("heap sample types %v", hp.SampleType)
	}
	if g := parseBody(t, get(t, srv, "GET", "/debug/hotpath/goroutine", auth)); g.SampleType[0].Type != "goroutine" {
		t.Errorf("goroutine sample types %v", g.SampleType)
	}
	if a := get(t, srv, "GET", "/debug/hotpath/goroutine?debug=2", auth); a.status != 200 ||
		!strings.HasPrefix(string(a.body), "goroutine ") || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
		t.Errorf("goroutine debug=2: %d %q", a.status, a.body[:min(len(a.body), 40)])
	}
	// seconds is capped at WithOnDemandMaxSeconds.
	a := get(t, srv, "GET", "/debug/hotpath/cpu?seconds=30", auth)
	if cp := parseBody(t, a); cp.SampleType[1].Type != "cpu" || a.header.Get("X-Hotpath-Seconds") != "1" {
		t.Errorf("cpu: sample types %v, X-Hotpath-Seconds %q", cp.SampleType, a.header.Get("X-Hotpath-Seconds"))
	} else if d := time.Duration(cp.DurationNanos); d < time.Second || d > 5*time.Second {
		t.Errorf("cpu profile covers %v, want 1s", d)
	}
	if a := get(t, srv, "GET", "/debug/hotpath/trace", auth); a.status != 200 || !strings.HasPrefix(string(a.body), "go 1.") {
		t.Errorf("trace: %d %q", a.status, a.body[:min(len(a.body), 40)])
	}
}

// TestEndpointConcurrent: two on-demand requests at once for the CPU profile, and two for the trace,
// all succeed: they share the CPU sampler and the flight recorder instead of failing each other.
func TestEndpointConcurrent(t *testing.T) {
	p := newProfiler(t, profiling.WithFlightRecorder(trace.FlightRecorderConfig{}))
	srv := adminServer(t, p, nil)
	var wg sync.WaitGroup
	for _, path := range []string{"cpu?seconds=1", "cpu?seconds=1", "trace?seconds=1", "trace?seconds=1"} {
		wg.Go(func() {
			a := get(t, srv, "GET", "/debug/hotpath/"+path, "Bearer "+testToken)
			if a.status != 200 {
				t.Errorf("%s: %d %s", path, a.status, a.body)
			}
		})
	}
	wg.Wait()
}

// TestEndpointBusy: when the CPU profiler or the execution tracer is held outside the profiler, the
// answer is 409 with Retry-After, not a 500.
func TestEndpointBusy(t *testing.T) {
	p := newProfiler(t, profiling.WithoutCPURing(), profiling.WithoutFlightRecorder())
	srv := adminServer(t, p, nil)
	auth := "Bearer " + testToken

	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatal(err)
	}
	a := get(t, srv, "GET", "/debug/hotpath/cpu?seconds=3", auth)
	pprof.StopCPUProfile()
	if a.status != 409 || a.header.Get("Retry-After") != "3" {
		t.Errorf("cpu while busy: %d, Retry-After %q: %s", a.status, a.header.Get("Retry-After"), a.body)
	}

	if err := trace.Start(io.Discard); err != nil {
		t.Fatal(err)
	}
	a = get(t, srv, "GET", "/debug/hotpath/trace?seconds=2", auth)
	trace.Stop()
	if a.status != 409 || a.header.Get("Retry-After") != "2" {
		t.Errorf("trace while busy: %d, Retry-After %q: %s", a.status, a.header.Get("Retry-After"), a.body)
	}
}

// TestEndpointWriteTimeout: a duration the server would cut is refused up front.
func TestEndpointWriteTimeout(t *testing.T) {
	p := newProfiler(t, profiling.WithoutCPURing(), profiling.WithoutFlightRecorder())
	srv := adminServer(t, p, func(s *http.Server) { s.WriteTimeout = 2 * time.Second })
	if a := get(t, srv, "GET", "/debug/hotpath/cpu?seconds=2", "Bearer "+testToken); a.status != 400 {
		t.Errorf("status %d: %s", a.status, a.body)
	}
}

// TestEndpointAfterShutdown: 503.
func TestEndpointAfterShutdown(t *testing.T) {
	p := newProfiler(t, profiling.WithoutCPURing(), profiling.WithoutFlightRecorder())
	srv := adminServer(t, p, nil)
	p.Close()
	if a := get(t, srv, "GET", "/debug/hotpath/heap", "Bearer "+testToken); a.status != 503 {
		t.Errorf("status %d: %s", a.status, a.body)
	}
}

// TestHandlerNeedsToken: a handler without a token is a programming error.
func TestHandlerNeedsToken(t *testing.T) {
	p := newProfiler(t, profiling.WithoutCPURing(), profiling.WithoutFlightRecorder())
	defer func() {
		if recover() == nil {
			t.Error("Handler(\"\") did not panic")
		}
	}()
	p.Handler("")
}
