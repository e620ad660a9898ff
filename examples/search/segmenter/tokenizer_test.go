package segmenter

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestTokenize(t *testing.T) {
	tok := DefaultTokenizer()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"나이키운동화", []string{"나이키", "운동화"}},
		{"나이키 러닝화를 추천", []string{"나이키", "러닝화", "추천"}},
		{"아디다스쿨링부츠 화이트 남성용", []string{"아디다스", "쿨링", "부츠", "화이트", "남성"}},
		{"고속충전 제품이라 출근에 좋아요.", []string{"고속충전", "제품", "출근", "좋아요"}},
		{"러닝화입니다", []string{"러닝화"}},
		{"Nike Air Zoom 270", []string{"nike", "air", "zoom", "270"}},
		{"ＮＩＫＥ 러닝화", []string{"nike", "러닝화"}},
		{"WH-1000XM5", []string{"wh", "1000xm5"}},
		{"Lock&Lock 텀블러", []string{"lock", "lock", "텀블러"}},
		{"에어줌270", []string{"에어줌", "270"}},
		{"편안한 착용감", []string{"편안한", "착용감"}}, // not in the dictionary: kept whole
		{"이불", []string{"이불"}},              // starts like a particle, but follows no word
		{"러닝화이불", []string{"러닝화", "이불"}},
		{"를", []string{"를"}}, // a particle alone is a term
		{"가을 캠핑", []string{"가을", "캠핑"}},
		{"", nil},
		{" !?… ", nil},
		{"Déjà vu", []string{"déjà", "vu"}},
	} {
		if got := tok.Tokenize(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestParseDictionary(t *testing.T) {
	words, err := ParseDictionary(strings.NewReader("# comment\n\n 나이키 \n러닝화\n"))
	if err != nil || !reflect.DeepEqual(words, []string{"나이키", "러닝화"}) {
		t.Errorf("ParseDictionary = %q, %v", words, err)
	}
	if _, err := ParseDictionary(strings.NewReader("ok\n러닝 화\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a word with a space: %v", err)
	}
	if n := DefaultTokenizer().Len(); n < 100 {
		t.Errorf("default dictionary has %d words", n)
	}
}

// FuzzTokenize: terms are never empty and hold no separator, and tokenizing the terms joined by spaces
// gives them back (segmentation is stable).
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"나이키운동화를 추천", "Nike WH-1000XM5 ＮＩＫＥ", "러닝화이불", "를", "İstanbul ǅ"} {
		f.Add(s)
	}
	tok := DefaultTokenizer()
	f.Fuzz(func(t *testing.T, text string) {
		terms := tok.Tokenize(text)
		for _, term := range terms {
			if term == "" || strings.ContainsFunc(term, func(r rune) bool { _, c := classify(r); return c == separator || unicode.IsSpace(r) }) {
				t.Fatalf("Tokenize(%q): bad term %q", text, term)
			}
		}
		if again := tok.Tokenize(strings.Join(terms, " ")); !slices.Equal(again, terms) {
			t.Fatalf("Tokenize(%q) = %q, but the terms joined give %q", text, terms, again)
		}
	})
}

func BenchmarkTokenize(b *testing.B) {
	tok := DefaultTokenizer()
	text := "[나이키] 남성 경량 러닝화 블랙 Air Zoom 나이키경량러닝화를 추천"
	b.ReportAllocs()
	for b.Loop() {
		tok.Tokenize(text)
	}
}
