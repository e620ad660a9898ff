package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// execCollectorEnv, set to 1, makes the test binary run as the hotpath command (see TestMain): the
// end-to-end tests start it as a separate collector process that they can kill.
const execCollectorEnv = "HOTPATH_TEST_BINARY_IS_HOTPATH"

func TestMain(m *testing.M) {
	if os.Getenv(execCollectorEnv) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// testCollector is a collector running in the test process on a loopback port.
type testCollector struct {
	url     string
	dataDir string
	c       *collectorServer
	stop    func() error // shuts down gracefully and returns serve's error
}

func testConfig(t *testing.T) collectorConfig {
	t.Helper()
	cfg, err := parseCollectorFlags([]string{"--listen", "127.0.0.1:0", "--data", t.TempDir()}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startCollector(t *testing.T, cfg collectorConfig, log *zap.Logger) *testCollector {
	t.Helper()
	if log == nil {
		log = zap.NewNop()
	}
	c, err := openCollector(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		t.Fatal(errors.Join(err, c.close()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.serve(ctx, ln) }()
	tc := &testCollector{url: "http://" + ln.Addr().String(), dataDir: cfg.dataDir, c: c}
	var stopped bool
	var stopErr error
	tc.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-done
		}
		return stopErr
	}
	t.Cleanup(func() {
		if err := tc.stop(); err != nil {
			t.Error(err)
		}
	})
	return tc
}

// storedEvents opens the store of a stopped collector and returns every event in it.
func storedEvents(t *testing.T, dataDir string) []collector.Event {
	t.Helper()
	s, err := pebble.Open(pebble.Config{Dir: filepath.Join(dataDir, "store")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []collector.Event
	for from := s.OldestSeq(); ; {
		recs, err := s.ReadFrom(context.Background(), from, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			out = append(out, r.Event)
		}
		from = recs[len(recs)-1].Seq + 1
	}
}

// get GETs url, with an Authorization header if auth is not "", and returns the answer's status and body.
func get(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req)
}

// do sends req and returns the answer's status and body.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, string(b)
}

// metricLine returns the value text of a metric line of a /metrics page ("" if absent).
func metricLine(page, name string) string {
	sc := bufio.NewScanner(strings.NewReader(page))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	return ""
}

// TestCollectorEndToEnd: events posted to a running collector are answered 202, counted in /metrics
// with the store's own metrics beside intake's, and are in the store afterwards.
func TestCollectorEndToEnd(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	gen := newPayloadGen("e2e", 5)
	body, _ := gen.appendStream(nil, 10, time.Now())
	resp, err := http.Post(tc.url+"/intake/v2/events", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	code, page := get(t, tc.url+"/metrics", "")
	if code != 200 || metricLine(page, "hotpath_intake_events_accepted_total") != "60" {
		t.Errorf("/metrics %d: accepted %q", code, metricLine(page, "hotpath_intake_events_accepted_total"))
	}
	for _, name := range []string{"hotpath_intake_streams_in_flight", "hotpath_store_queue_batches", "hotpath_store_commit_seconds", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(page, name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if code, _ := get(t, tc.url+"/", ""); code != 200 {
		t.Errorf("GET /: %d", code)
	}
	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}
	events := storedEvents(t, tc.dataDir)
	if len(events) != 60 {
		t.Fatalf("%d events stored, want 60", len(events))
	}
	kinds := map[collector.Kind]int{}
	for _, e := range events {
		kinds[e.Kind]++
		if e.Service.Name != "e2e" || e.Observer.Type != "apm-server" || len(e.Host.IP) != 1 || !e.Host.IP[0].IsLoopback() {
			t.Fatalf("stored event %+v", e)
		}
	}
	if kinds[collector.KindTransaction] != 10 || kinds[collector.KindSpan] != 50 {
		t.Errorf("kinds %v", kinds)
	}
}

// TestCollectorAuth: with a secret token, intake, /metrics and the agent configuration need it; GET /
// answers anonymous callers with an empty body.
func TestCollectorAuth(t *testing.T) {
	cfg := testConfig(t)
	cfg.secretToken = "tok"
	tc := startCollector(t, cfg, nil)
	for path, want := range map[string][2]int{ // without, with the token
		"/metrics":                         {401, 200},
		"/config/v1/agents?service.name=a": {401, 200},
		"/":                                {200, 200},
		"/nowhere":                         {404, 404},
		"/intake/v2/events":                {401, 400}, // GET: only POST requests are supported
	} {
		if code, _ := get(t, tc.url+path, ""); code != want[0] {
			t.Errorf("%s without token: %d, want %d", path, code, want[0])
		}
		if code, _ := get(t, tc.url+path, "Bearer tok"); code != want[1] {
			t.Errorf("%s with token: %d, want %d", path, code, want[1])
		}
	}
	if _, body := get(t, tc.url+"/", ""); body != "" {
		t.Errorf("anonymous GET /: %q", body)
	}
}

// TestCollectorHTTPLimits: a client that sends its headers too slowly, or too many of them, is cut off.
func TestCollectorHTTPLimits(t *testing.T) {
	cfg := testConfig(t)
	cfg.http.readHeaderTimeout = 200 * time.Millisecond
	cfg.http.maxHeaderBytes = 4 << 10
	tc := startCollector(t, cfg, nil)
	addr := strings.TrimPrefix(tc.url, "http://")

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")); err != nil { // and never the blank line
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	n, err := conn.Read(make([]byte, 1024))
	if err == nil && n > 0 {
		// net/http may answer 408 before closing; then the next read must see the close.
		_, err = conn.Read(make([]byte, 1024))
	}
	if err != io.EOF || time.Since(start) > 5*time.Second {
		t.Errorf("slow headers: connection not closed by the server (%v after %s)", err, time.Since(start))
	}

	req, _ := http.NewRequest(http.MethodGet, tc.url+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 8<<10))
	if code, _ := do(t, req); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("8 KiB header with a 4 KiB limit: %d", code)
	}
}

// TestCollectorGracefulShutdown: a stream in flight when the collector is told to stop is finished,
// answered 202 and stored; new connections are refused meanwhile.
func TestCollectorGracefulShutdown(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	tc := startCollector(t, testConfig(t), zap.New(core))
	gen := newPayloadGen("shutdown", 2)
	first, _ := gen.appendStream(nil, 5, time.Now())
	var more []byte
	for i, line := range bytes.SplitAfter(first, []byte("\n")) {
		if i > 0 { // the events again, without the metadata line
			more = append(more, line...)
		}
	}

	pr, pw := io.Pipe()
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Post(tc.url+"/intake/v2/events?verbose", "application/x-ndjson", pr)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	if _, err := pw.Write(first); err != nil {
		t.Fatal(err)
	}
	waitForCond(t, func() bool {
		_, page := get(t, tc.url+"/metrics", "")
		return metricLine(page, "hotpath_intake_streams_in_flight") == "1"
	})

	stopped := make(chan error, 1)
	go func() { stopped <- tc.stop() }()
	waitForCond(t, func() bool { return logs.FilterMessage("shutting down: finishing requests in flight").Len() == 1 })
	// The listener closes: new connections are refused while the request is still in flight.
	waitForCond(t, func() bool {
		conn, err := net.Dial("tcp", strings.TrimPrefix(tc.url, "http://"))
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	select {
	case err := <-stopped:
		t.Fatalf("collector stopped with a request in flight: %v", err)
	default:
	}
	if _, err := pw.Write(more); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-answered; code != http.StatusAccepted {
		t.Errorf("in-flight request answered %d", code)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if n := len(storedEvents(t, tc.dataDir)); n != 30 {
		t.Errorf("%d events stored, want 30", n)
	}
}

// waitForCond polls cond until it holds, failing after 10 s.
func waitForCond(t *testing.T, cond func() bool) {
	t.Helper()
	waitForCondWithin(t, 10*time.Second, "condition", cond)
}

// waitForCondWithin polls cond until it holds, failing the test with what after d.
func waitForCondWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not met in %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestCollectorAgentConfigFile: the agent configuration is read from the data directory.
func TestCollectorAgentConfigFile(t *testing.T) {
	cfg := testConfig(t)
	if err := os.WriteFile(filepath.Join(cfg.dataDir, agentConfigFileName),
		[]byte(`[{"service":{"name":"search"},"settings":{"transaction_sample_rate":"0.1"}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, cfg, nil)
	code, body := get(t, tc.url+"/config/v1/agents?service.name=search", "")
	if code != 200 || strings.TrimSpace(body) != `{"transaction_sample_rate":"0.1"}` {
		t.Errorf("%d %s", code, body)
	}
}
