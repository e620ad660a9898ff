package search

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

func TestExpand(t *testing.T) {
	syn := DefaultSynonyms()
	for _, tc := range []struct {
		tokens []string
		want   []Unit
	}{
		{[]string{"running", "shoes", "black"}, []Unit{
			{Text: "running shoes", Tokens: 2, Alternatives: []string{"러닝화", "런닝화", "조깅화", "runners"}},
			{Text: "black", Tokens: 1, Alternatives: []string{"블랙", "검정", "검정색", "검은색", "블랙 컬러"}},
		}},
		{[]string{"나이키", "xyz"}, []Unit{
			{Text: "나이키", Tokens: 1, Alternatives: []string{"nike", "나이키 코리아"}},
			{Text: "xyz", Tokens: 1},
		}},
		{[]string{"운동"}, []Unit{{Text: "운동", Tokens: 1, Alternatives: []string{"운동화", "러닝화", "레깅스"}}}},
		{[]string{"러닝화"}, []Unit{{Text: "러닝화", Tokens: 1, Alternatives: []string{"running shoes", "런닝화", "조깅화", "runners"}}}},
		// 쿠션 is in two rules: both expand.
		{[]string{"쿠션"}, []Unit{{Text: "쿠션", Tokens: 1, Alternatives: []string{"cushion foundation", "쿠션 팩트", "파운데이션", "foundation", "cushioned", "쿠셔닝"}}}},
		{nil, nil},
	} {
		got := syn.Expand(tc.tokens)
		if !reflect.DeepEqual(got.Units, tc.want) {
			t.Errorf("Expand(%q) = %+v, want %+v", tc.tokens, got.Units, tc.want)
		}
		if quad := expandSynonyms(syn, tc.tokens); !reflect.DeepEqual(quad.Units, got.Units) {
			t.Errorf("expandSynonyms(%q) = %+v, Expand %+v", tc.tokens, quad.Units, got.Units)
		}
	}
}

// pastedQuery is n tokens of catalog text, as a pasted product description gives.
func pastedQuery(n int) []string {
	words := strings.Fields("나이키 정품 러닝화 입니다 경량 제품 이라 운동 에 좋아요 genuine nike running shoes lightweight and breathable 블랙 남성")
	out := make([]string, n)
	for i := range out {
		out[i] = words[i%len(words)]
	}
	return out
}

// TestExpandSynonymsIsQuadratic counts operations, not time: doubling a query's length doubles Expand's
// lookups and quadruples expandSynonyms' comparisons.
func TestExpandSynonymsIsQuadratic(t *testing.T) {
	syn := DefaultSynonyms()
	for _, n := range []int{25, 50, 100} {
		small, large := pastedQuery(n), pastedQuery(2*n)
		quadSmall, quadLarge := expandSynonyms(syn, small), expandSynonyms(syn, large)
		linSmall, linLarge := syn.Expand(small), syn.Expand(large)
		if !reflect.DeepEqual(quadLarge.Units, linLarge.Units) {
			t.Fatalf("n=%d: the two expansions differ", 2*n)
		}
		if r := float64(quadLarge.Ops) / float64(quadSmall.Ops); r < 3.6 || r > 4.4 {
			t.Errorf("expandSynonyms: %d tokens %d ops, %d tokens %d ops: ratio %.2f, want about 4", n, quadSmall.Ops, 2*n, quadLarge.Ops, r)
		}
		if r := float64(linLarge.Ops) / float64(linSmall.Ops); r < 1.8 || r > 2.2 {
			t.Errorf("Expand: %d tokens %d ops, %d tokens %d ops: ratio %.2f, want about 2", n, linSmall.Ops, 2*n, linLarge.Ops, r)
		}
	}
	// The exact count: every span from each unit's start to the end, against every term.
	tokens := []string{"a", "b", "c"}
	if got, want := expandSynonyms(syn, tokens).Ops, (3+2+1)*syn.Terms(); got != want {
		t.Errorf("3 unknown tokens: %d comparisons, want %d", got, want)
	}
}

// FuzzExpand: the quadratic expansion finds what the indexed one finds, for any tokens.
func FuzzExpand(f *testing.F) {
	f.Add("running shoes black 나이키 운동화")
	f.Add("north face 노스페이스 the north face")
	f.Add("lock lock 텀블러 a b")
	syn := DefaultSynonyms()
	tok := segmenter.DefaultTokenizer()
	f.Fuzz(func(t *testing.T, text string) {
		tokens := tok.Tokenize(text)
		if len(tokens) > 64 {
			tokens = tokens[:64]
		}
		lin, quad := syn.Expand(tokens), expandSynonyms(syn, tokens)
		if !reflect.DeepEqual(lin.Units, quad.Units) {
			t.Fatalf("%q: Expand %+v, expandSynonyms %+v", tokens, lin.Units, quad.Units)
		}
		n := 0
		for _, u := range lin.Units {
			n += u.Tokens
		}
		if n != len(tokens) {
			t.Fatalf("%q: units cover %d tokens", tokens, n)
		}
	})
}

// BenchmarkExpand pairs the indexed expansion with the quadratic one on queries of growing length.
func BenchmarkExpand(b *testing.B) {
	syn := DefaultSynonyms()
	for _, n := range []int{3, 30, 100, 200} {
		tokens := pastedQuery(n)
		b.Run(fmt.Sprintf("indexed/tokens=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				syn.Expand(tokens)
			}
		})
		b.Run(fmt.Sprintf("quadratic/tokens=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				expandSynonyms(syn, tokens)
			}
		})
	}
}
