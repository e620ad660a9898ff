package pebble

import (
	"fmt"
	"testing"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
	"github.com/hotpath-apm/hotpath/collector"
)

// The memo answers what collector.ShapeStatement answers, for statements seen before or not, with and
// without a search, of either type, and starts over when full without losing an answer.
func TestShapeMemo(t *testing.T) {
	r := pendingWrite{memo: &shapeMemo{}}
	statements := []struct{ dbType, where, body string }{
		{"elasticsearch", "/products/_search", `{"query":{"match":{"title":"shoes"}}}`},
		{"elasticsearch", "/products/_search", `{"query":{"match":{"title":"boots"}},"size":20}`},
		{"elasticsearch", "/products/_msearch", "{}\n" + `{"query":{"term":{"in_stock":true}}}` + "\n"},
		{"elasticsearch", "/products/_doc/1", `not json`},
		{"elasticsearch", "/other/_search", `{"query":{"match":{"title":"shoes"}}}`},
		{"elasticsearch", "/other/_search", `SELECT 1`},
		{"sql", "sqlite3", `SELECT 1`},
		{"sql", "mysql", `SELECT * FROM t WHERE a = 'x' -- 1`},
		{"sql", "mysql", `-- only a comment`},
	}
	for round := range 3 {
		for _, st := range statements {
			want, wantOK := collector.ShapeStatement(st.dbType, st.where, st.body)
			got, ok := r.shapeOf(st.dbType, st.where, st.body)
			if ok != wantOK || got.ID != want.ID || got.Summary != want.Summary || got.Truncated != want.Truncated {
				t.Fatalf("round %d, %s %s %s: %+v %v, want %+v %v", round, st.dbType, st.where, st.body, got, ok, want, wantOK)
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
		got, _ := r.shapeOf("elasticsearch", "/x/_search", string(big))
		if got.ID != want.ID {
			t.Fatalf("statement %d: shape %s, want %s", i, got.ID, want.ID)
		}
		if r.memo.bytes > maxShapeMemoBytes {
			t.Fatalf("the memo holds %d bytes, more than %d", r.memo.bytes, maxShapeMemoBytes)
		}
	}
}
