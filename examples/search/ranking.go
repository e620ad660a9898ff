package search

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/hotpath-apm/hotpath/examples/search/catalog"
)

// defaultScript weighs relevance (_score) by popularity and rating.
const defaultScript = "_score * (1 + 0.1 * Math.log1p(doc['popularity'].value)) * (0.6 + 0.1 * doc['rating'].value)"

// PersonalizedHistory is how many recently viewed products the personalized script scores every match
// against: the script's size, and so its cost per document, grows with it.
const PersonalizedHistory = 150

// personalizedScript is defaultScript times a similarity to the user's last PersonalizedHistory viewed
// products: same brand, same category, and a price close to theirs (a Gaussian decay). Painless would
// loop over a params array; the script is written out term by term, so that it runs as written on a
// real cluster and on the stand-in (which evaluates expressions only). It is built once: only params
// change between users, so Elasticsearch compiles it once.
func personalizedScript() string {
	var b strings.Builder
	b.WriteString(defaultScript)
	b.WriteString(" * (1 + 0.01 * (0")
	for i := range PersonalizedHistory {
		fmt.Fprintf(&b, " + (doc['brand'].value == params.b%d ? 1 : 0)", i)
		fmt.Fprintf(&b, " + (doc['category'].value == params.c%d ? 0.5 : 0)", i)
		fmt.Fprintf(&b, " + decayNumericGauss(params.p%d, params.price_scale, 0, 0.5, doc['price'].value)", i)
	}
	b.WriteString("))")
	return b.String()
}

// history returns the params of the personalized script for user: the brands, categories and prices of
// products they viewed, made up from their name (deterministic: the same user ranks the same way).
func history(user string) map[string]any {
	h := fnv.New64a()
	h.Write([]byte(user))
	x := h.Sum64()
	next := func(n int) int {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return int(x % uint64(n))
	}
	cats := catalog.Categories()
	params := map[string]any{"price_scale": 50000}
	for i := range PersonalizedHistory {
		c := cats[next(len(cats))]
		k := c.Kinds[next(len(c.Kinds))]
		params[fmt.Sprintf("b%d", i)] = c.Brands[next(len(c.Brands))].ID
		params[fmt.Sprintf("c%d", i)] = c.ID
		params[fmt.Sprintf("p%d", i)] = (k.MinPrice + k.MaxPrice) / 2
	}
	return params
}
