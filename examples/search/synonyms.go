package search

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
)

//go:embed synonyms.txt
var defaultSynonyms string

// MaxSynonymLines bounds a synonyms file.
const MaxSynonymLines = 100_000

// Synonyms is a parsed synonyms file: rules that make a query's words also search other words.
type Synonyms struct {
	rules []rule
	// byTerm maps a normalized term to the rules it triggers, in file order.
	byTerm map[string][]int
	// maxTokens is the most tokens a triggering term has: no query span longer can match.
	maxTokens int
}

// rule is one line: equivalent terms ("a, b, c": match and expand are the same list), or a one-way rule
// ("a => b, c").
type rule struct {
	match  []string // lower-cased, spaced as written: expandSynonyms normalizes the spaces as it compares
	expand []string // normalized
}

// DefaultSynonyms returns the synonyms shipped with the example (synonyms.txt).
func DefaultSynonyms() *Synonyms {
	s, err := ParseSynonyms(strings.NewReader(defaultSynonyms))
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return s
}

// ParseSynonyms reads a synonyms file in Solr's format, one rule a line:
//
//	a, b, c      equivalent terms: a query for any also searches the others
//	a => b, c    one way: a query for a also searches b and c
//
// Blank lines and lines starting with # are ignored. Terms are compared case-insensitively, with runs of
// spaces as one: "Running  Shoes" is "running shoes". A rule with an empty term, or fewer than two terms
// in all, is an error naming its line.
func ParseSynonyms(r io.Reader) (*Synonyms, error) {
	s := &Synonyms{byTerm: map[string][]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<10)
	for line := 1; sc.Scan(); line++ {
		if line > MaxSynonymLines {
			return nil, fmt.Errorf("synonyms: more than %d lines", MaxSynonymLines)
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var rl rule
		lhs, rhs, oneWay := strings.Cut(strings.ToLower(text), "=>")
		var err error
		if rl.match, err = splitTerms(lhs); err != nil {
			return nil, fmt.Errorf("synonyms: line %d: %w", line, err)
		}
		if oneWay {
			if rl.expand, err = splitTerms(rhs); err != nil {
				return nil, fmt.Errorf("synonyms: line %d: %w", line, err)
			}
		} else {
			if len(rl.match) < 2 {
				return nil, fmt.Errorf("synonyms: line %d: %q: equivalent terms need at least two", line, text)
			}
			rl.expand = rl.match
		}
		expand := make([]string, len(rl.expand))
		for i, t := range rl.expand {
			expand[i] = normalizeTerm(t)
		}
		rl.expand = expand
		id := len(s.rules)
		s.rules = append(s.rules, rl)
		for _, t := range rl.match {
			n := normalizeTerm(t)
			s.byTerm[n] = append(s.byTerm[n], id)
			s.maxTokens = max(s.maxTokens, strings.Count(n, " ")+1)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("synonyms: %w", err)
	}
	return s, nil
}

func splitTerms(list string) ([]string, error) {
	parts := strings.Split(list, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		t := strings.TrimSpace(p)
		if t == "" {
			return nil, fmt.Errorf("%q: empty term", list)
		}
		out = append(out, t)
	}
	return out, nil
}

// normalizeTerm lower-cases a term and makes each run of spaces one space.
func normalizeTerm(t string) string {
	return strings.Join(strings.Fields(strings.ToLower(t)), " ")
}

// Rules returns how many rules there are.
func (s *Synonyms) Rules() int { return len(s.rules) }

// Terms returns how many triggering terms there are: what expandSynonyms compares every query span with.
func (s *Synonyms) Terms() int {
	n := 0
	for _, r := range s.rules {
		n += len(r.match)
	}
	return n
}

// MaxTokens returns the most tokens a triggering term has.
func (s *Synonyms) MaxTokens() int { return s.maxTokens }

// AllTerms returns every term of the file, normalized, each once, in file order.
func (s *Synonyms) AllTerms() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range s.rules {
		for _, list := range [][]string{r.match, r.expand} {
			for _, t := range list {
				n := normalizeTerm(t)
				if !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
	}
	return out
}
