package query

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hotpath-apm/hotpath/collector"
)

// fakeProfiles is a ProfileReader over profiles the test gives, recording the queries it is asked.
type fakeProfiles struct {
	mu       sync.Mutex
	profiles []collector.Profile // with their parts' data, newest first
	queries  []collector.ProfileQuery
}

func (f *fakeProfiles) Profiles(ctx context.Context, q collector.ProfileQuery) (collector.ProfilePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	var page collector.ProfilePage
	for _, p := range f.profiles {
		if (q.Service != "" && p.Metadata.Service.Name != q.Service) || (q.TransactionID != "" && (p.Transaction == nil || p.Transaction.ID != q.TransactionID)) ||
			(!q.From.IsZero() && p.Timestamp.Before(q.From)) || (!q.To.IsZero() && !p.Timestamp.Before(q.To)) {
			continue
		}
		page.Profiles = append(page.Profiles, stripped(p))
	}
	return page, nil
}

func stripped(p collector.Profile) collector.Profile {
	parts := make([]collector.ProfilePart, len(p.Parts))
	for i, part := range p.Parts {
		parts[i] = collector.ProfilePart{Kind: part.Kind, Size: int64(len(part.Data))}
	}
	p.Parts = parts
	return p
}

func (f *fakeProfiles) Profile(ctx context.Context, id string) (collector.Profile, bool, error) {
	for _, p := range f.profiles {
		if p.ID == id {
			return stripped(p), true, nil
		}
	}
	return collector.Profile{}, false, nil
}

func (f *fakeProfiles) ProfilePart(ctx context.Context, id, kind string) ([]byte, bool, error) {
	for _, p := range f.profiles {
		if p.ID == id {
			if part := p.Part(kind); part != nil {
				return part.Data, true, nil
			}
		}
	}
	return nil, false, nil
}

// stack is a sample: its functions from the root to the leaf, its count, and its transaction.id label.
type stack struct {
	funcs []string
	n     int64
	tx    string
}

// cpuPprof is a CPU profile (runtime/pprof's sample types, 10 ms per sample) of the given stacks, gzipped.
func cpuPprof(t testing.TB, stacks ...stack) []byte {
	t.Helper()
	return pprofOf(t, []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		&profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, 10_000_000, func(n int64) []int64 { return []int64{n, n * 10_000_000} }, stacks)
}

// goroutinePprof is a goroutine profile of the given stacks, gzipped.
func goroutinePprof(t testing.TB, stacks ...stack) []byte {
	t.Helper()
	return pprofOf(t, []*profile.ValueType{{Type: "goroutine", Unit: "count"}},
		&profile.ValueType{Type: "goroutine", Unit: "count"}, 1, func(n int64) []int64 { return []int64{n} }, stacks)
}

