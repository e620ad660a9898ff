package search

import (
	"slices"
	"strings"
)

// Unit is a part of a query: one token, or several tokens that together are a synonym's term ("running
// shoes"). Each unit is one required clause of the Elasticsearch query, matched by its text or any of its
// alternatives.
type Unit struct {
	Text         string   `json:"text"`                   // the query's own tokens, space-separated
	Tokens       int      `json:"tokens"`                 // how many query tokens Text holds
	Alternatives []string `json:"alternatives,omitempty"` // synonyms of Text, in file order, without Text
}

// Expansion is a query's units, and how much work finding them took.
type Expansion struct {
	Units []Unit
	// Ops counts the expansion's elementary steps: dictionary lookups (Expand), or span-to-term
	// comparisons (expandSynonyms). Tests and benchmarks use it to tell linear from quadratic without
	// timing anything.
	Ops int
}

// Synonyms returns how many alternatives the expansion added in all.
func (e Expansion) Synonyms() int {
	n := 0
	for _, u := range e.Units {
		n += len(u.Alternatives)
	}
	return n
}

// Expand splits tokens into units and finds their synonyms, the way it should be done: at each position,
// the spans no longer than the longest synonym term are looked up in the term index, longest first;
// the longest that matches is a unit. O(n × MaxTokens) lookups for n tokens.
func (s *Synonyms) Expand(tokens []string) Expansion {
	var e Expansion
	var buf []byte
	for start := 0; start < len(tokens); {
		length, rules := 1, []int(nil)
		for l := min(s.maxTokens, len(tokens)-start); l >= 1; l-- {
			buf = appendPhrase(buf[:0], tokens[start:start+l])
			e.Ops++
			if r, ok := s.byTerm[string(buf)]; ok {
				length, rules = l, r
				break
			}
		}
		e.Units = append(e.Units, s.unit(tokens[start:start+length], rules))
		start += length
	}
	return e
}

// expandSynonyms finds the same units as Expand, but it is accidentally quadratic: at each position it
// tries every span to the end of the query, not only those as long as a synonym term can be, and it
// compares each span with every term of the file, normalizing the term (case, spaces) as it goes, where
// Expand looks the span up in an index of terms normalized once. So a query of n tokens costs about
// n²/2 × Terms() comparisons: nothing for "나이키 운동화", hundreds of milliseconds of CPU for a
// product description pasted into the search box. This is the trouble Trouble.QuadraticSynonyms turns on;
// its CPU profile shows this function on top.
func expandSynonyms(s *Synonyms, tokens []string) Expansion {
	var e Expansion
	var span, term []byte
	for start := 0; start < len(tokens); {
		length, rules := 1, []int(nil)
		for end := start + 1; end <= len(tokens); end++ {
			span = appendPhrase(span[:0], tokens[start:end])
			var matched []int
			for id := range s.rules {
				for _, written := range s.rules[id].match {
					e.Ops++
					// Normalize the term as written: one space between words (and lower-case ASCII, in
					// case the file was not lowered when loaded).
					term = term[:0]
					space := false
					for i := 0; i < len(written); i++ {
						c := written[i]
						switch {
						case c == ' ' || c == '\t':
							space = len(term) > 0
							continue
						case 'A' <= c && c <= 'Z':
							c += 'a' - 'A'
						}
						if space {
							term = append(term, ' ')
							space = false
						}
						term = append(term, c)
					}
					if len(term) != len(span) {
						continue
					}
					same := true
					for i := range term {
						if term[i] != span[i] {
							same = false
							break
						}
					}
					if same {
						matched = append(matched, id)
					}
				}
			}
			if matched != nil {
				length, rules = end-start, matched
			}
		}
		e.Units = append(e.Units, s.unit(tokens[start:start+length], rules))
		start += length
	}
	return e
}

// unit builds the unit of tokens, with the expansions of rules (in file order, each once, without the
// unit's own text).
func (s *Synonyms) unit(tokens []string, rules []int) Unit {
	u := Unit{Text: strings.Join(tokens, " "), Tokens: len(tokens)}
	for _, id := range dedupInts(rules) {
		for _, t := range s.rules[id].expand {
			if t != u.Text && !slices.Contains(u.Alternatives, t) {
				u.Alternatives = append(u.Alternatives, t)
			}
		}
	}
	return u
}

func dedupInts(ids []int) []int {
	var out []int
	for _, id := range ids {
		if len(out) == 0 || out[len(out)-1] != id {
			out = append(out, id)
		}
	}
	return out
}

// appendPhrase appends tokens joined by single spaces.
func appendPhrase(dst []byte, tokens []string) []byte {
	for i, t := range tokens {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, t...)
	}
	return dst
}
