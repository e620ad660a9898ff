package intake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// tinyPprof is a small valid pprof profile, uncompressed, for fuzz seeds.
func tinyPprof(t testing.TB) []byte {
	t.Helper()
	fn := &profile.Function{ID: 1, Name: "main.burn"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn, Line: 3}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 10_000_000,
		Sample:   []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{3, 30_000_000}, Label: map[string][]string{"transaction.id": {"0011223344556677"}}}},
		Location: []*profile.Location{loc}, Function: []*profile.Function{fn},
	}
	var buf bytes.Buffer
	if err := p.WriteUncompressed(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzProfileUpload feeds arbitrary multipart bodies to the profile endpoint: whatever comes in, the
// answer is 202, 400 or 413 with a JSON body, and a 202 means the sink got exactly one profile whose
// parts are the accepted count, each a kind the wire format names. Run it with
//
//	go test ./collector/intake -run '^$' -fuzz FuzzProfileUpload -fuzzminimizetime 2s
func FuzzProfileUpload(f *testing.F) {
	const boundary = "b0undary"
	seed := func(parts ...upPart) []byte {
		body, ct := multipartBody(f, parts...)
		// Re-frame with the fixed boundary.
		old := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
		return bytes.ReplaceAll(body, []byte(old), []byte(boundary))
	}
	tiny := tinyPprof(f)
	capture := strings.Replace(strings.Replace(testCapture, `"cpu","goroutine","heap","trace"`, `"cpu","trace"`, 1), `"goroutine":{"snapshots":3},`, "", 1)
	f.Add(seed(metaPart(testMetadata), profPart("", tiny)))
	f.Add(seed(metaPart(testMetadata), capturePart(capture), profPart("cpu", tiny), tracePart(fakeTrace(f, 4))))
	f.Add(seed(metaPart(`{"service":{"name":"apm-server","agent":{"name":"go","version":"1.0.0"}}}`)))
	f.Add(seed(metaPart(testMetadata), capturePart(`{"id":"x"}`)))
	f.Add([]byte("--" + boundary + "--\r\n"))

	h, sink, _ := newProfileAPI(f, Config{}, ProfileConfig{MaxProfileBytes: 64 << 10, MaxTraceBytes: 64 << 10,
		MaxDecodedProfileBytes: 1 << 20, MaxDecodedTraceBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, body []byte) {
		sink.mu.Lock()
		sink.got = nil // keep memory flat over a long run
		sink.mu.Unlock()
		w := postUpload(h, body, "multipart/form-data; boundary="+boundary, "Accept", "application/json")
		var ans struct {
			Accepted *int
			Error    string
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
			t.Fatalf("%d: body %q is not JSON: %v", w.Code, w.Body, err)
		}
		stored := sink.profiles()
		switch w.Code {
		case http.StatusAccepted:
			if len(stored) != 1 || ans.Accepted == nil || *ans.Accepted != len(stored[0].Parts) {
				t.Fatalf("202 %s, %d profiles stored", w.Body, len(stored))
			}
			p := stored[0]
			if len(p.ID) != 32 || strings.Trim(p.ID, "0123456789abcdef") != "" || p.Metadata.Service.Name == "" || p.Trigger == "" {
				t.Fatalf("stored %+v", p)
			}
			for _, part := range p.Parts {
				switch part.Kind {
				case "cpu", "goroutine", "heap", "profile":
					if _, err := profile.ParseData(part.Data); err != nil {
						t.Fatalf("stored %s part does not parse: %v", part.Kind, err)
					}
				case "trace":
				default:
					t.Fatalf("part kind %q", part.Kind)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(stored) != 0 || ans.Error == "" {
				t.Fatalf("%d %s, %d stored", w.Code, w.Body, len(stored))
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
