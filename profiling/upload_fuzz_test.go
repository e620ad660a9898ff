package profiling_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/profiling"
)

// FuzzUploadRoundTrip: whatever a capture's free text (route, errors) and numbers, the upload is either
// refused by the encoder (only when the capture part cannot fit its limit) or read back by the strict
// intake with the same values: the wire format has no field a route or an error can break.
func FuzzUploadRoundTrip(f *testing.F) {
	f.Add("GET /search", "cpu: an error", int64(42), 3, int64(1500), true)
	f.Add("GET /items/{id}", "quote \" newline \n boundary --", int64(0), 0, int64(0), false)
	f.Add(strings.Repeat("r", 11<<10), "", int64(1), 1, int64(1), true)
	cpu := readTestdata(f, "cpu.pprof")
	metadata := []byte(`{"service":{"name":"search","agent":{"name":"go","version":"2.7.12"}}}`)
	f.Fuzz(func(t *testing.T, route, errText string, samples int64, snapshots int, durMillis int64, sampled bool) {
		if route == "" || !utf8.ValidString(route) || !utf8.ValidString(errText) || durMillis < 0 || durMillis > 1e9 || samples < 0 || snapshots < 0 {
			t.Skip() // the agent's routes are never empty; JSON replaces invalid UTF-8
		}
		t0 := time.Unix(1767323045, 0)
		c := &profiling.Capture{
			ID: "0123456789abcdef0123456789abcdef", Trigger: profiling.TriggerSlowRequest,
			Time: t0, End: t0.Add(time.Duration(durMillis) * time.Millisecond),
			Request: &profiling.CapturedRequest{TraceID: "fedcba9876543210fedcba9876543210", TransactionID: "0011223344556677",
				Sampled: sampled, Route: route, Start: t0.Add(-time.Second), Threshold: time.Second, Ended: true},
			CPU: cpu, CPUStart: t0.Add(-time.Second), CPUEnd: t0, CPUSamples: samples,
			Goroutine: cpu, GoroutineSnapshots: snapshots,
		}
		if errText != "" {
			c.Errors = []string{errText}
		}
		var body bytes.Buffer
		ct, err := profiling.EncodeUpload(&body, metadata, c)
		if err != nil {
			if len(route) < 9<<10 {
				t.Fatalf("refused a capture with a %d-byte route: %v", len(route), err)
			}
			return
		}
		u, err := decodeUpload(agenttest.Upload{Header: http.Header{"Content-Type": {ct}}, Body: body.Bytes()}, "")
		if err != nil {
			t.Fatalf("the strict intake refused the upload: %v", err)
		}
		w := u.Capture
		if w.Transaction.Name != route || w.Transaction.Sampled != sampled || w.CPU.Samples != samples ||
			w.Goroutine.Snapshots != snapshots || w.Duration != float64(durMillis) {
			t.Fatalf("read back %s", u.CaptureRaw)
		}
		if errText != "" && (len(w.Errors) > 1 || (len(w.Errors) == 1 && w.Errors[0] != errText)) {
			t.Fatalf("errors read back %q, sent %q", w.Errors, errText)
		}
	})
}
