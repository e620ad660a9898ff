package queryshape_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

// benchBodies are search bodies of growing size: a short match, the example's popular search (two
// units), and searches of 16 and 64 units with synonyms, as the example sends for a long and a pasted
// query (the last is about the size of its pathological bodies).
func benchBodies(b *testing.B) []struct {
	name string
	body []byte
} {
	popular, err := os.ReadFile(filepath.Join("testdata", "bodies", "search_popular.json"))
	if err != nil {
		b.Fatal(err)
	}
	units := func(n int) []byte {
		var parts []string
		for i := range n {
			var should []string
			for j := range 1 + i%4 {
				w := fmt.Sprintf("word%d_%d", i, j)
				should = append(should, `{"match":{"title_terms":{"query":"`+w+`","boost":3}}}`,
					`{"match":{"description_terms":{"query":"`+w+`","boost":1}}}`)
			}
			parts = append(parts, `{"bool":{"should":[`+strings.Join(should, ",")+`],"minimum_should_match":1}}`)
		}
		return []byte(`{"size":10,"from":0,"_source":["title","brand"],"query":{"script_score":{"query":{"bool":{"should":[` +
			strings.Join(parts, ",") + `],"minimum_should_match":3}},"script":{"source":"_score * doc['rating'].value"}}}}`)
	}
	return []struct {
		name string
		body []byte
	}{
		{"match", []byte(`{"query":{"match":{"title":"running shoes"}},"size":10}`)},
		{"popular", popular},
		{"units16", units(16)},
		{"units64", units(64)},
	}
}

// benchEach runs op on each of benchBodies in a sub-benchmark named after the body and its size.
func benchEach(b *testing.B, op func(body []byte) error) {
	for _, bb := range benchBodies(b) {
		b.Run(fmt.Sprintf("%s-%dB", bb.name, len(bb.body)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if err := op(bb.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadBody is the baseline: reading the body once, as a transport that records it does,
// without shaping it.
func BenchmarkReadBody(b *testing.B) {
	benchEach(b, func(body []byte) error {
		_, err := io.ReadAll(bytes.NewReader(body))
		return err
	})
}

// BenchmarkShape is the cost of shaping the same bodies.
func BenchmarkShape(b *testing.B) {
	benchEach(b, func(body []byte) error {
		_, err := queryshape.Search(body)
		return err
	})
}
