package search

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

func TestQueryMix(t *testing.T) {
	a, b := NewQueryMix(3), NewQueryMix(3)
	counts := map[QueryKind]int{}
	popular := map[string]int{}
	tok := segmenter.DefaultTokenizer()
	const n = 20000
	for range n {
		q := a.Next()
		if again := b.Next(); !reflect.DeepEqual(q, again) {
			t.Fatalf("two mixes of seed 3 differ: %+v, %+v", q, again)
		}
		counts[q.Kind]++
		if _, err := ParseRequest(q.Values, DefaultMaxQueryBytes); err != nil {
			t.Fatalf("%s query %q refused: %v", q.Kind, q.Path(), err)
		}
		switch q.Kind {
		case Popular:
			popular[q.Values.Get("q")]++
		case Pathological:
			if tokens := len(tok.Tokenize(q.Values.Get("q"))); tokens < 120 {
				t.Errorf("a pathological query of %d tokens", tokens)
			}
		}
		if !strings.HasPrefix(q.Path(), "/search?") {
			t.Errorf("path %q", q.Path())
		}
	}
	share := func(k QueryKind) float64 { return float64(counts[k]) / n }
	if s := share(Pathological); s < 0.01 || s > 0.02 {
		t.Errorf("pathological share %v", s)
	}
	if s := share(Tail); s < 0.16 || s > 0.20 {
		t.Errorf("tail share %v", s)
	}
	// Zipf: the most popular query is far more frequent than the median one, and there is a long list.
	top, distinct := 0, len(popular)
	for _, c := range popular {
		top = max(top, c)
	}
	if distinct < 150 || top < 20*n/distinct {
		t.Errorf("popular queries: %d distinct, the top one %d times", distinct, top)
	}
}
