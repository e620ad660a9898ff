// Package esdoctest renders events as the exporter does and compares the documents with APM Server's
// golden documents, for the golden tests of every intake (the Elastic intake's in
// collector/elasticsearch, OTLP's in collector/intake/otlp): documents are compared as canonical JSON,
// and a difference is shown leaf by leaf.
package esdoctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
)

// Doc is one line of a golden file ({"index": ..., "source": {...}}), and one rendered event.
type Doc struct {
	Index  string          `json:"index"`
	Source json.RawMessage `json:"source"`
}

// Render renders e as the exporter indexes it: its index and its document (elasticsearch.Index and
// AppendDocument, the one renderer).
func Render(e *collector.Event) (Doc, error) {
	idx, err := elasticsearch.Index(e)
	if err != nil {
		return Doc{}, err
	}
	src, err := elasticsearch.AppendDocument(nil, e)
	if err != nil {
		return Doc{}, err
	}
	return Doc{Index: idx, Source: src}, nil
}

// ReadGolden reads a golden file: one Doc per line.
func ReadGolden(t testing.TB, b []byte) []Doc {
	t.Helper()
	var docs []Doc
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var d Doc
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

// Canonical returns src as canonical JSON, indented one member per line so that a diff is readable:
// keys sorted, numbers as numbers, metricset.samples sorted by name (APM Server's order comes from a
// Go map), and observer.hostname, observer.version and observer.ephemeral_id left out (they describe
// the server, not the event). edit, if not nil, may change the decoded document first.
func Canonical(t testing.TB, src []byte, edit func(doc map[string]any)) string {
	t.Helper()
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(src))
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, src)
	}
	if o, ok := v["observer"].(map[string]any); ok {
		delete(o, "hostname")
		delete(o, "version")
		delete(o, "ephemeral_id")
	}
	if ms, ok := v["metricset"].(map[string]any); ok {
		if samples, ok := ms["samples"].([]any); ok {
			sort.SliceStable(samples, func(i, j int) bool {
				return fmt.Sprint(samples[i].(map[string]any)["name"]) < fmt.Sprint(samples[j].(map[string]any)["name"])
			})
		}
	}
	if edit != nil {
		edit(v)
	}
	out, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Diff lists the leaf values that differ between two canonical documents, as path: got / want.
func Diff(got, want string) string {
	g, w := flatten(got), flatten(want)
	var paths []string
	for p := range g {
		if g[p] != w[p] {
			paths = append(paths, p)
		}
	}
	for p := range w {
		if _, ok := g[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		gv, gok := g[p]
		wv, wok := w[p]
		if !gok {
			gv = "(absent)"
		}
		if !wok {
			wv = "(absent)"
		}
		fmt.Fprintf(&b, "  %s:\n      got  %s\n      want %s\n", p, gv, wv)
	}
	return b.String()
}

// flatten maps each leaf path (a.b[0].c) of a JSON document to its JSON value; empty objects and
// arrays are leaves too.
func flatten(doc string) map[string]string {
	var v any
	_ = json.Unmarshal([]byte(doc), &v)
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				out[path] = "{}"
			}
			for k, c := range x {
				walk(strings.TrimPrefix(path+"."+k, "."), c)
			}
		case []any:
			if len(x) == 0 {
				out[path] = "[]"
			}
			for i, c := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		default:
			b, _ := json.Marshal(x)
			out[path] = string(b)
		}
	}
	walk("", v)
	return out
}
