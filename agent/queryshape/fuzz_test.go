package queryshape_test

import (
	"encoding/json"
	"testing"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

// FuzzSearch checks that any body gives a shape or ErrNotJSON without panicking, that a shape is well
// formed (id, summary length, valid UTF-8) and deterministic, and that a whole JSON object (valid by
// encoding/json) is never marked truncated.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{
		`{"query":{"match":{"title":"a"}},"size":10}`,
		`{"query":{"bool":{"should":[{"match":{"t":"a"}},{"term":{"b":1}}],"filter":[{"range":{"p":{"gte":1}}}]}}}`,
		`{"query":{"script_score":{"query":{"match_all":{}},"script":{"source":"_score","params":{"a":[1]}}}}}`,
		`{"aggs":{"a":{"terms":{"field":"b","size":5},"aggs":{"c":{"avg":{"field":"p"}}}}},"sort":[{"p":"asc"},"_score"]}`,
		`{"_source":["a\u00e9\ud83d\ude00"],"query":{"match":{"\u0074":"x"}}}`,
		"{\"a\":\"\xff\"}", `{"a":[[[[`, `{"size":-1.5e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := queryshape.Search(body)
		if err != nil {
			if err != queryshape.ErrNotJSON {
				t.Fatalf("error %v", err)
			}
			return
		}
		checkShape(t, s)
		again, _ := queryshape.Search(body)
		if again != s {
			t.Fatalf("two shapes of one body: %+v / %+v", s, again)
		}
		if json.Valid(body) && s.Truncated && len(body) <= queryshape.MaxBody {
			t.Fatalf("a valid body marked truncated: %q -> %+v", body, s)
		}
		_, _ = queryshape.Request("/_msearch", body)
		_, _ = queryshape.Template(body)
	})
}
