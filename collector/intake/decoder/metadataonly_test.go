package decoder

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// metadataOf returns the value of the "metadata" key of a fixture's first line.
func metadataOf(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	var m struct{ Metadata json.RawMessage }
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	return m.Metadata
}

// TestDecodeMetadataAsStreams: DecodeMetadata gives the metadata fields Decode gives every event of a
// stream with that metadata line.
func TestDecodeMetadataAsStreams(t *testing.T) {
	for _, name := range []string{"metadata.ndjson", "minimal-service.ndjson", "metadata-null-values.ndjson", "events.ndjson"} {
		t.Run(name, func(t *testing.T) {
			meta := metadataOf(t, name)
			base := collector.Event{Timestamp: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			got, derr := New(Options{}).DecodeMetadata(meta, &base)
			if derr != nil {
				t.Fatal(derr)
			}
			// The same metadata as a stream, with one log event, whose metadata fields are the stream's.
			stream := `{"metadata":` + string(meta) + "}\n" + `{"log":{"message":"x"}}` + "\n"
			var events []collector.Event
			_, err := New(Options{}).Decode(context.Background(), strings.NewReader(stream), &base,
				collector.ProcessBatchFunc(func(ctx context.Context, b *collector.Batch) error {
					for _, e := range *b {
						events = append(events, e)
					}
					return nil
				}))
			if err != nil || len(events) != 1 {
				t.Fatalf("Decode: %v, %d events", err, len(events))
			}
			want := events[0]
			want.Kind, want.Log, want.Message, want.Event, want.DataStream = 0, nil, "", collector.EventInfo{}, collector.DataStream{}
			got.DataStream = collector.DataStream{}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DecodeMetadata:\n%+v\nDecode's event:\n%+v", got, want)
			}
			if got.Service.Name == "" || got.Agent.Name == "" {
				t.Errorf("no service or agent: %+v", got)
			}
		})
	}
}

// TestDecodeMetadataKeepsNothingShared: a second decode does not change the first one's result.
func TestDecodeMetadataKeepsNothingShared(t *testing.T) {
	d := New(Options{})
	first, err := d.DecodeMetadata([]byte(`{"service":{"name":"a","agent":{"name":"go","version":"1"}},"labels":{"k":"v"},"process":{"pid":1,"argv":["x","y"]}}`), &collector.Event{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DecodeMetadata([]byte(`{"service":{"name":"b","agent":{"name":"go","version":"1"}},"labels":{"k":"w"},"process":{"pid":2,"argv":["z","z"]}}`), &collector.Event{}); err != nil {
		t.Fatal(err)
	}
	if first.Service.Name != "a" || len(first.Labels) != 1 || first.Labels[0].Value != "v" || first.Process.Argv[0] != "x" {
		t.Errorf("first result changed: %+v", first)
	}
}

func TestDecodeMetadataErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind ErrorKind
		msg  string
	}{
		{`{"service":{"agent":{"name":"go","version":"1"}}}`, ErrValidation, "validation error: metadata: service: 'name' required"},
		{`{"service":{"name":"a","agent":{"name":"go"}}}`, ErrValidation, "'version' required"},
		{`{}`, ErrValidation, "validation error: 'metadata' required"},
		{`null`, ErrValidation, "validation error: 'metadata' required"},
		{`{"service":`, ErrDecode, "decode error: "},
		{`{"service":{"name":"a b!","agent":{"name":"go","version":"1"}}}`, ErrValidation, "pattern"},
		{`"x"`, ErrDecode, "decode error: "},
	} {
		_, err := New(Options{}).DecodeMetadata([]byte(tc.in), &collector.Event{})
		if err == nil || err.Kind != tc.kind || !strings.Contains(err.Message, tc.msg) || err.Document != tc.in {
			t.Errorf("%s: %+v, want %s %q", tc.in, err, tc.kind, tc.msg)
		}
	}
}

// FuzzDecodeMetadata: any input either decodes to an event with a service and an agent, or fails with
// an error naming the input; nothing panics.
//
//	go test ./collector/intake/decoder -run '^$' -fuzz FuzzDecodeMetadata -fuzztime 1m
func FuzzDecodeMetadata(f *testing.F) {
	for _, name := range []string{"metadata.ndjson", "minimal-service.ndjson", "metadata-null-values.ndjson", "events.ndjson"} {
		f.Add(metadataOf(f, name))
	}
	f.Add([]byte(`{"service":{"name":"apm-server","agent":{"name":"go","version":"1.0.0"}}}`))
	d := New(Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := d.DecodeMetadata(data, &collector.Event{})
		if err != nil {
			if err.Document != string(data) || err.Message == "" {
				t.Fatalf("error %+v for %q", err, data)
			}
			return
		}
		if ev.Service.Name == "" || ev.Agent.Name == "" || ev.Agent.Version == "" && !bytes.Contains(data, []byte(`"version"`)) {
			t.Fatalf("decoded without service or agent: %+v from %q", ev, data)
		}
	})
}
