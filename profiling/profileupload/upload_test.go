package profileupload_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/profiling/profileupload"
)

// testCapture is a slow request's capture with a cpu and a goroutine profile and a trace.
func testCapture() *profileupload.Capture {
	return &profileupload.Capture{
		ID: "0123456789abcdef0123456789abcdef", Trigger: profileupload.TriggerSlowRequest,
		Timestamp: 1_700_000_000_000_000, Duration: 812.5,
		Transaction: &profileupload.Transaction{ID: "0123456789abcdef", Name: "GET /search", Sampled: true,
			Timestamp: 1_699_999_999_500_000, Threshold: 500},
		Trace:     &profileupload.Trace{ID: "fedcba9876543210fedcba9876543210"},
		CPU:       &profileupload.CPU{Timestamp: 1_699_999_999_500_000, Duration: 1300, Samples: 41},
		Goroutine: &profileupload.Goroutine{Snapshots: 3},
		Parts:     []string{"cpu", "goroutine", "trace"},
		Errors:    []string{"heap: not collected"},
	}
}

// part is one part as read back.
type part struct {
	name, kind string
	data       []byte
}

// write writes an upload of c with the given profile parts (kind, data) and trace, and returns its
// body and boundary.
func write(t *testing.T, c *profileupload.Capture, profiles [][2]string, trace string) ([]byte, string) {
	t.Helper()
	var body bytes.Buffer
	w := profileupload.NewWriter(&body)
	if err := w.WriteMetadata([]byte(`{"service":{"name":"search"}}`)); err != nil {
		t.Fatal(err)
	}
	if c != nil {
		if err := w.WriteCapture(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range profiles {
		if err := w.WriteProfile(p[0], []byte(p[1])); err != nil {
			t.Fatal(err)
		}
	}
	if trace != "" {
		if err := w.WriteTrace([]byte(trace)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(w.ContentType())
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q: %v", w.ContentType(), err)
	}
	return body.Bytes(), params["boundary"]
}

// read reads every part of body; the error is the Reader's.
func read(body []byte, boundary string, maxParts int) ([]part, error) {
	r := profileupload.NewReader(bytes.NewReader(body), boundary, maxParts)
	var parts []part
	for {
		p, err := r.Next()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return parts, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return parts, err
		}
		parts = append(parts, part{p.Name, p.Kind, data})
	}
}

// TestRoundTrip: what the Writer writes, the Reader reads back, part by part, and the capture part
// decodes to what was written.
func TestRoundTrip(t *testing.T) {
	c := testCapture()
	body, boundary := write(t, c, [][2]string{{"cpu", "CPU"}, {"goroutine", "GOROUTINE"}}, "TRACE")
	parts, err := read(body, boundary, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := []part{{"metadata", "", []byte(`{"service":{"name":"search"}}`)}, {"capture", "", nil},
		{"profile", "cpu", []byte("CPU")}, {"profile", "goroutine", []byte("GOROUTINE")}, {"trace", "trace", []byte("TRACE")}}
	if len(parts) != len(want) {
		t.Fatalf("%d parts, want %d", len(parts), len(want))
	}
	for i, p := range parts {
		if p.name != want[i].name || p.kind != want[i].kind || (want[i].data != nil && !bytes.Equal(p.data, want[i].data)) {
			t.Errorf("part %d: %s %s %q, want %s %s %q", i, p.name, p.kind, p.data, want[i].name, want[i].kind, want[i].data)
		}
	}
	got, err := profileupload.DecodeCapture(parts[1].data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("capture %+v, want %+v", got, c)
	}
	if err := got.Check([]string{"cpu", "goroutine", "trace"}); err != nil {
		t.Error(err)
	}
	// An Elastic agent's upload: metadata, then profile parts without a filename (no kind).
	body, boundary = write(t, nil, [][2]string{{"", "P1"}, {"", "P2"}}, "")
	parts, err = read(body, boundary, 16)
	if err != nil || len(parts) != 3 || parts[1].kind != "" || string(parts[2].data) != "P2" {
		t.Fatalf("Elastic agent's upload: %+v, %v", parts, err)
	}
}

// TestTimeUnits: timestamps are whole microseconds since the epoch, durations float milliseconds.
func TestTimeUnits(t *testing.T) {
	at := time.Date(2026, 12, 6, 16, 0, 0, 123_456_000, time.UTC)
	if us := profileupload.Micros(at); profileupload.Time(us) != at || us != at.UnixMicro() {
		t.Errorf("Micros %d, back %v", us, profileupload.Time(us))
	}
	d := 812*time.Millisecond + 500*time.Microsecond
	if ms := profileupload.Millis(d); ms != 812.5 || profileupload.Duration(ms) != d {
		t.Errorf("Millis %v, back %v", ms, profileupload.Duration(ms))
	}
}

// TestLaterProfiler: a capture part with fields and a trigger this package does not know (a later
// profiler's) is accepted: the fields ignored, the trigger kept; what is known is still checked.
func TestLaterProfiler(t *testing.T) {
	data := []byte(`{"id":"0123456789abcdef0123456789abcdef","trigger":"mutex_contention","timestamp":1700000000000000,` +
		`"duration":20,"contention":{"wait_ms":900},"parts":["goroutine"],"goroutine":{"snapshots":1},"priority":"high"}`)
	c, err := profileupload.DecodeCapture(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check([]string{"goroutine"}); err != nil {
		t.Fatal(err)
	}
	if c.Trigger != "mutex_contention" || c.Goroutine.Snapshots != 1 {
		t.Errorf("capture %+v", c)
	}
	// What every capture has is still checked, whatever the trigger.
	bad := *c
	bad.ID = "XYZ"
	if err := bad.Check([]string{"goroutine"}); err == nil || !strings.Contains(err.Error(), `id "XYZ"`) {
		t.Errorf("bad id: %v", err)
	}
	bad = *c
	bad.Trace = &profileupload.Trace{ID: "nope"}
	if err := bad.Check([]string{"goroutine"}); err == nil {
		t.Error("a later trigger's malformed trace id accepted")
	}
	if err := c.Check([]string{"goroutine", "trace"}); err == nil {
		t.Error("parts that differ from the capture's accepted")
	}
}

// TestCaptureRefusals: the capture part's rules.
func TestCaptureRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*profileupload.Capture)
		want string
	}{
		{"no trigger", func(c *profileupload.Capture) { c.Trigger = "" }, "no trigger"},
		{"slow request without trace", func(c *profileupload.Capture) { c.Trace = nil }, "a slow_request needs"},
		{"slow request with a zero threshold", func(c *profileupload.Capture) { c.Transaction.Threshold = 0 }, "a slow_request needs"},
		{"resource trigger without resource", func(c *profileupload.Capture) { c.Trigger = "heap"; c.Transaction, c.Trace = nil, nil }, "a heap trigger needs a resource"},
		{"resource rule", func(c *profileupload.Capture) {
			c.Trigger = "cpu"
			c.Transaction, c.Trace = nil, nil
			c.Resource = &profileupload.Resource{Name: "cpu", Rule: "more"}
		}, "rule abs or diff"},
		{"negative duration", func(c *profileupload.Capture) { c.Duration = -1 }, "duration -1"},
		{"timestamp past 2286", func(c *profileupload.Capture) { c.Timestamp = 1e16 + 1 }, "timestamp"},
		{"no cpu description", func(c *profileupload.Capture) { c.CPU = nil }, "cpu and goroutine descriptions"},
		{"negative samples", func(c *profileupload.Capture) { c.CPU.Samples = -1 }, "capture: cpu"},
		{"parts differ", func(c *profileupload.Capture) { c.Parts = []string{"cpu"} }, "but the upload has"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCapture()
			tc.edit(c)
			err := c.Check([]string{"cpu", "goroutine", "trace"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
	if _, err := profileupload.DecodeCapture([]byte(`{"id":"x"}{}`)); err == nil || !strings.Contains(err.Error(), "data after its object") {
		t.Errorf("trailing data: %v", err)
	}
	if _, err := profileupload.DecodeCapture([]byte(`{"id":`)); err == nil {
		t.Error("broken JSON accepted")
	}
}

// TestCaptureSizeLimit: a capture part is at most MaxCaptureSize bytes; the writer drops errors from
// the end until it fits, and refuses a part that does not fit without them.
func TestCaptureSizeLimit(t *testing.T) {
	size := func(c *profileupload.Capture) int {
		body, boundary := write(t, c, nil, "")
		parts, err := read(body, boundary, 16)
		if err != nil {
			t.Fatal(err)
		}
		return len(parts[1].data)
	}
	c := testCapture()
	c.Errors = nil
	base := size(c) // without errors: {...,"parts":[...]}
	// One error that makes the part exactly MaxCaptureSize: `,"errors":["..."]` is 14 bytes and the text.
	exact := strings.Repeat("e", profileupload.MaxCaptureSize-base-len(`,"errors":[""]`))
	c.Errors = []string{exact}
	if got := size(c); got != profileupload.MaxCaptureSize || len(c.Errors) != 1 {
		t.Fatalf("exactly at the limit: %d bytes, want %d", got, profileupload.MaxCaptureSize)
	}
	// One byte more: the error is dropped, the rest is sent; the caller's capture is unchanged.
	c.Errors = []string{exact + "e"}
	body, boundary := write(t, c, nil, "")
	parts, _ := read(body, boundary, 16)
	got, err := profileupload.DecodeCapture(parts[1].data)
	if err != nil || len(got.Errors) != 0 || len(c.Errors) != 1 {
		t.Fatalf("one byte over: errors %q (%v); caller's %d", got.Errors, err, len(c.Errors))
	}
	// Too large without errors: refused.
	c.Errors = nil
	c.Transaction.Name = strings.Repeat("n", profileupload.MaxCaptureSize)
	if err := profileupload.NewWriter(io.Discard).WriteCapture(c); err == nil {
		t.Error("a capture part over the limit without errors to drop was written")
	}
}

// TestReaderRefusals: the framing the Reader refuses, each with what is wrong.
func TestReaderRefusals(t *testing.T) {
	raw := func(parts ...string) ([]byte, string) {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString("--B\r\n" + p + "\r\n")
		}
		b.WriteString("--B--\r\n")
		return []byte(b.String()), "B"
	}
	const (
		meta    = "Content-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{}"
		capture = "Content-Disposition: form-data; name=\"capture\"\r\nContent-Type: application/json\r\n\r\n{}"
		prof    = "Content-Disposition: form-data; name=\"profile\"; filename=\"%s\"\r\nContent-Type: application/x-protobuf; messageType=\"perftools.profiles.Profile\"\r\n\r\nP"
		trace   = "Content-Disposition: form-data; name=\"trace\"; filename=\"trace.out\"\r\nContent-Type: application/x-go-trace\r\nContent-Encoding: gzip\r\n\r\nT"
	)
	profile := func(filename string) string { return strings.Replace(prof, "%s", filename, 1) }
	for _, tc := range []struct {
		name  string
		parts []string
		max   int
		want  string
	}{
		{"empty", nil, 16, "no metadata part"},
		{"metadata not first", []string{profile("")}, 16, `the first part is "profile"`},
		{"metadata twice", []string{meta, meta}, 16, "a second metadata part"},
		{"capture third", []string{meta, profile(""), capture}, 16, "the capture part must be the second"},
		{"profile kind unknown", []string{meta, capture, profile("mutex.pprof")}, 16, `filename "mutex.pprof"`},
		{"trace without capture", []string{meta, trace}, 16, "without a capture part"},
		{"part after trace", []string{meta, capture, trace, profile("cpu.pprof")}, 16, "follows the trace part"},
		{"unknown part", []string{meta, "Content-Disposition: form-data; name=\"notes\"\r\nContent-Type: text/plain\r\n\r\nx"}, 16, `unknown part "notes"`},
		{"extra header", []string{strings.Replace(meta, "\r\n\r\n", "\r\nX-Debug: 1\r\n\r\n", 1)}, 16, "unexpected header X-Debug"},
		{"metadata media type", []string{strings.Replace(meta, "application/json", "text/plain", 1)}, 16, "metadata part: Content-Type"},
		{"profile media type", []string{meta, strings.Replace(profile(""), `; messageType="perftools.profiles.Profile"`, "", 1)}, 16, "messageType"},
		{"parts at the limit", []string{meta, profile(""), profile("")}, 3, ""},
		{"one part over the limit", []string{meta, profile(""), profile(""), profile("")}, 3, "more than 3 parts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, boundary := raw(tc.parts...)
			_, err := read(body, boundary, tc.max)
			if tc.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
	if _, err := read([]byte("--B\r\nbroken"), "B", 16); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("malformed body: %v", err)
	}
}