func pprofOf(t testing.TB, types []*profile.ValueType, period *profile.ValueType, every int64, values func(int64) []int64, stacks []stack) []byte {
	p := &profile.Profile{SampleType: types, PeriodType: period, Period: every, TimeNanos: now.UnixNano()}
	fns := map[string]*profile.Function{}
	locs := map[string]*profile.Location{}
	for _, s := range stacks {
		sample := &profile.Sample{Value: values(s.n)}
		if s.tx != "" {
			sample.Label = map[string][]string{"transaction.id": {s.tx}, "route": {"GET /x"}}
		}
		for i := len(s.funcs) - 1; i >= 0; i-- { // leaf first
			name := s.funcs[i]
			if locs[name] == nil {
				fn := &profile.Function{ID: uint64(len(fns) + 1), Name: name, Filename: "/src/" + strings.Split(name, ".")[0] + ".go"}
				fns[name] = fn
				p.Function = append(p.Function, fn)
				loc := &profile.Location{ID: uint64(len(locs) + 1), Line: []profile.Line{{Function: fn, Line: 10}}}
				locs[name] = loc
				p.Location = append(p.Location, loc)
			}
			sample.Location = append(sample.Location, locs[name])
		}
		p.Sample = append(p.Sample, sample)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	txA      = "00000000000000aa"
	txB      = "00000000000000bb"
	traceA   = "0000000000000000000000000000000a"
	captureA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	periodic = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// profileFixture is two profiles: a slow-request capture of transaction A (its cpu, goroutine and
// trace parts), and the Elastic agent's periodic CPU profile, whose samples carry transaction labels.
func profileFixture(t testing.TB) (*fakeProfiles, []byte) {
	trace := []byte("go 1.26 trace\x00\x00\x00 the events")
	var zt bytes.Buffer
	zw := gzip.NewWriter(&zt)
	_, _ = zw.Write(trace)
	_ = zw.Close()
	meta := collector.Event{Service: collector.Service{Name: "search", Version: "1.0"}, Agent: collector.Agent{Name: "go", Version: "2.7.2"},
		Host: collector.Host{Hostname: "web-1"}}
	capture := collector.Profile{
		ID: captureA, Trigger: collector.ProfileTriggerSlowRequest, Timestamp: now.Add(-time.Minute), Duration: 800 * time.Millisecond,
		Received: now.Add(-time.Minute + time.Second), Metadata: meta, TraceID: traceA,
		Transaction:        &collector.ProfileTransaction{ID: txA, Name: "GET /burn", Sampled: true, Ended: true, Start: now.Add(-time.Minute - 100*time.Millisecond), Threshold: 100 * time.Millisecond},
		CPU:                &collector.ProfileCPU{Start: now.Add(-time.Minute - 100*time.Millisecond), Duration: 900 * time.Millisecond, Samples: 30},
		GoroutineSnapshots: 3,
		Parts: []collector.ProfilePart{
			{Kind: "cpu", Data: cpuPprof(t, stack{[]string{"main.main", "main.handler", "main.burn"}, 28, txA}, stack{[]string{"main.main", "main.handler"}, 2, txA})},
			{Kind: "goroutine", Data: goroutinePprof(t, stack{[]string{"main.handler", "main.wait", "runtime.chanrecv1", "runtime.gopark"}, 3, txA})},
			{Kind: "trace", Data: zt.Bytes()},
		},
	}
	per := collector.Profile{
		ID: periodic, Trigger: collector.ProfilePeriodic, Timestamp: now.Add(-2 * time.Minute), Duration: 5 * time.Minute, Received: now,
		Metadata: meta,
		Parts: []collector.ProfilePart{{Kind: "cpu", Data: cpuPprof(t,
			stack{[]string{"main.main", "main.handler", "main.parse"}, 5, txB},
			stack{[]string{"main.main", "main.handler", "main.burn"}, 40, txA},
			stack{[]string{"runtime.gcBgMarkWorker"}, 2, ""})}},
	}
	return &fakeProfiles{profiles: []collector.Profile{capture, per}}, trace
}

// decodeInto serves a request and decodes its JSON answer into v.
func decodeInto(t testing.TB, h http.Handler, target string, v any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("%s: %v: %s", target, err, rec.Body)
	}
	return rec.Code
}

func TestProfilesList(t *testing.T) {
	pr, _ := profileFixture(t)
	a := newTestAPI(t, Config{Store: &fakeStore{}, Profiles: pr})
	var page struct {
		From     *time.Time
		Profiles []profileJSON
		Next     *string
	}
	if code := decodeInto(t, a, "/api/v1/profiles?service=search", &page); code != 200 || len(page.Profiles) != 2 || page.From == nil {
		t.Fatalf("%d %+v", code, page)
	}
	c := page.Profiles[0]
	if c.ID != captureA || c.Trigger != "slow_request" || c.Service.Name != "search" || c.Host != "web-1" || c.Transaction == nil ||
		c.Transaction.ThresholdUS != 100_000 || c.CPU.Samples != 30 || c.GoroutineSnapshots != 3 || len(c.Parts) != 3 ||
		c.Parts[2].URL != "/api/v1/profiles/"+captureA+"/trace" || c.DurationUS != 800_000 || c.Errors == nil {
		t.Errorf("capture %+v", c)
	}
	q := pr.queries[0]
	if q.Service != "search" || !q.From.Equal(now.Add(-time.Hour)) || !q.To.Equal(now) || q.Limit != 50 {
		t.Errorf("query %+v", q)
	}
	// By transaction: every time, unless a range is given.
	page.From = nil
	if code := decodeInto(t, a, "/api/v1/profiles?transaction_id="+txA, &page); code != 200 || len(page.Profiles) != 1 || page.From != nil {
		t.Errorf("by transaction: %d %+v", code, page)
	}
	if q := pr.queries[1]; q.TransactionID != txA || !q.From.IsZero() || !q.To.IsZero() {
		t.Errorf("query %+v", q)
	}
	decodeInto(t, a, "/api/v1/profiles?transaction_id="+txA+"&from=now-15m", &page)
	if q := pr.queries[2]; !q.From.Equal(now.Add(-15 * time.Minute)) {
		t.Errorf("query %+v", q)
	}
	var e errorJSON
	if code := decodeInto(t, a, "/api/v1/profiles?servce=search", &e); code != 400 || e.Parameter != "servce" {
		t.Errorf("misspelt parameter: %d %+v", code, e)
	}
	// Without profiles.
	if code := decodeInto(t, newTestAPI(t, Config{Store: &fakeStore{}}), "/api/v1/profiles", &e); code != 404 || !strings.Contains(e.Error, "keeps no profiles") {
		t.Errorf("no ProfileReader: %d %+v", code, e)
	}
}

func TestProfileByID(t *testing.T) {
	pr, _ := profileFixture(t)
	a := newTestAPI(t, Config{Store: &fakeStore{}, Profiles: pr})
	var p profileJSON
	if code := decodeInto(t, a, "/api/v1/profiles/"+periodic, &p); code != 200 || p.Trigger != "periodic" || p.Transaction != nil || len(p.Parts) != 1 {
		t.Errorf("%d %+v", code, p)
	}
	var e errorJSON
	if code := decodeInto(t, a, "/api/v1/profiles/"+strings.Repeat("c", 32), &e); code != 404 || e.Error != "no profile "+strings.Repeat("c", 32) {
		t.Errorf("unknown: %d %+v", code, e)
	}
	if code := decodeInto(t, a, "/api/v1/profiles/XYZ", &e); code != 400 || e.Parameter != "id" {
		t.Errorf("bad id: %d %+v", code, e)
	}
}

// findNode follows a path of function names from the root.
func findNode(root *flameNode, path ...string) *flameNode {
	n := root
	for _, name := range path {
		var next *flameNode
		for _, c := range n.Children {
			if c.Name == name {
				next = c
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func TestFlameGraph(t *testing.T) {
	pr, _ := profileFixture(t)
	a := newTestAPI(t, Config{Store: &fakeStore{}, Profiles: pr})
	var g flameGraph
	if code := decodeInto(t, a, "/api/v1/profiles/"+periodic+"/flamegraph", &g); code != 200 {
		t.Fatalf("%d", code)
	}
	// 47 samples of 10 ms: main.main → main.handler → {burn 40, parse 5}, and the GC worker's 2.
	if g.Part != "cpu" || g.SampleType != "cpu" || g.Unit != "nanoseconds" || g.Samples != 47 || g.Total != 470_000_000 || g.Root.Total != g.Total || g.Pruned != 0 {
		t.Errorf("graph %+v", g)
	}
	handler := findNode(g.Root, "main.main", "main.handler")
	burn := findNode(g.Root, "main.main", "main.handler", "main.burn")
	if handler == nil || burn == nil || handler.Total != 450_000_000 || handler.Self != 0 || burn.Self != 400_000_000 ||
		handler.Children[0].Name != "main.burn" || burn.File != "/src/main.go" {
		t.Errorf("tree: handler %+v, burn %+v", handler, burn)
	}
	if f := g.Functions[0]; f.Name != "main.burn" || f.Self != 400_000_000 || f.Total != 400_000_000 {
		t.Errorf("top function %+v", f)
	}
	if c := g.CPU; c == nil || c.Samples != 47 || c.SamplingPeriodUS != 10_000 || c.CPUUS != 470_000 || !c.LowSampleCount ||
		c.MinSamples != MinCPUSamples || !strings.Contains(c.Note, "47 CPU samples (470 ms of CPU, one sample per 10 ms of CPU): few") {
		t.Errorf("cpu figures %+v", g.CPU)
	}
	// One transaction's samples only.
	g = flameGraph{}
	decodeInto(t, a, "/api/v1/profiles/"+periodic+"/flamegraph?transaction_id="+txB+"&sample_type=samples", &g)
	if g.TransactionID != txB || g.Samples != 5 || g.Total != 5 || g.SampleType != "samples" || findNode(g.Root, "main.main", "main.handler", "main.parse") == nil ||
		findNode(g.Root, "main.main", "main.handler", "main.burn") != nil || g.CPU.Samples != 5 {
		t.Errorf("transaction B: %+v", g)
	}
	// The goroutine profile: where the request waited.
	g = flameGraph{}
	decodeInto(t, a, "/api/v1/profiles/"+captureA+"/flamegraph?part=goroutine", &g)
	leaf := findNode(g.Root, "main.handler", "main.wait", "runtime.chanrecv1", "runtime.gopark")
	if g.Unit != "count" || g.Samples != 3 || leaf == nil || leaf.Self != 3 || g.CPU != nil {
		t.Errorf("goroutine: %+v", g)
	}
	var e errorJSON
	for target, want := range map[string]string{
		"/api/v1/profiles/" + captureA + "/flamegraph?part=trace":            "400 part",
		"/api/v1/profiles/" + captureA + "/flamegraph?part=heap":             "404 ",
		"/api/v1/profiles/" + captureA + "/flamegraph?sample_type=bytes":     "400 sample_type",
		"/api/v1/profiles/" + strings.Repeat("c", 32) + "/flamegraph":        "404 ",
		"/api/v1/profiles/" + captureA + "/flamegraph?part=cpu&part=cpu":     "400 part",
		"/api/v1/profiles/" + captureA + "/flamegraph?transaction=" + txA:    "400 transaction",
		"/api/v1/profiles/" + captureA + "/flamegraph?part=cpu&sample_type=": "200 ",
	} {
		e = errorJSON{}
		code := decodeInto(t, a, target, &e)
		if got := fmt.Sprintf("%d %s", code, e.Parameter); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %d %+v, want %s", target, code, e, want)
		}
	}
}

// TestFlamePruning: frames under a thousandth of the total are left out, and counted in pruned.
func TestFlamePruning(t *testing.T) {
	data := cpuPprof(t, stack{[]string{"main.main", "main.big"}, 5000, ""}, stack{[]string{"main.main", "main.tiny"}, 4, ""},
		stack{[]string{"main.main", "main.edge"}, 6, ""})
	p, err := parsePprof(data)
	if err != nil {
		t.Fatal(err)
	}
	g := buildFlame(p, 0)
	names := []string{}
	for _, c := range findNode(g.Root, "main.main").Children {
		names = append(names, c.Name)
	}
	// The total is 5010 samples: a thousandth is 5.01, so 6 stays and 4 goes.
	if !slices.Equal(names, []string{"main.big", "main.edge"}) || g.Pruned != 4 || g.Total != 5010 {
		t.Errorf("children %q, pruned %d of %d", names, g.Pruned, g.Total)
	}
}

// TestLowSampleCount: the boundary of MinCPUSamples.
func TestLowSampleCount(t *testing.T) {
	for _, tc := range []struct {
		n   int64
		low bool
	}{{0, true}, {1, true}, {MinCPUSamples - 1, true}, {MinCPUSamples, false}, {1000, false}} {
		p, _ := parsePprof(cpuPprof(t, stack{[]string{"main.f"}, tc.n, ""}))
		c := cpuOf(p)
		if c.LowSampleCount != tc.low || c.Samples != tc.n || c.Note == "" {
			t.Errorf("%d samples: %+v", tc.n, c)
		}
	}
	p, _ := parsePprof(goroutinePprof(t, stack{[]string{"main.f"}, 3, ""}))
	if cpuOf(p) != nil {
		t.Error("a goroutine profile has CPU figures")
	}
}

func TestProfileDownload(t *testing.T) {
	pr, trace := profileFixture(t)
	a := newTestAPI(t, Config{Store: &fakeStore{}, Profiles: pr})
	get := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}
	rec := get(http.MethodGet, "/api/v1/profiles/"+captureA+"/cpu")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/octet-stream" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="search-cpu-`+captureA+`.pb.gz"` ||
		!bytes.Equal(rec.Body.Bytes(), pr.profiles[0].Parts[0].Data) {
		t.Errorf("cpu: %d %v", rec.Code, rec.Header())
	}
	rec = get(http.MethodGet, "/api/v1/profiles/"+captureA+"/trace")
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), trace) || !strings.HasSuffix(rec.Header().Get("Content-Disposition"), `.trace"`) {
		t.Errorf("trace: %d %q", rec.Code, rec.Body.Bytes())
	}
	// One transaction's samples of the periodic profile, as a pprof file.
	rec = get(http.MethodGet, "/api/v1/profiles/"+periodic+"/cpu?transaction_id="+txA)
	p, err := profile.ParseData(rec.Body.Bytes())
	if rec.Code != 200 || err != nil || len(p.Sample) != 1 || p.Sample[0].Value[0] != 40 {
		t.Errorf("filtered: %d %v", rec.Code, err)
	}
	if rec := get(http.MethodHead, "/api/v1/profiles/"+captureA+"/goroutine"); rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d %d", rec.Code, rec.Body.Len())
	}
	for target, code := range map[string]int{
		"/api/v1/profiles/" + captureA + "/heap":                        404,
		"/api/v1/profiles/" + captureA + "/trace?transaction_id=" + txA: 400,
		"/api/v1/profiles/" + periodic + "/cpu?foo=1":                   400,
		"/api/v1/profiles/" + strings.Repeat("d", 32) + "/cpu":          404,
	} {
		if rec := get(http.MethodGet, target); rec.Code != code || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s, want %d", target, rec.Code, rec.Body, code)
		}
	}
	if rec := get(http.MethodPost, "/api/v1/profiles/"+captureA+"/cpu"); rec.Code != 405 {
		t.Errorf("POST: %d", rec.Code)
	}
}

