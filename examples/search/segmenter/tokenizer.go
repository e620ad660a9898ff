package segmenter

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed dictionary.txt
var defaultDictionary string

// suffixes are the particles, copulas and endings dropped when they follow a dictionary word inside a
// Hangul run: "러닝화를" -> 러닝화, "제품이라" -> 제품, "남성용" -> 남성.
var suffixes = []string{
	"은", "는", "이", "가", "을", "를", "의", "에", "에서", "으로", "로", "와", "과", "도", "만", "용",
	"입니다", "이에요", "예요", "이라", "이라서", "라서", "까지", "부터",
}

// Tokenizer splits Korean and English text into search terms. It is safe for concurrent use.
//
// Text is read as runs of one script, separated by anything else (spaces, punctuation, symbols):
//   - Latin letters and digits, and other scripts' letters: one lower-cased term per run ("Air",
//     "270mm", "WH-1000XM5" -> air, 270mm, wh, 1000xm5). Full-width forms ("ＮＩＫＥ") count as their
//     ASCII letters.
//   - Hangul syllables: split into dictionary words, longest first, left to right; the pieces between
//     words that are not in the dictionary are terms of their own, except particles and endings right
//     after a word, which are dropped ("나이키운동화를" -> 나이키, 운동화).
//
// The same tokenizer segments documents when they are indexed and queries when they are searched, so
// that both sides agree on the terms; there is no stemming.
type Tokenizer struct {
	words    map[string]struct{}
	maxRunes int // the longest word, in runes
	suffixes map[string]struct{}
}

// NewTokenizer returns a tokenizer that knows words (Hangul; empty strings are ignored).
func NewTokenizer(words []string) *Tokenizer {
	t := &Tokenizer{words: make(map[string]struct{}, len(words)), suffixes: make(map[string]struct{}, len(suffixes))}
	for _, w := range words {
		if w == "" {
			continue
		}
		t.words[w] = struct{}{}
		t.maxRunes = max(t.maxRunes, utf8.RuneCountInString(w))
	}
	for _, s := range suffixes {
		t.suffixes[s] = struct{}{}
	}
	return t
}

// DefaultTokenizer returns a tokenizer with the segmenter's own dictionary (dictionary.txt in this
// package), which holds the catalog's words.
func DefaultTokenizer() *Tokenizer {
	words, err := ParseDictionary(strings.NewReader(defaultDictionary))
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return NewTokenizer(words)
}

// ParseDictionary reads a dictionary: one word a line, blank lines and lines starting with "#" ignored,
// spaces around words trimmed. A word with a space inside is an error.
func ParseDictionary(r io.Reader) ([]string, error) {
	var words []string
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		w := strings.TrimSpace(sc.Text())
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		if strings.ContainsFunc(w, unicode.IsSpace) {
			return nil, fmt.Errorf("segmenter: dictionary line %d: %q has a space", line, w)
		}
		words = append(words, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("segmenter: read dictionary: %w", err)
	}
	return words, nil
}

// Len returns how many words the tokenizer knows.
func (t *Tokenizer) Len() int { return len(t.words) }

// Tokenize returns text's terms in order.
func (t *Tokenizer) Tokenize(text string) []string { return t.Append(nil, text) }

type class uint8

const (
	separator class = iota
	hangul
	letter
)

func classify(r rune) (rune, class) {
	if 0xFF01 <= r && r <= 0xFF5E { // full-width ASCII
		r -= 0xFEE0
	}
	switch {
	case 0xAC00 <= r && r <= 0xD7A3:
		return r, hangul
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return unicode.ToLower(r), letter
	}
	return r, separator
}

// Append appends text's terms to dst and returns it.
func (t *Tokenizer) Append(dst []string, text string) []string {
	var run []rune
	cur := separator
	flush := func() {
		switch cur {
		case hangul:
			dst = t.segment(dst, run)
		case letter:
			dst = append(dst, string(run))
		}
		run = run[:0]
	}
	for _, r := range text {
		r, c := classify(r)
		if c != cur {
			flush()
			cur = c
		}
		if c != separator {
			run = append(run, r)
		}
	}
	flush()
	return dst
}

// segment splits a Hangul run into dictionary words, longest first, left to right.
func (t *Tokenizer) segment(dst []string, run []rune) []string {
	unknown := -1 // start of the pending piece not in the dictionary
	afterWord := false
	flushUnknown := func(end int) {
		if unknown < 0 {
			return
		}
		piece := string(run[unknown:end])
		if _, ok := t.suffixes[piece]; !ok || !afterWord {
			dst = append(dst, piece)
		}
		unknown = -1
		afterWord = false
	}
	for i := 0; i < len(run); {
		n := t.longestWord(run[i:])
		if n == 0 {
			if unknown < 0 {
				unknown = i
			}
			i++
			continue
		}
		flushUnknown(i)
		dst = append(dst, string(run[i:i+n]))
		afterWord = true
		i += n
	}
	flushUnknown(len(run))
	return dst
}

// longestWord returns the length in runes of the longest dictionary word run starts with, or 0.
func (t *Tokenizer) longestWord(run []rune) int {
	var buf [64]byte
	for n := min(t.maxRunes, len(run)); n > 0; n-- {
		b := buf[:0]
		for _, r := range run[:n] {
			b = utf8.AppendRune(b, r)
		}
		if _, ok := t.words[string(b)]; ok { // no allocation: map lookup by converted []byte
			return n
		}
	}
	return 0
}

// Knows reports whether word is in the tokenizer's dictionary.
func (t *Tokenizer) Knows(word string) bool {
	_, ok := t.words[word]
	return ok
}
