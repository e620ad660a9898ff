package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/collector"
)

// profileSink is a ProfileSink test double: it keeps what it is given, or answers err; with block set,
// it signals entered and waits for block to be closed.
type profileSink struct {
	mu      sync.Mutex
	got     []*collector.Profile
	err     error
	entered chan struct{}
	block   chan struct{}
}

func (s *profileSink) StoreProfile(ctx context.Context, p *collector.Profile) error {
	if s.block != nil {
		s.entered <- struct{}{}
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.got = append(s.got, p)
	return nil
}

func (s *profileSink) profiles() []*collector.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*collector.Profile(nil), s.got...)
}

// newProfileAPI returns the profile endpoint over a profileSink, with the API's registry.
func newProfileAPI(t testing.TB, cfg Config, pcfg ProfileConfig) (http.Handler, *profileSink, *API) {
	t.Helper()
	api, _, _ := newTestAPI(t, cfg)
	sink := &profileSink{}
	if pcfg.Sink == nil {
		pcfg.Sink = sink
	}
	h, err := api.ProfileHandler(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, sink, api
}

// upPart is one part of a test upload.
type upPart struct {
	name, filename, ctype, encoding string
	extra                           map[string]string
	data                            []byte
}

const ctPprof = `application/x-protobuf; messageType="perftools.profiles.Profile"`

func metaPart(data string) upPart {
	return upPart{name: "metadata", ctype: "application/json", data: []byte(data)}
}

func capturePart(data string) upPart {
	return upPart{name: "capture", ctype: "application/json", data: []byte(data)}
}

func profPart(kind string, data []byte) upPart {
	fn := ""
	if kind != "" {
		fn = kind + ".pprof"
	}
	return upPart{name: "profile", filename: fn, ctype: ctPprof, data: data}
}

func tracePart(data []byte) upPart {
	return upPart{name: "trace", filename: "trace.out", ctype: "application/x-go-trace", encoding: "gzip", data: data}
}

// multipartBody encodes parts as an upload body, each with exactly the headers given.
func multipartBody(t testing.TB, parts ...upPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			cd += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", cd)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		if p.encoding != "" {
			h.Set("Content-Encoding", p.encoding)
		}
		for k, v := range p.extra {
			h.Set(k, v)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func postUpload(h http.Handler, body []byte, ctype string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/intake/v2/profile", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return serve(h, req)
}

// The parts of a hotpath capture: the metadata as the profiling package sends it, the capture of its
// golden file (profiling/testdata/upload.golden), runtime/pprof profiles and a trace.
const (
	testMetadata = `{"service":{"name":"search","version":"1.0.0","environment":"test","agent":{"name":"go","version":"2.7.2"},` +
		`"language":{"name":"go","version":"go1.26"},"runtime":{"name":"gc","version":"go1.26"}},` +
		`"process":{"pid":4242,"ppid":1,"title":"search"},"system":{"detected_hostname":"web-1","architecture":"amd64","platform":"linux"}}`
	testCapture = `{"id":"0123456789abcdef0123456789abcdef","trigger":"slow_request","timestamp":1767323045678901,"duration":1500,` +
		`"transaction":{"id":"0011223344556677","name":"GET /search","sampled":true,"timestamp":1767323045178901,"threshold":500,"ended":true},` +
		`"trace":{"id":"fedcba9876543210fedcba9876543210"},"cpu":{"timestamp":1767323045178901,"duration":2000,"samples":42},` +
		`"goroutine":{"snapshots":3},"parts":["cpu","goroutine","heap","trace"],"errors":["an error"]}`
)

func goroutinePprof(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeTrace is a gzipped "execution trace": the header go tool trace starts with, then bytes.
func fakeTrace(t testing.TB, n int) []byte {
	t.Helper()
	return gzipped(t, append([]byte("go 1.26 trace\x00\x00\x00"), bytes.Repeat([]byte{7}, n)...))
}

// captureParts are the parts of a full hotpath capture upload.
func captureParts(t testing.TB) []upPart {
	return []upPart{
		metaPart(testMetadata), capturePart(testCapture),
		profPart("cpu", readFixture(t, "profile/cpu.pprof")),
		profPart("goroutine", goroutinePprof(t)),
		profPart("heap", readFixture(t, "profile/heap.pprof")),
		tracePart(fakeTrace(t, 100)),
	}
}

// TestProfileCapture: a hotpath capture is accepted and handed to the sink as it was described.
func TestProfileCapture(t *testing.T) {
	h, sink, _ := newProfileAPI(t, Config{}, ProfileConfig{})
	parts := captureParts(t)
	body, ct := multipartBody(t, parts...)
	w := postUpload(h, body, ct, "Accept", "application/json")
	if w.Code != http.StatusAccepted || strings.Join(strings.Fields(w.Body.String()), "") != `{"accepted":4}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	got := sink.profiles()
	if len(got) != 1 {
		t.Fatalf("%d profiles stored", len(got))
	}
	p := got[0]
	us := func(v int64) time.Time { return time.UnixMicro(v).UTC() }
	if p.ID != "0123456789abcdef0123456789abcdef" || p.Trigger != "slow_request" || !p.Timestamp.Equal(us(1767323045678901)) ||
		p.Duration != 1500*time.Millisecond || p.TraceID != "fedcba9876543210fedcba9876543210" || p.Resource != nil ||
		p.GoroutineSnapshots != 3 || len(p.Errors) != 1 || p.Errors[0] != "an error" || p.Received.IsZero() {
		t.Errorf("profile %+v", p)
	}
	want := collector.ProfileTransaction{ID: "0011223344556677", Name: "GET /search", Sampled: true, Ended: true,
		Start: us(1767323045178901), Threshold: 500 * time.Millisecond}
	if p.Transaction == nil || *p.Transaction != want {
		t.Errorf("transaction %+v, want %+v", p.Transaction, want)
	}
	if c := p.CPU; c == nil || !c.Start.Equal(us(1767323045178901)) || c.Duration != 2*time.Second || c.Samples != 42 {
		t.Errorf("cpu %+v", p.CPU)
	}
	m := p.Metadata
	if m.Service.Name != "search" || m.Service.Version != "1.0.0" || m.Agent.Name != "go" || m.Host.Hostname != "web-1" ||
		m.Process.PID != 4242 || len(m.Host.IP) != 1 || m.Host.IP[0].String() != "192.0.2.1" {
		t.Errorf("metadata %+v", m)
	}
	for i, kind := range []string{"cpu", "goroutine", "heap", "trace"} {
		part := p.Parts[i]
		if part.Kind != kind || !bytes.Equal(part.Data, parts[i+2].data) || part.Size != int64(len(part.Data)) {
			t.Errorf("part %d: %s of %d bytes, want %s as sent", i, part.Kind, part.Size, kind)
		}
	}
}

// TestProfileLaterProfiler: an upload from a later profiler, whose capture part has fields and a
// trigger this collector does not know, is accepted (202, not the 400 an older collector answered): the
// fields ignored, the trigger kept as sent, the rest as for any capture.
func TestProfileLaterProfiler(t *testing.T) {
	h, sink, _ := newProfileAPI(t, Config{}, ProfileConfig{})
	var m map[string]any
	if err := json.Unmarshal([]byte(testCapture), &m); err != nil {
		t.Fatal(err)
	}
	m["trigger"] = "mutex_contention"
	m["contention"] = map[string]any{"wait_ms": 900, "mutex": "cache.mu"}
	m["priority"] = "high"
	m["parts"] = []string{"goroutine"}
	delete(m, "cpu")
	later, _ := json.Marshal(m)
	body, ct := multipartBody(t, metaPart(testMetadata), capturePart(string(later)), profPart("goroutine", goroutinePprof(t)))
	w := postUpload(h, body, ct, "Accept", "application/json")
	if w.Code != http.StatusAccepted {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	got := sink.profiles()
	if len(got) != 1 || got[0].Trigger != "mutex_contention" || got[0].Transaction == nil || got[0].TraceID == "" ||
		len(got[0].Parts) != 1 || got[0].Parts[0].Kind != "goroutine" || got[0].GoroutineSnapshots != 3 {
		t.Fatalf("stored %+v", got)
	}
}

// TestProfileElasticAgent: the Elastic Go agent's own transport sends its periodic profiles (the
// fixtures APM Server was tested with); each is stored with the kind of its sample types.
func TestProfileElasticAgent(t *testing.T) {
	h, sink, _ := newProfileAPI(t, Config{SecretToken: "tok"}, ProfileConfig{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := agenttest.NewTransport(t, srv.URL, agenttest.Options{SecretToken: "tok"})
	for _, kind := range []string{"cpu", "heap"} {
		data := readFixture(t, "profile/"+kind+".pprof")
		if err := tr.SendProfile(context.Background(), bytes.NewReader(readFixture(t, "profile/metadata.json")), bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		got := sink.profiles()
		p := got[len(got)-1]
		want, _ := profile.ParseData(data)
		if p.Trigger != collector.ProfilePeriodic || len(p.ID) != 32 || len(p.Parts) != 1 || p.Parts[0].Kind != kind ||
			!bytes.Equal(p.Parts[0].Data, data) || p.Metadata.Service.Name != "apm-server" || p.Transaction != nil ||
			p.Timestamp.UnixNano() != want.TimeNanos || p.Duration != time.Duration(want.DurationNanos) {
			t.Errorf("%s: %+v", kind, p)
		}
	}
	// Two uploads, two ids.
	if got := sink.profiles(); got[0].ID == got[1].ID {
		t.Errorf("both uploads got id %s", got[0].ID)
	}
	// Without the token: 401, as the events endpoint.
	tr2 := agenttest.NewTransport(t, srv.URL, agenttest.Options{})
	err := tr2.SendProfile(context.Background(), strings.NewReader(testMetadata), bytes.NewReader(readFixture(t, "profile/cpu.pprof")))
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the token: %v", err)
	}
}

// TestProfileUncompressedPart: a profile part sent without gzip is stored gzipped.
func TestProfileUncompressedPart(t *testing.T) {
	h, sink, _ := newProfileAPI(t, Config{}, ProfileConfig{})
	p, _ := profile.ParseData(readFixture(t, "profile/cpu.pprof"))
	var raw bytes.Buffer
	if err := p.WriteUncompressed(&raw); err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody(t, metaPart(testMetadata), profPart("", raw.Bytes()))
	if w := postUpload(h, body, ct); w.Code != http.StatusAccepted {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	stored := sink.profiles()[0].Parts[0]
	back, err := profile.ParseData(stored.Data)
	if !isGzip(stored.Data) || err != nil || len(back.Sample) != len(p.Sample) || stored.Kind != "cpu" {
		t.Errorf("stored %s part: gzip %v, %v", stored.Kind, isGzip(stored.Data), err)
	}
}

func TestProfileAuthAndMethod(t *testing.T) {
	h, sink, _ := newProfileAPI(t, Config{SecretToken: "tok"}, ProfileConfig{})
	body, ct := multipartBody(t, metaPart(testMetadata))
	for _, auth := range []string{"", "Bearer nope", "ApiKey eA=="} {
		if w := postUpload(h, body, ct, "Authorization", auth); w.Code != http.StatusUnauthorized || w.Header().Get("Connection") != "Close" {
			t.Errorf("auth %q: %d", auth, w.Code)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/intake/v2/profile", nil)
	req.Header.Set("Authorization", "Bearer tok")
	if w := serve(h, req); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" ||
		!strings.Contains(w.Body.String(), "only POST requests are supported") {
		t.Errorf("GET: %d %s", w.Code, w.Body)
	}
	// An Elastic agent's upload of metadata alone holds no profile: accepted, 0.
	if w := postUpload(h, body, ct, "Authorization", "Bearer tok", "Accept", "*/*"); w.Code != http.StatusAccepted ||
		!strings.Contains(w.Body.String(), `"accepted": 0`) || len(sink.profiles()) != 1 {
		t.Errorf("metadata only: %d %s", w.Code, w.Body)
	}
}

// TestProfileRefusals: each way an upload can break the wire format is a 400 saying what is wrong.
func TestProfileRefusals(t *testing.T) {
	cpu := readFixture(t, "profile/cpu.pprof")
	capture := func(f func(map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(testCapture), &m); err != nil {
			t.Fatal(err)
		}
		m["parts"] = []string{"cpu"}
		delete(m, "goroutine")
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	same := func(map[string]any) {}
	extra := func(p upPart, k, v string) upPart {
		p.extra = map[string]string{k: v}
		return p
	}
	for _, tc := range []struct {
		name  string
		parts []upPart
		want  string
	}{
		{"no metadata", []upPart{profPart("", cpu)}, `the first part is "profile"`},
		{"empty", nil, "no metadata part"},
		{"metadata not JSON", []upPart{{name: "metadata", ctype: "text/plain", data: []byte(testMetadata)}}, "metadata part: Content-Type"},
		{"metadata invalid", []upPart{metaPart(`{"service":{"name":"x"}}`)}, "invalid metadata: validation error"},
		{"metadata broken", []upPart{metaPart(`{"service":`)}, "invalid metadata: decode error"},
		{"metadata twice", []upPart{metaPart(testMetadata), metaPart(testMetadata)}, "a second metadata part"},
		{"capture third", []upPart{metaPart(testMetadata), profPart("", cpu), capturePart(capture(same))}, "the capture part must be the second"},
		{"capture trailing data", []upPart{metaPart(testMetadata), capturePart(capture(same) + "{}"), profPart("cpu", cpu)}, "data after its object"},
		{"capture parts differ", []upPart{metaPart(testMetadata), capturePart(capture(same))}, `capture: parts ["cpu"], but the upload has []`},
		{"capture bad id", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { m["id"] = "XYZ" })), profPart("cpu", cpu)}, `capture: id "XYZ"`},
		{"capture no cpu description", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { delete(m, "cpu") })), profPart("cpu", cpu)}, "cpu and goroutine descriptions"},
		{"capture no trigger", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { delete(m, "trigger") })), profPart("cpu", cpu)}, `capture: no trigger`},
		{"slow request without trace", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { delete(m, "trace") })), profPart("cpu", cpu)}, "a slow_request needs"},
		{"resource without resource", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) {
			m["trigger"] = "heap"
			delete(m, "transaction")
			delete(m, "trace")
		})), profPart("cpu", cpu)}, "a heap trigger needs a resource"},
		{"profile not pprof", []upPart{metaPart(testMetadata), profPart("", []byte("hello"))}, "profile part 1 is not a pprof profile"},
		{"profile corrupt gzip", []upPart{metaPart(testMetadata), profPart("", cpu[:len(cpu)/2])}, "profile part 1: decompressing"},
		{"profile media type", []upPart{metaPart(testMetadata), {name: "profile", ctype: "application/x-protobuf", data: cpu}}, `messageType="perftools.profiles.Profile"`},
		{"profile twice", []upPart{metaPart(testMetadata), profPart("", cpu), profPart("", cpu)}, "a second cpu profile"},
		{"capture profile filename", []upPart{metaPart(testMetadata), capturePart(capture(same)), profPart("mutex", cpu)}, `filename "mutex.pprof"`},
		{"capture profile without filename", []upPart{metaPart(testMetadata), capturePart(capture(same)), profPart("", cpu)}, `filename ""`},
		{"trace without capture", []upPart{metaPart(testMetadata), tracePart(fakeTrace(t, 10))}, "without a capture part"},
		{"trace not gzip", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { m["parts"] = []string{"cpu", "trace"} })),
			profPart("cpu", cpu), tracePart([]byte("go 1.26 trace"))}, "trace part: gzip: invalid header"},
		{"trace not a trace", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { m["parts"] = []string{"cpu", "trace"} })),
			profPart("cpu", cpu), tracePart(gzipped(t, []byte("PK\x03\x04 a zip")))}, "not a Go execution trace"},
		{"trace not gzip encoded", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { m["parts"] = []string{"cpu", "trace"} })),
			profPart("cpu", cpu), {name: "trace", filename: "trace.out", ctype: "application/x-go-trace", data: fakeTrace(t, 1)}}, "Content-Encoding gzip"},
		{"part after trace", []upPart{metaPart(testMetadata), capturePart(capture(func(m map[string]any) { m["parts"] = []string{"trace", "cpu"} })),
			tracePart(fakeTrace(t, 1)), profPart("cpu", cpu)}, "follows the trace part"},
		{"unknown part", []upPart{metaPart(testMetadata), {name: "notes", ctype: "text/plain"}}, `unknown part "notes"`},
		{"extra header", []upPart{extra(metaPart(testMetadata), "X-Debug", "1")}, "unexpected header X-Debug"},
		{"Content-Encoding on a profile", []upPart{metaPart(testMetadata), extra(profPart("", cpu), "Content-Encoding", "gzip")}, "unexpected header Content-Encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, sink, _ := newProfileAPI(t, Config{}, ProfileConfig{})
			body, ct := multipartBody(t, tc.parts...)
			w := postUpload(h, body, ct, "Accept", "application/json")
			var e struct{ Error string }
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != http.StatusBadRequest || !strings.Contains(e.Error, tc.want) || w.Header().Get("Connection") != "Close" {
				t.Errorf("%d %s, want 400 with %q", w.Code, w.Body, tc.want)
			}
			if n := len(sink.profiles()); n != 0 {
				t.Errorf("%d profiles stored", n)
			}
		})
	}
}

// TestProfileRequestRefusals: what is wrong with the request itself.
func TestProfileRequestRefusals(t *testing.T) {
	h, _, _ := newProfileAPI(t, Config{}, ProfileConfig{})
	body, ct := multipartBody(t, metaPart(testMetadata))
	for _, tc := range []struct {
		name, ctype, want string
		hdr               []string
		body              []byte
	}{
		{"not multipart", "application/json", `invalid content type "application/json"`, nil, body},
		{"no boundary", "multipart/form-data", "with a boundary", nil, body},
		{"compressed", ct, `unsupported Content-Encoding "gzip"`, []string{"Content-Encoding", "gzip"}, gzipped(t, body)},
		{"truncated", ct, "reading the metadata part: unexpected EOF", nil, body[:len(body)-10]},
		{"other boundary", strings.Replace(ct, "boundary=", "boundary=x", 1), "malformed multipart body", nil, body},
	} {
		w := postUpload(h, tc.body, tc.ctype, append(tc.hdr, "Accept", "application/json")...)
		var e struct{ Error string }
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != http.StatusBadRequest || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, w.Code, w.Body, tc.want)
		}
	}
}

// TestProfileMaxParts: an upload of more than MaxParts parts is refused.
func TestProfileMaxParts(t *testing.T) {
	h, _, _ := newProfileAPI(t, Config{}, ProfileConfig{MaxParts: 2})
	body, ct := multipartBody(t, metaPart(testMetadata), profPart("", readFixture(t, "profile/cpu.pprof")))
	if w := postUpload(h, body, ct); w.Code != http.StatusAccepted {
		t.Errorf("2 parts: %d %s", w.Code, w.Body)
	}
	body, ct = multipartBody(t, metaPart(testMetadata), profPart("", readFixture(t, "profile/cpu.pprof")), profPart("", readFixture(t, "profile/heap.pprof")))
	if w := postUpload(h, body, ct); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "more than 2 parts") {
		t.Errorf("3 parts: %d %s", w.Code, w.Body)
	}
}

// TestProfileSinkErrors: the sink's refusals are answered as the events endpoint answers the store's.
func TestProfileSinkErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{collector.ErrQueueFull, 503, "queue is full"},
		{fmt.Errorf("store: %w", collector.ErrQueueFull), 503, "queue is full"},
		{collector.ErrShuttingDown, 503, "server is shutting down"},
		{fmt.Errorf("store: disk nearly full: %w", collector.ErrStorageUnavailable), 503, "cannot store the profile: store: disk nearly full"},
		{collector.ErrProfileExists, 409, "profile 0123456789abcdef0123456789abcdef is already stored"},
		{errors.New("disk on fire"), 500, "cannot store the profile: disk on fire"},
	} {
		h, sink, _ := newProfileAPI(t, Config{}, ProfileConfig{})
		sink.err = tc.err
		body, ct := multipartBody(t, captureParts(t)...)
		if w := postUpload(h, body, ct); w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%v: %d %s", tc.err, w.Code, w.Body)
		}
	}
}

// TestProfileConcurrencyLimit: past MaxConcurrent uploads being read, an upload waits Wait, then is
// refused with 503; the slot frees when the upload in it is answered.
func TestProfileConcurrencyLimit(t *testing.T) {
	h, sink, _ := newProfileAPI(t, Config{}, ProfileConfig{MaxConcurrent: 1, Wait: 20 * time.Millisecond})
	sink.entered, sink.block = make(chan struct{}), make(chan struct{})
	body, ct := multipartBody(t, metaPart(testMetadata))
	first := make(chan int)
	go func() { first <- postUpload(h, body, ct).Code }()
	<-sink.entered // the first upload holds the slot, in StoreProfile
	if w := postUpload(h, body, ct); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "too many concurrent profile uploads") {
		t.Errorf("second upload: %d %s", w.Code, w.Body)
	}
	close(sink.block)
	if code := <-first; code != http.StatusAccepted {
		t.Errorf("first upload: %d", code)
	}
	sink.block = nil
	if w := postUpload(h, body, ct); w.Code != http.StatusAccepted {
		t.Errorf("after the first: %d %s", w.Code, w.Body)
	}
}

// pprofOfSize returns an uncompressed pprof profile of exactly n bytes: the fixture of that kind (cpu
// or heap) with a padded comment.
func pprofOfSize(t testing.TB, kind string, n int) []byte {
	t.Helper()
	base, _ := profile.ParseData(readFixture(t, "profile/"+kind+".pprof"))
	encode := func(pad, short int) []byte {
		p := base.Copy()
		p.Comments = []string{strings.Repeat("x", pad), strings.Repeat("y", short)}
		var buf bytes.Buffer
		if err := p.WriteUncompressed(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	start := n - len(encode(0, 0))
	for pad := start; pad > start-16 && pad >= 0; pad-- {
		for short := range 3 {
			if b := encode(pad, short); len(b) == n {
				return b
			}
		}
	}
	t.Fatalf("no pprof of %d bytes", n)
	return nil
}

// gzipOfSize returns a gzip stream of exactly n bytes whose content starts with prefix (stored
// blocks: no compression, so the size follows the content's).
func gzipOfSize(t testing.TB, prefix []byte, n int) []byte {
	t.Helper()
	for content := n - 18 - len(prefix); content > 0; content-- {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
		_, _ = zw.Write(prefix)
		_, _ = zw.Write(bytes.Repeat([]byte{'z'}, content))
		_ = zw.Close()
		if buf.Len() == n {
			return buf.Bytes()
		}
		if buf.Len() < n {
			break
		}
	}
	t.Fatalf("no gzip of %d bytes", n)
	return nil
}

// TestProfileLimits: every limit, at its boundary: exactly the limit is accepted, one byte more is 413.
func TestProfileLimits(t *testing.T) {
	const (
		profLimit  = 64 << 10
		traceLimit = 48 << 10
		decProf    = 96 << 10
		decTrace   = 80 << 10
	)
	cfg := ProfileConfig{MaxProfileBytes: profLimit, MaxTraceBytes: traceLimit, MaxDecodedProfileBytes: decProf, MaxDecodedTraceBytes: decTrace}
	padJSON := func(js string, n int) string { return js + strings.Repeat(" ", n-len(js)) }
	withTrace := strings.Replace(strings.Replace(testCapture, `"cpu","goroutine","heap","trace"`, `"cpu","trace"`, 1), `"goroutine":{"snapshots":3},`, "", 1)
	traceHead := []byte("go 1.26 trace\x00\x00\x00")
	decodedTrace := func(n int) []byte { // a gzipped trace of n bytes decompressed
		return gzipped(t, append(append([]byte{}, traceHead...), bytes.Repeat([]byte{1}, n-len(traceHead))...))
	}
	half := pprofOfSize(t, "cpu", profLimit/2)
	for _, tc := range []struct {
		name  string
		at    []upPart // exactly at the limit
		over  []upPart // one byte over
		limit string   // in the 413's message
	}{
		{"metadata", []upPart{metaPart(padJSON(testMetadata, DefaultMaxMetadataBytes))},
			[]upPart{metaPart(padJSON(testMetadata, DefaultMaxMetadataBytes+1))}, "metadata part exceeds the permitted size of 10240 bytes"},
		{"capture", []upPart{metaPart(testMetadata), capturePart(padJSON(withTrace, DefaultMaxCaptureBytes)), profPart("cpu", half), tracePart(fakeTrace(t, 1))},
			[]upPart{metaPart(testMetadata), capturePart(padJSON(withTrace, DefaultMaxCaptureBytes+1)), profPart("cpu", half), tracePart(fakeTrace(t, 1))},
			"capture part exceeds the permitted size of 10240 bytes"},
		{"one profile", []upPart{metaPart(testMetadata), profPart("", pprofOfSize(t, "cpu", profLimit))},
			[]upPart{metaPart(testMetadata), profPart("", pprofOfSize(t, "cpu", profLimit+1))}, "profile parts exceed the permitted size of 65536 bytes together"},
		{"profiles together", []upPart{metaPart(testMetadata), profPart("", half), profPart("", pprofOfSize(t, "heap", profLimit-len(half)))},
			[]upPart{metaPart(testMetadata), profPart("", half), profPart("", pprofOfSize(t, "heap", profLimit-len(half)+1))},
			"profile parts exceed the permitted size of 65536 bytes together"},
		{"trace", []upPart{metaPart(testMetadata), capturePart(withTrace), profPart("cpu", half), tracePart(gzipOfSize(t, traceHead, traceLimit))},
			[]upPart{metaPart(testMetadata), capturePart(withTrace), profPart("cpu", half), tracePart(gzipOfSize(t, traceHead, traceLimit+1))},
			"trace part exceeds the permitted size of 49152 bytes"},
		{"profile decompressed", []upPart{metaPart(testMetadata), profPart("", gzipped(t, pprofOfSize(t, "cpu", decProf)))},
			[]upPart{metaPart(testMetadata), profPart("", gzipped(t, pprofOfSize(t, "cpu", decProf+1)))}, "exceeds the permitted size of 98304 bytes decompressed"},
		{"trace decompressed", []upPart{metaPart(testMetadata), capturePart(withTrace), profPart("cpu", half), tracePart(decodedTrace(decTrace))},
			[]upPart{metaPart(testMetadata), capturePart(withTrace), profPart("cpu", half), tracePart(decodedTrace(decTrace + 1))},
			"trace part exceeds the permitted size of 81920 bytes decompressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, sink, _ := newProfileAPI(t, Config{}, cfg)
			body, ct := multipartBody(t, tc.at...)
			w := postUpload(h, body, ct)
			if w.Code != http.StatusAccepted {
				t.Fatalf("at the limit: %d %s", w.Code, w.Body)
			}
			body, ct = multipartBody(t, tc.over...)
			w = postUpload(h, body, ct)
			if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), tc.limit) || w.Header().Get("Connection") != "Close" {
				t.Errorf("over the limit: %d %s, want 413 %q", w.Code, w.Body, tc.limit)
			}
			if n := len(sink.profiles()); n != 1 {
				t.Errorf("%d profiles stored, want the one at the limit", n)
			}
		})
	}
}

// TestProfileBodyLimit: a Content-Length past what the limits allow is refused before reading (exactly it
// is read); a body that grows past it while read (chunked) too.
func TestProfileBodyLimit(t *testing.T) {
	cfg := ProfileConfig{MaxProfileBytes: 1 << 10, MaxTraceBytes: 1 << 10}
	h, _, _ := newProfileAPI(t, Config{}, cfg)
	max := int64(DefaultMaxMetadataBytes+DefaultMaxCaptureBytes) + 2<<10 + DefaultMaxProfileParts*1024
	// A Content-Length of exactly max is let through to the reading (this body is shorter than it says).
	valid, ct := multipartBody(t, metaPart(testMetadata))
	req := httptest.NewRequest(http.MethodPost, "/intake/v2/profile", bytes.NewReader(valid))
	req.Header.Set("Content-Type", ct)
	req.ContentLength = max
	if w := serve(h, req); w.Code != http.StatusAccepted {
		t.Errorf("Content-Length at the limit: %d %s", w.Code, w.Body)
	}
	req = httptest.NewRequest(http.MethodPost, "/intake/v2/profile", strings.NewReader("x"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.ContentLength = max + 1
	if w := serve(h, req); w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), fmt.Sprintf("permitted size of %d bytes", max)) {
		t.Errorf("Content-Length over: %d %s", w.Code, w.Body)
	}
	// Chunked: many unknown-sized parts' worth of framing, past the body limit.
	body := "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n" + strings.Repeat(" ", int(max)) + testMetadata + "\r\n--b--\r\n"
	req = httptest.NewRequest(http.MethodPost, "/intake/v2/profile", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	if w := serve(h, req); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body over: %d %s", w.Code, w.Body)
	}
}

// TestProfileMetrics: answers are counted by endpoint and status, refusals by reason.
func TestProfileMetrics(t *testing.T) {
	api, _, reg := newTestAPI(t, Config{})
	h, err := api.ProfileHandler(ProfileConfig{Sink: &profileSink{}})
	if err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody(t, captureParts(t)...)
	postUpload(h, body, ct)
	body, ct = multipartBody(t, metaPart(`{}`))
	postUpload(h, body, ct)
	if n := metric(t, reg, "hotpath_intake_requests_total", "endpoint=profile", "code=202"); n != 1 {
		t.Errorf("202s: %v", n)
	}
	if n := metric(t, reg, "hotpath_intake_rejected_total", "reason=invalid_profile"); n != 1 {
		t.Errorf("invalid_profile: %v", n)
	}
	if _, err := api.ProfileHandler(ProfileConfig{}); err == nil {
		t.Error("no sink: no error")
	}
}
