package profiling_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/profiling"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// executionTrace records a short real execution trace.
func executionTrace(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	trace.Log(t.Context(), "test", "upload")
	trace.Stop()
	return buf.Bytes()
}

func goroutineProfile(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// slowCapture is a complete slow-request capture with real profiles, at fixed times.
func slowCapture(t *testing.T) *profiling.Capture {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)
	return &profiling.Capture{
		ID:      "0123456789abcdef0123456789abcdef",
		Trigger: profiling.TriggerSlowRequest,
		Time:    t0,
		End:     t0.Add(1500 * time.Millisecond),
		Request: &profiling.CapturedRequest{
			TraceID:       "fedcba9876543210fedcba9876543210",
			TransactionID: "0011223344556677",
			Sampled:       true,
			Route:         "GET /search",
			Start:         t0.Add(-500 * time.Millisecond),
			Threshold:     500 * time.Millisecond,
			Ended:         true,
		},
		CPU:                readTestdata(t, "cpu.pprof"),
		CPUStart:           t0.Add(-500 * time.Millisecond),
		CPUEnd:             t0.Add(1500 * time.Millisecond),
		CPUSamples:         42,
		Goroutine:          goroutineProfile(t),
		GoroutineSnapshots: 3,
		Trace:              executionTrace(t),
		Errors:             []string{"an error"},
	}
}

// uploadingProfiler is a profiler that uploads to in, with nothing running in the background.
func uploadingProfiler(t *testing.T, in *intake, opts ...profiling.Option) *profiling.Profiler {
	return newProfiler(t, append([]profiling.Option{profiling.WithServerURL(in.URL()),
		profiling.WithService("search", "1.2.3", "test"), profiling.WithoutCPURing(),
		profiling.WithoutFlightRecorder()}, opts...)...)
}

// TestUploadWire: a capture with every kind of part goes out as the documented multipart: metadata,
// capture, profile parts, trace part, which the strict intake reads back to the same values. The part
// headers and the capture part are golden (testdata/upload.golden; -update rewrites it).
func TestUploadWire(t *testing.T) {
	in := newIntake(t, "Bearer tok")
	p := uploadingProfiler(t, in, profiling.WithSecretToken("tok"))
	c := slowCapture(t)
	c.Heap = readTestdata(t, "heap.pprof")
	if err := profiling.Upload(p, c); err != nil {
		t.Fatal(err)
	}
	u := in.next()
	if ua := u.Header.Get("User-Agent"); ua != "hotpath-profiling (search)" {
		t.Errorf("User-Agent %q", ua)
	}
	svc := u.Metadata["service"].(map[string]any)
	if svc["name"] != "search" || svc["version"] != "1.2.3" || svc["environment"] != "test" ||
		svc["agent"].(map[string]any)["name"] != "go" {
		t.Errorf("metadata service %v", svc)
	}
	for kind, want := range map[string][]byte{"cpu": c.CPU, "goroutine": c.Goroutine, "heap": c.Heap} {
		if !bytes.Equal(u.Raw[kind], want) {
			t.Errorf("%s part differs from the capture's", kind)
		}
	}
	if !bytes.Equal(u.Trace, c.Trace) {
		t.Error("trace part differs from the capture's")
	}

	var golden strings.Builder
	for _, part := range u.Parts {
		size := fmt.Sprint(part.Size)
		if part.Name != "capture" {
			size = "*" // real profiles and metadata: their sizes vary
		}
		fmt.Fprintf(&golden, "part %s\n  Content-Disposition: %s\n  Content-Type: %s\n", part.Name, part.Disposition, part.ContentType)
		if part.ContentEncoding != "" {
			fmt.Fprintf(&golden, "  Content-Encoding: %s\n", part.ContentEncoding)
		}
		fmt.Fprintf(&golden, "  size: %s\n", size)
	}
	var capJSON bytes.Buffer
	if err := json.Indent(&capJSON, u.CaptureRaw, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden.WriteString("capture part (indented):\n")
	golden.Write(capJSON.Bytes())
	golden.WriteString("\n")
	path := filepath.Join("testdata", "upload.golden")
	if *update {
		if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := string(readTestdata(t, "upload.golden")); golden.String() != want {
		t.Errorf("upload differs from %s (-update rewrites it):\n%s", path, golden.String())
	}
}

// TestUploadAuthAndURL: API key over secret token, a server URL with a path prefix, the environment
// as the Elastic agent reads it.
func TestUploadAuthAndURL(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		opts func(base string) []profiling.Option
		auth string
		path string
	}{
		{"none", nil, func(base string) []profiling.Option { return []profiling.Option{profiling.WithServerURL(base)} }, "", ""},
		{"API key wins", nil, func(base string) []profiling.Option {
			return []profiling.Option{profiling.WithServerURL(base + "/prefix/"), profiling.WithSecretToken("s"), profiling.WithAPIKey("k")}
		}, "ApiKey k", "/prefix"},
		{"environment", map[string]string{"ELASTIC_APM_SECRET_TOKEN": "envtok", "ELASTIC_APM_SERVICE_NAME": "env svc!"},
			func(base string) []profiling.Option {
				os.Setenv("ELASTIC_APM_SERVER_URL", base+"/apm")
				return nil
			}, "Bearer envtok", "/apm"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			t.Setenv("ELASTIC_APM_SERVER_URL", "")
			got := make(chan *http.Request, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					t.Error(err)
				}
				if _, err := decodeUpload(agenttest.Upload{Header: r.Header, Body: body}, r.Header.Get("Authorization")); err != nil {
					t.Error(err)
				}
				got <- r
				w.WriteHeader(http.StatusAccepted)
			}))
			defer srv.Close()
			p := newProfiler(t, append(c.opts(srv.URL), profiling.WithoutCPURing(), profiling.WithoutFlightRecorder())...)
			if err := profiling.Upload(p, slowCapture(t)); err != nil {
				t.Fatal(err)
			}
			r := <-got
			if r.Header.Get("Authorization") != c.auth || r.URL.Path != c.path+profiling.ProfilePath {
				t.Errorf("Authorization %q, path %q", r.Header.Get("Authorization"), r.URL.Path)
			}
			if c.name == "environment" && r.Header.Get("User-Agent") != "hotpath-profiling (env svc_)" {
				t.Errorf("User-Agent %q", r.Header.Get("User-Agent"))
			}
		})
	}
	if _, err := profiling.New(profiling.WithServerURL("localhost:8200")); err == nil {
		t.Error("a server URL without a scheme was accepted")
	}
	// A refused URL's password is not in the error.
	if _, err := profiling.New(profiling.WithServerURL("ftp://user:s3cret@localhost:8200")); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("ftp URL with a password: %v", err)
	}
}

