package profileupload_test

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/hotpath-apm/hotpath/profiling/profileupload"
)

// FuzzReader: whatever the body, the Reader returns parts or an error, never panics, and never returns
// a part the format does not allow; a capture part that decodes and checks encodes back to JSON that
// decodes to the same capture.
func FuzzReader(f *testing.F) {
	var body bytes.Buffer
	w := profileupload.NewWriter(&body)
	w.WriteMetadata([]byte(`{"service":{"name":"s"}}`))
	w.WriteCapture(&profileupload.Capture{ID: "0123456789abcdef0123456789abcdef", Trigger: "cpu", Timestamp: 1, Parts: []string{"cpu"},
		CPU: &profileupload.CPU{Timestamp: 1, Samples: 2}, Resource: &profileupload.Resource{Name: "cpu", Rule: "abs"}})
	w.WriteProfile("cpu", []byte("pprof"))
	w.WriteTrace([]byte("trace"))
	w.Close()
	_, boundary, _ := bytes.Cut([]byte(w.ContentType()), []byte("boundary="))
	f.Add(body.Bytes())
	f.Add([]byte("--" + string(boundary) + "--\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := profileupload.NewReader(bytes.NewReader(data), string(boundary), 16)
		var kinds []string
		var capture []byte
		for i := 0; ; i++ {
			p, err := r.Next()
			if err != nil {
				break
			}
			if p.Index != i || (i == 0) != (p.Name == profileupload.PartMetadata) {
				t.Fatalf("part %d: index %d name %q", i, p.Index, p.Name)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				break
			}
			switch p.Name {
			case profileupload.PartCapture:
				capture = b
			case profileupload.PartProfile, profileupload.PartTrace:
				kinds = append(kinds, p.Kind)
			}
		}
		if capture == nil {
			return
		}
		c, err := profileupload.DecodeCapture(capture)
		if err != nil || c.Check(kinds) != nil {
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := profileupload.DecodeCapture(again)
		if err != nil || c2.Check(kinds) != nil {
			t.Fatalf("a checked capture does not survive encoding: %s: %v", again, err)
		}
	})
}
