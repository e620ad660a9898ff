package profiling_test

import (
	"bytes"
	"io"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/profiling"
)

// newTracer returns the real Elastic agent for service (version 1.0.0), sending to the server at
// serverURL with secretToken, if any; it is closed when the test ends.
func newTracer(t *testing.T, serverURL, secretToken, service string) *apm.Tracer {
	t.Helper()
	return agenttest.NewTracer(t, serverURL, agenttest.Options{Service: service, Version: "1.0.0", SecretToken: secretToken})
}

// TestEndToEnd is the "done means": a service with agent.Wrap and the profiler on real HTTP,
// one handler burning CPU in a known function for 400 ms and one blocked on a channel, both slower
// than their 100 ms threshold. The collector ends up with, for each slow transaction the Elastic agent
// sent, a profile upload naming it, whose CPU profile's top function is profilingtest.Burn, and whose goroutine
// profile's top frames are the channel receive in waitForRelease; the transaction's labels.profile_id
// names the upload.
func TestEndToEnd(t *testing.T) {
	coll := newIntake(t, "Bearer collector-token")
	tracer := newTracer(t, coll.URL(), "", "search")
	f := agent.NewInFlight()
	started := make(chan string, 4)
	newProfiler(t, profiling.WithInFlight(f), profiling.WithServerURL(coll.URL()),
		profiling.WithFlightRecorder(trace.FlightRecorderConfig{}),
		profiling.WithSecretToken("collector-token"), profiling.WithService("search", "1.0.0", ""),
		profiling.WithSlowHook(func(id string) { started <- id }))

	release := make(chan struct{})
	svc := httptest.NewServer(agent.Wrap(burnAndBlock("GET /block/{id}", release), agent.WithTracer(tracer), agent.WithInFlight(f),
		agent.WithSlowThreshold(100*time.Millisecond)))
	defer svc.Close()

	getOK := func(path string) {
		resp, err := svc.Client().Get(svc.URL + path)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	getOK("/burn")
	burnID := waitFor(t, started, "the /burn capture")
	done := make(chan struct{})
	go func() {
		defer close(done)
		getOK("/block/7")
	}()
	blockID := waitFor(t, started, "the /block capture")
	close(release) // the capture has its first goroutine snapshot
	<-done

	uploads := map[string]*profileUpload{}
	for range 2 {
		u := coll.next()
		uploads[u.Capture.ID] = u
	}
	tracer.Flush(nil)
	txs := agenttest.Decode[map[string]any](t, coll.Intake, "transaction")
	if len(txs) != 2 {
		t.Fatalf("%d transactions", len(txs))
	}
	for _, tx := range txs {
		name := tx["name"].(string)
		labels, _ := tx["context"].(map[string]any)["tags"].(map[string]any)
		pid, _ := labels["profile_id"].(string)
		u := uploads[pid]
		if u == nil {
			t.Errorf("%s: labels %v: no upload with that profile_id (uploads %v)", name, labels, keys(uploads))
			continue
		}
		c := u.Capture
		if c.Trigger != "slow_request" || c.Transaction.ID != tx["id"] || c.Trace.ID != tx["trace_id"] ||
			c.Transaction.Name != name || !c.Transaction.Ended || labels["slow"] != true {
			t.Errorf("%s: capture %s, transaction %v", name, u.CaptureRaw, tx)
		}
		if u.Trace == nil || !bytes.Contains(u.Trace, []byte(c.Transaction.ID)) || !bytes.Contains(u.Trace, []byte(name)) {
			t.Errorf("%s: no trace part, or no region and log of the request in it (errors %q)", name, c.Errors)
		}
		// Each request's capture: the one its handler started, with the profile that shows it.
		want, ok := map[string]struct{ started, part string }{
			"GET /burn":       {burnID, "cpu"},
			"GET /block/{id}": {blockID, "goroutine"},
		}[name]
		if !ok {
			t.Errorf("unexpected transaction %s", name)
			continue
		}
		if pid != want.started {
			t.Errorf("%s: profile_id %s, capture started %s", name, pid, want.started)
		}
		p := u.Profiles[want.part]
		if p == nil {
			t.Fatalf("%s: no %s part; errors %q", name, want.part, c.Errors)
		}
		checkLabels(t, p, c.Transaction.ID, c.Trace.ID, name)
		if want.part == "goroutine" {
			checkBlockedInWaitForRelease(t, name+": top goroutine", p)
			continue
		}
		top, n := topFrame(p)
		if !strings.HasSuffix(top, "/profilingtest.Burn") || c.CPU.Samples < 10 || c.CPU.Timestamp != c.Transaction.Timestamp {
			t.Errorf("%s: CPU top %s (%d samples of %d), from %d, request from %d; errors %q", name, top, n,
				c.CPU.Samples, c.CPU.Timestamp, c.Transaction.Timestamp, c.Errors)
		}
	}
}

// checkLabels checks that every sample of p is the request's.
func checkLabels(t *testing.T, p *profile.Profile, txID, traceID, route string) {
	t.Helper()
	if len(p.Sample) == 0 {
		t.Errorf("%s: no samples", route)
	}
	for _, s := range p.Sample {
		if s.Label["transaction.id"][0] != txID || s.Label["trace.id"][0] != traceID || s.Label["route"][0] != route {
			t.Fatalf("%s: sample labelled %v", route, s.Label)
		}
	}
	if len(p.Comments) == 0 || !strings.Contains(p.Comments[len(p.Comments)-1], "transaction.id="+txID) {
		t.Errorf("%s: comments %q", route, p.Comments)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