// TestUploadRefused: a server's refusal is an error quoting its status and (at most 1 KiB of) its
// message, counted in Stats.
func TestUploadRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, `{"error":"profile intake disabled"}`+strings.Repeat(" ", 2000)+"TAIL", http.StatusForbidden)
	}))
	defer srv.Close()
	// The server URL's password is kept out of the error.
	withPassword := strings.Replace(srv.URL, "://", "://user:s3cret@", 1)
	p := newProfiler(t, profiling.WithServerURL(withPassword), profiling.WithoutCPURing(), profiling.WithoutFlightRecorder())
	err := profiling.Upload(p, slowCapture(t))
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), "profile intake disabled") ||
		strings.Contains(err.Error(), "TAIL") || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "user:xxxxx@") {
		t.Errorf("error %v", err)
	}
}

// TestUploadLimits: profile parts fit in 10 MiB together; one that would pass it is left out (and the
// capture part says so), the exact limit is accepted.
func TestUploadLimits(t *testing.T) {
	in := newIntake(t, "")
	p := uploadingProfiler(t, in)
	c := slowCapture(t)
	c.Trace = nil
	room := 10<<20 - len(c.CPU) - len(c.Goroutine)
	// A heap part of exactly the room left: a valid profile padded with a comment.
	c.Heap = paddedProfile(t, readTestdata(t, "heap.pprof"), room)
	if err := profiling.Upload(p, c); err != nil {
		t.Fatal(err)
	}
	if u := in.next(); u.Raw["heap"] == nil || len(u.Capture.Errors) != 1 {
		t.Fatalf("at the limit: parts %q, errors %q", u.Capture.Parts, u.Capture.Errors)
	}
	c.Heap = paddedProfile(t, readTestdata(t, "heap.pprof"), room+1)
	if err := profiling.Upload(p, c); err != nil {
		t.Fatal(err)
	}
	u := in.next()
	if u.Raw["heap"] != nil || u.Raw["cpu"] == nil || len(u.Capture.Errors) != 2 ||
		!strings.HasPrefix(u.Capture.Errors[1], "heap: left out of the upload") {
		t.Fatalf("over the limit: parts %q, errors %q", u.Capture.Parts, u.Capture.Errors)
	}
}