// TestTransactionProfile: a transaction's profile, by its label, as a capture, or from a periodic
// profile's labelled samples; and honest 404s.
func TestTransactionProfile(t *testing.T) {
	pr, _ := profileFixture(t)
	txEvent := func(id, profileID string, ts time.Time) collector.Event {
		e := collector.Event{Kind: collector.KindTransaction, Timestamp: ts, TraceID: traceA, Service: collector.Service{Name: "search"},
			Event: collector.EventInfo{Duration: 500 * time.Millisecond}, Transaction: &collector.Transaction{ID: id, Name: "GET /burn"}}
		if profileID != "" {
			e.Labels = []collector.Label{{Key: "profile_id", Value: profileID}}
		}
		return e
	}
	store := &fakeStore{traces: map[string][]collector.Event{
		traceA: {txEvent(txA, captureA, now.Add(-time.Minute)), txEvent(txB, "", now.Add(-time.Minute)), txEvent("00000000000000cc", strings.Repeat("e", 32), now)},
	}}
	a := newTestAPI(t, Config{Store: store, Profiles: pr})
	type answer struct {
		ProfileID string `json:"profile_id"`
		FoundBy   string `json:"found_by"`
		CPU       *flameGraph
		Goroutine *flameGraph
		Error     string
	}
	for _, tc := range []struct {
		target           string
		code             int
		profile, foundBy string
		cpuSamples       int64
	}{
		{"/api/v1/transactions/" + txA + "/profile?trace_id=" + traceA, 200, captureA, "label", 30},
		{"/api/v1/transactions/" + txA + "/profile", 200, captureA, "capture", 30},
		{"/api/v1/transactions/" + txB + "/profile?trace_id=" + traceA, 200, periodic, "sample_labels", 5},
		{"/api/v1/transactions/" + txB + "/profile", 404, "", "", 0},
		{"/api/v1/transactions/00000000000000cc/profile?trace_id=" + traceA, 404, "", "", 0},
		{"/api/v1/transactions/00000000000000dd/profile?trace_id=" + traceA, 404, "", "", 0},
		{"/api/v1/transactions/" + txA + "/profile?trace_id=" + strings.Repeat("!", 3), 400, "", "", 0},
	} {
		var ans answer
		code := decodeInto(t, a, tc.target, &ans)
		if code != tc.code || ans.ProfileID != tc.profile || ans.FoundBy != tc.foundBy {
			t.Errorf("%s: %d %+v", tc.target, code, ans)
			continue
		}
		if code == 200 && (ans.CPU == nil || ans.CPU.CPU.Samples != tc.cpuSamples || !ans.CPU.CPU.LowSampleCount) {
			t.Errorf("%s: cpu %+v", tc.target, ans.CPU)
		}
		if code == 200 && (tc.profile == captureA) != (ans.Goroutine != nil) {
			t.Errorf("%s: goroutine %+v", tc.target, ans.Goroutine)
		}
		if strings.Contains(tc.target, "00cc") && !strings.Contains(ans.Error, "names profile eeee") {
			t.Errorf("a label naming a missing profile: %q", ans.Error)
		}
	}
}

// TestGunzipLimit: the decompression bound of stored parts, at its boundary.
func TestGunzipLimit(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bytes.Repeat([]byte("x"), 1000))
	_ = zw.Close()
	if out, err := gunzip(buf.Bytes(), 1000, "part"); err != nil || len(out) != 1000 {
		t.Errorf("at the limit: %d bytes, %v", len(out), err)
	}
	if _, err := gunzip(buf.Bytes(), 999, "part"); err == nil || !strings.Contains(err.Error(), "larger than 999 bytes") {
		t.Errorf("past the limit: %v", err)
	}
	if _, err := gunzip([]byte("not gzip"), 1000, "part"); err == nil {
		t.Error("not gzip: no error")
	}
}
