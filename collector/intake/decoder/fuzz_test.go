package decoder

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

// Fuzz targets, seeded with every fixture: no input may panic or hang, every result must be
// consistent, every JSON value kept must be valid, and what the decoder holds must stay proportional to
// its input.
//
//	go test ./collector/intake/decoder -run '^$' -fuzz FuzzDecode$ -fuzztime 5m
//	go test ./collector/intake/decoder -run '^$' -fuzz FuzzDecodeLine -fuzztime 5m

func fixtureBodies(f *testing.F) [][]byte {
	paths, err := filepath.Glob(filepath.Join(fixtures, "*.ndjson"))
	if err != nil || len(paths) == 0 {
		f.Fatal("no fixtures", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		f.Add(b, uint16(0))
		f.Add(b, uint16(200))
	}
	f.Fuzz(func(t *testing.T, body []byte, maxSize uint16) {
		checkDecode(t, body, Options{MaxEventSize: int(maxSize), BatchSize: 3})
	})
}

func FuzzDecodeLine(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		for i, line := range bytes.Split(b, []byte("\n")) {
			if i > 0 && len(line) > 0 && len(line) < 20000 {
				f.Add(string(line))
			}
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkDecode(t, []byte(metadataLine+"\n"+line+"\n"+txLine("after")+"\n"), Options{})
	})
}

func checkDecode(t *testing.T, body []byte, opts Options) {
	d := New(opts)
	base := backendBase()
	handed := 0
	res, err := d.Decode(context.Background(), bytes.NewReader(body), &base, collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		handed += len(*b)
		for i := range *b {
			checkEvent(t, &(*b)[i])
		}
		return nil
	}))
	if err != nil {
		t.Fatalf("Decode of an in-memory body: %v", err)
	}
	if res.Accepted != handed {
		t.Fatalf("accepted %d, handed on %d", res.Accepted, handed)
	}
	if len(res.Errors) > MaxErrors || res.Invalid+res.TooLarge < len(res.Errors) {
		t.Fatalf("errors %d, invalid %d, too large %d", len(res.Errors), res.Invalid, res.TooLarge)
	}
	for _, e := range res.Errors {
		if e.Kind < ErrDecode || e.Kind > ErrMetadata || e.Message == "" {
			t.Fatalf("error %+v", e)
		}
		if !bytes.Contains(body, []byte(e.Document)) {
			t.Fatalf("document %q is not from the input", e.Document)
		}
	}
	if lines := bytes.Count(body, []byte("\n")) + 1; res.Accepted+res.Invalid+res.TooLarge > lines {
		t.Fatalf("%d results from %d lines", res.Accepted+res.Invalid+res.TooLarge, lines)
	}
	if size := d.pool.size(); size > 100*len(body)+1<<20 {
		t.Fatalf("pool holds %d bytes for %d bytes of input", size, len(body))
	}
}

func checkEvent(t *testing.T, ev *collector.Event) {
	switch {
	case ev.Kind == collector.KindTransaction && ev.Transaction == nil,
		ev.Kind == collector.KindSpan && ev.Span == nil,
		ev.Kind == collector.KindError && ev.Error == nil,
		ev.Kind == collector.KindMetricset && ev.Metricset == nil,
		ev.Kind == collector.KindUnknown || ev.Kind > collector.KindLog:
		t.Fatalf("event kind %v with its parts missing", ev.Kind)
	}
	valid := func(what string, r collector.RawJSON) {
		if r == "" {
			return
		}
		var v any
		if err := json.Unmarshal([]byte(r), &v); err != nil {
			t.Fatalf("%s: invalid JSON %q: %v", what, r, err)
		}
		if !normalized(v, true) {
			t.Fatalf("%s: not normalized %q", what, r)
		}
	}
	kvs := func(what string, kv []collector.KeyValue) {
		seen := map[string]bool{}
		for _, x := range kv {
			if seen[x.Key] {
				t.Fatalf("%s: key %q twice", what, x.Key)
			}
			seen[x.Key] = true
			valid(what, x.Value)
		}
	}
	frames := func(fs []collector.StackFrame) {
		for _, f := range fs {
			kvs("vars", f.Vars)
		}
	}
	if ev.HTTP != nil {
		valid("body", ev.HTTP.Request.Body)
		kvs("env", ev.HTTP.Request.Env)
		kvs("cookies", ev.HTTP.Request.Cookies)
	}
	if ev.Transaction != nil {
		kvs("custom", ev.Transaction.Custom)
	}
	if ev.Span != nil {
		frames(ev.Span.Stacktrace)
	}
	if ev.Error != nil {
		kvs("custom", ev.Error.Custom)
		var walk func(x *collector.Exception)
		walk = func(x *collector.Exception) {
			kvs("attributes", x.Attributes)
			frames(x.Stacktrace)
			for i := range x.Cause {
				walk(&x.Cause[i])
			}
		}
		if ev.Error.Exception != nil {
			walk(ev.Error.Exception)
		}
		if ev.Error.Log != nil {
			frames(ev.Error.Log.Stacktrace)
		}
	}
	seen := map[string]bool{}
	for _, l := range ev.Labels {
		if seen[l.Key] {
			t.Fatalf("label %q twice", l.Key)
		}
		seen[l.Key] = true
	}
}

// normalized reports whether v has no null members, and no empty objects or arrays (null elements of
// arrays are allowed, they are what emptiness becomes there).
func normalized(v any, top bool) bool {
	switch v := v.(type) {
	case nil:
		return !top
	case map[string]any:
		if len(v) == 0 {
			return false
		}
		for _, x := range v {
			if x == nil || !normalized(x, false) {
				return false
			}
		}
	case []any:
		if len(v) == 0 {
			return false
		}
		for _, x := range v {
			if x != nil && !normalized(x, false) {
				return false
			}
		}
	}
	return true
}