// paddedProfile returns profile data of exactly size bytes: p with trailing bytes of an unknown field
// (protobuf field 100, length-delimited), which profile parsers skip.
func paddedProfile(t *testing.T, gz []byte, size int) []byte {
	t.Helper()
	prof := parseProfile(t, gz)
	var raw bytes.Buffer
	if err := prof.WriteUncompressed(&raw); err != nil {
		t.Fatal(err)
	}
	base := raw.Len()
	if size < base+8 {
		t.Fatalf("cannot pad %d bytes to %d", base, size)
	}
	// Field 100, wire type 2: tag varint 0xa2 0x06, then the length varint, then the bytes.
	n := size - base - 2
	for l := n - 1; l > 0; l-- { // find the payload length whose varint fits exactly
		var v []byte
		for x := l; ; x >>= 7 {
			if x < 0x80 {
				v = append(v, byte(x))
				break
			}
			v = append(v, byte(x)|0x80)
		}
		if len(v)+l == n {
			out := append(raw.Bytes(), 0xa2, 0x06)
			out = append(out, v...)
			return append(out, make([]byte, l)...)
		}
	}
	t.Fatal("no padding fits")
	return nil
}

// TestElasticAgentProfileAccepted: the real Elastic Go agent's periodic CPU profile
// (ELASTIC_APM_CPU_PROFILE_INTERVAL), which the collector accepts too, passes the same strict reading:
// metadata, then profile parts, no capture part.
func TestElasticAgentProfileAccepted(t *testing.T) {
	in := newIntake(t, "Bearer agent-token")
	t.Setenv("ELASTIC_APM_CPU_PROFILE_INTERVAL", "100ms")
	t.Setenv("ELASTIC_APM_CPU_PROFILE_DURATION", "100ms")
	tracer := newTracer(t, in.URL(), "agent-token", "agent-svc")
	up := in.next()
	tracer.Close()
	if up.Capture != nil || len(up.Profiles) == 0 || up.Profiles["0"].SampleType[1].Type != "cpu" {
		t.Errorf("agent upload: capture %v, %d profiles", up.Capture, len(up.Profiles))
	}
	if svc := up.Metadata["service"].(map[string]any); svc["name"] != "agent-svc" {
		t.Errorf("agent metadata service %v", svc)
	}
	// Its metadata has the shape of the fixture APM Server kept from the Go agent.
	var fixture map[string]any
	if err := json.Unmarshal(readTestdata(t, "metadata.json"), &fixture); err != nil {
		t.Fatal(err)
	}
	for k := range fixture {
		if up.Metadata[k] == nil {
			t.Errorf("agent metadata lacks %q", k)
		}
	}
}

// TestUploadResourceCapture: a resource trigger's capture has a resource and no transaction or trace;
// an average that is not known (no previous check) is left out.
func TestUploadResourceCapture(t *testing.T) {
	in := newIntake(t, "")
	p := uploadingProfiler(t, in)
	c := slowCapture(t)
	c.Request = nil
	c.Trigger = profiling.TriggerSchedLatency
	c.Resource = &profiling.ResourceEvent{Resource: profiling.ResourceSchedLatency, Value: 0.2, Rule: "abs",
		Threshold: 0.1, Average: math.NaN()}
	c.Heap = readTestdata(t, "heap.pprof")
	if err := profiling.Upload(p, c); err != nil {
		t.Fatal(err)
	}
	u := in.next()
	if r := u.Capture.Resource; r == nil || r.Name != "sched_latency" || r.Value != 0.2 || r.Threshold != 0.1 ||
		r.Average != nil || bytes.Contains(u.CaptureRaw, []byte("average")) {
		t.Errorf("capture %s", u.CaptureRaw)
	}
}

// TestUploadCaptureLimit: the capture part fits its 10 KiB. At exactly 10 KiB it keeps every error;
// one byte more, and errors are dropped from the last until it fits.
func TestUploadCaptureLimit(t *testing.T) {
	const limit = 10 << 10
	metadata := []byte(`{"service":{"name":"search","agent":{"name":"go","version":"2.7.12"}}}`)
	encode := func(c *profiling.Capture) *profileUpload {
		t.Helper()
		var body bytes.Buffer
		ct, err := profiling.EncodeUpload(&body, metadata, c)
		if err != nil {
			t.Fatal(err)
		}
		u, err := decodeUpload(agenttest.Upload{Header: http.Header{"Content-Type": {ct}}, Body: body.Bytes()}, "")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	c := slowCapture(t)
	c.Errors = []string{"an error", ""}
	pad := limit - len(encode(c).CaptureRaw)
	c.Errors[1] = strings.Repeat("e", pad)
	if u := encode(c); len(u.CaptureRaw) != limit || len(u.Capture.Errors) != 2 || u.Capture.Errors[1] != c.Errors[1] {
		t.Errorf("at the limit: a capture part of %d bytes, %d errors", len(u.CaptureRaw), len(u.Capture.Errors))
	}
	c.Errors[1] += "e"
	if u := encode(c); len(u.CaptureRaw) > limit || len(u.Capture.Errors) != 1 || u.Capture.Errors[0] != "an error" {
		t.Errorf("over the limit: a capture part of %d bytes, errors %q", len(u.CaptureRaw), u.Capture.Errors)
	}
}
