package search

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hotpath-apm/hotpath/examples/search/catalog"
)

// QueryKind says which part of the traffic a query stands for.
type QueryKind string

// The kinds of queries a QueryMix draws.
const (
	// Popular queries are a few hundred short queries ("러닝화", "나이키 운동화", "laptop") drawn with a
	// Zipf distribution: the head of the traffic.
	Popular QueryKind = "popular"
	// Tail queries are made up of two to five catalog words, sometimes with a category or price filter:
	// each is nearly unique.
	Tail QueryKind = "tail"
	// Pathological queries are product text pasted into the search box: 120 to 220 words, slow with
	// Trouble.QuadraticSynonyms.
	Pathological QueryKind = "pathological"
)

// Default shares of the traffic, for NewQueryMix.
const (
	DefaultTailShare         = 0.18
	DefaultPathologicalShare = 0.015
)

// Query is a search request drawn by a QueryMix.
type Query struct {
	Kind   QueryKind
	Values url.Values // GET /search's parameters
}

// Path returns the request's path and query string: "/search?q=...".
func (q Query) Path() string { return "/search?" + q.Values.Encode() }

// QueryMix draws queries as a shop's traffic looks: mostly popular queries, a long tail, and a few
// pathological ones. It is deterministic for a seed, and not safe for concurrent use: give each load
// goroutine its own, with its own seed.
type QueryMix struct {
	// TailShare and PathologicalShare are the fractions of Tail and Pathological queries; the rest are
	// Popular. NewQueryMix sets the defaults.
	TailShare, PathologicalShare float64

	r        *rand.Rand
	zipf     *rand.Zipf
	popular  []string
	cats     []catalog.Category
	products []catalog.Product // text to paste
}

// NewQueryMix returns a mix drawing from the catalog's vocabulary with the default shares.
func NewQueryMix(seed uint64) *QueryMix {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	m := &QueryMix{TailShare: DefaultTailShare, PathologicalShare: DefaultPathologicalShare, r: r,
		cats: catalog.Categories(), products: catalog.Generate(seed, 200)}
	seen := map[string]bool{}
	add := func(q string) {
		if !seen[q] {
			seen[q] = true
			m.popular = append(m.popular, q)
		}
	}
	for _, c := range m.cats {
		add(c.Ko)
		for _, k := range c.Kinds {
			add(k.Ko)
			add(k.En)
			for _, b := range c.Brands {
				add(b.Ko + " " + k.Ko)
				add(strings.ToLower(b.En) + " " + k.En)
			}
		}
		for _, b := range c.Brands {
			add(b.Ko)
		}
	}
	// The popularity order: a fixed shuffle, so that rank 1 is not always the first category.
	r.Shuffle(len(m.popular), func(i, j int) { m.popular[i], m.popular[j] = m.popular[j], m.popular[i] })
	m.zipf = rand.NewZipf(r, 1.1, 2, uint64(len(m.popular)-1))
	return m
}

// PopularQueries returns the popular queries, the most frequent first.
func (m *QueryMix) PopularQueries() []string { return slices.Clone(m.popular) }

// Next draws a query.
func (m *QueryMix) Next() Query {
	x := m.r.Float64()
	switch {
	case x < m.PathologicalShare:
		return Query{Kind: Pathological, Values: url.Values{"q": {m.pasted()}}}
	case x < m.PathologicalShare+m.TailShare:
		return m.tail()
	}
	return Query{Kind: Popular, Values: url.Values{"q": {m.popular[m.zipf.Uint64()]}}}
}

func (m *QueryMix) tail() Query {
	c := m.cats[m.r.IntN(len(m.cats))]
	k := c.Kinds[m.r.IntN(len(c.Kinds))]
	b := c.Brands[m.r.IntN(len(c.Brands))]
	f := c.Features[m.r.IntN(len(c.Features))]
	colors, audiences := catalog.Colors(), catalog.Audiences()
	col, aud := colors[m.r.IntN(len(colors))], audiences[m.r.IntN(len(audiences))]
	var words []string
	if m.r.IntN(3) == 0 { // English
		words = []string{strings.ToLower(b.En), f.En, col.En, aud.En, k.En}
	} else {
		words = []string{b.Ko, f.Ko, col.Ko, aud.Ko, k.Ko}
	}
	// Keep the kind and 1 to 4 of the other words, in order.
	keep := 1 + m.r.IntN(4)
	var q []string
	for i, w := range words[:4] {
		if m.r.IntN(4-i) < keep {
			q = append(q, w)
			keep--
		}
	}
	q = append(q, words[4])
	v := url.Values{"q": {strings.Join(q, " ")}}
	if m.r.IntN(4) == 0 {
		v.Set("category", c.ID)
	}
	if m.r.IntN(5) == 0 {
		v.Set("max_price", strconv.Itoa((k.MinPrice+k.MaxPrice)/2))
	}
	if m.r.IntN(3) == 0 {
		v.Set("user", fmt.Sprintf("u%d", m.r.IntN(1000)))
	}
	return Query{Kind: Tail, Values: v}
}

// pasted returns the titles and descriptions of catalog products run together, 120 to 220 words.
func (m *QueryMix) pasted() string {
	target := 120 + m.r.IntN(101)
	var words []string
	for len(words) < target {
		p := m.products[m.r.IntN(len(m.products))]
		words = append(words, strings.Fields(p.Title+" "+p.Description)...)
	}
	return strings.Join(words[:target], " ")
}
