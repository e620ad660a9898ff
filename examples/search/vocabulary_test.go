package search

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

// The catalog, the segmenter's dictionary and the synonyms file are three files that must agree: these
// tests say which line to fix when they do not.

func TestDictionaryCoversCatalog(t *testing.T) {
	tok := segmenter.DefaultTokenizer()
	for _, w := range catalog.KoreanWords() {
		if !tok.Knows(w) {
			t.Errorf("segmenter/dictionary.txt lacks the catalog's word %q", w)
		}
	}
	// So every title segments into known words: Hangul compounds split, nothing unknown left.
	for _, p := range catalog.Generate(catalog.DefaultSeed, 3000) {
		for _, term := range tok.Tokenize(p.Title) {
			r, _ := utf8.DecodeRuneInString(term)
			if r >= 0xAC00 && r <= 0xD7A3 && !tok.Knows(term) {
				t.Errorf("%s: title %q segments into %q, not a dictionary word", p.ID, p.Title, term)
			}
		}
	}
}

func TestSynonymsAreTokenized(t *testing.T) {
	tok := segmenter.DefaultTokenizer()
	syn := DefaultSynonyms()
	for _, term := range syn.AllTerms() {
		if got := strings.Join(tok.Tokenize(term), " "); got != term {
			t.Errorf("synonyms.txt: %q segments as %q: write it as the segmenter does, or add its words to the dictionary", term, got)
		}
	}
	if syn.Rules() < 100 || syn.Terms() < 400 || syn.MaxTokens() < 2 {
		t.Errorf("synonyms: %d rules, %d terms, longest %d tokens", syn.Rules(), syn.Terms(), syn.MaxTokens())
	}
}

func TestParseSynonyms(t *testing.T) {
	s, err := ParseSynonyms(strings.NewReader("# c\n\nA,  b c ,D\nx => y, Z\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Expand([]string{"b", "c"}).Units[0].Alternatives; strings.Join(got, "|") != "a|d" {
		t.Errorf("b c expands to %q", got)
	}
	if got := s.Expand([]string{"x"}).Units[0].Alternatives; strings.Join(got, "|") != "y|z" {
		t.Errorf("x expands to %q", got)
	}
	if got := s.Expand([]string{"y"}).Units[0].Alternatives; got != nil {
		t.Errorf("one-way rule: y expands to %q", got)
	}
	for _, bad := range []string{"a", "a,,b", "=> b", "a =>", "a, b\n, c"} {
		if _, err := ParseSynonyms(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%q: %v, want an error naming the line", bad, err)
		}
	}
	if _, err := ParseSynonyms(strings.NewReader(strings.Repeat("\n", MaxSynonymLines) + "a, b\n")); err == nil {
		t.Errorf("a file over %d lines was accepted", MaxSynonymLines)
	}
}

// FuzzParseSynonyms: any file parses or fails with an error; what parses expands every term it has.
func FuzzParseSynonyms(f *testing.F) {
	f.Add("a, b\nc => d, e f\n# x\n")
	f.Add("러닝화, running shoes\n")
	f.Fuzz(func(t *testing.T, file string) {
		s, err := ParseSynonyms(strings.NewReader(file))
		if err != nil {
			return
		}
		for _, r := range s.rules {
			for _, m := range r.match {
				tokens := strings.Fields(m)
				if len(tokens) == 0 {
					t.Fatalf("%q: empty term", file)
				}
				if u := s.Expand(tokens).Units; len(u) != 1 || u[0].Tokens != len(tokens) {
					t.Fatalf("%q: term %q not found as one unit: %+v", file, m, u)
				}
			}
		}
	})
}
