package pebble

import (
	"fmt"
	"testing"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

// The memo answers what queryshape.Request answers, for statements seen before or not, with and
// without a search, and starts over when full without losing an answer.
func TestShapeMemo(t *testing.T) {
	r := pendingWrite{memo: &shapeMemo{}}
	statements := []struct{ path, body string }{
		{"/products/_search", `{"query":{"match":{"title":"shoes"}}}`},
		{"/products/_search", `{"query":{"match":{"title":"boots"}},"size":20}`},
		{"/products/_msearch", "{}\n" + `{"query":{"term":{"in_stock":true}}}` + "\n"},
		{"/products/_doc/1", `not json`},
		{"/other/_search", `{"query":{"match":{"title":"shoes"}}}`},
	}
	for round := range 3 {
		for _, st := range statements {
			want, wantOK := queryshape.Request(st.path, []byte(st.body))
			got, ok := r.shapeOf(st.path, st.body)
			if ok != wantOK || got.ID != want.ID || got.Summary != want.Summary || got.Truncated != want.Truncated {
				t.Fatalf("round %d, %s %s: %+v %v, want %+v %v", round, st.path, st.body, got, ok, want, wantOK)
			}
		}
	}
	if n := len(r.memo.m); n != len(statements) {
		t.Fatalf("the memo holds %d statements, want %d", n, len(statements))
	}
	// Filling it: it never holds more than its bound, and still answers right.
	big := make([]byte, 0, 64<<10)
	for i := range 40 {
		big = fmt.Appendf(big[:0], `{"query":{"match":{"f%d":"%0*d"}}}`, i, 60<<10, 0)
		want, _ := queryshape.Request("/x/_search", big)
		got, _ := r.shapeOf("/x/_search", string(big))
		if got.ID != want.ID {
			t.Fatalf("statement %d: shape %s, want %s", i, got.ID, want.ID)
		}
		if r.memo.bytes > maxShapeMemoBytes {
			t.Fatalf("the memo holds %d bytes, more than %d", r.memo.bytes, maxShapeMemoBytes)
		}
	}
}
