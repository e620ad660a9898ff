// Package catalog generates the product catalog the search example searches: products of a Korean
// online shop, with titles and descriptions in Korean and English, brands, categories, prices, ratings
// and popularity. The catalog is a pure function of its seed and size: the same (seed, n) gives the same
// products on every machine and Go version (the generator is the package's own splitmix64, not
// math/rand), so an index loaded from it and a stand-in loaded from it hold the same documents, and
// tests can name products.
package catalog

import (
	"fmt"
	"math"
	"strings"
)

// DefaultSeed and DefaultSize are the catalog the example's commands and the demo use.
const (
	DefaultSeed = 20240611
	DefaultSize = 20000
)

// MaxSize bounds Generate's n: a catalog is held in memory, twice (products and documents).
const MaxSize = 1_000_000

// Product is one item for sale. Its JSON form is the document indexed in Elasticsearch, less the
// segmented fields the search package adds.
type Product struct {
	ID          string   `json:"id"`          // "p000042": position in the catalog
	Title       string   `json:"title"`       // as shown, mixed Korean and English
	Description string   `json:"description"` // a few sentences
	Brand       string   `json:"brand"`       // brand ID, a keyword: "nike"
	Category    string   `json:"category"`    // category ID, a keyword: "shoes"
	Price       int      `json:"price"`       // in won
	Rating      float64  `json:"rating"`      // 1.0 to 5.0, one decimal
	Popularity  int      `json:"popularity"`  // units sold last month, heavy-tailed
	Tags        []string `json:"tags"`        // keywords: English feature names and colour
}

// Generate returns n products made from seed, IDs p000000 upwards. It panics if n is negative or above
// MaxSize (a programmer's error).
func Generate(seed uint64, n int) []Product {
	if n < 0 || n > MaxSize {
		panic(fmt.Sprintf("catalog: Generate(%d): n must be in [0, %d]", n, MaxSize))
	}
	r := newRNG(seed)
	products := make([]Product, n)
	for i := range products {
		products[i] = generateOne(&r, i)
	}
	return products
}

// categoryWeights is how often each category (in categories' order) is picked: a shop sells more
// clothes than kimchi.
var categoryWeights = []int{22, 26, 10, 18, 9, 9, 6}

func generateOne(r *rng, i int) Product {
	c := &categories[r.weighted(categoryWeights)]
	kind := c.Kinds[r.intn(len(c.Kinds))]
	brand := c.Brands[r.intn(len(c.Brands))]
	model := brand.Models[r.intn(len(brand.Models))]
	f1 := c.Features[r.intn(len(c.Features))]
	f2 := c.Features[r.intn(len(c.Features))]
	var color, audience Word
	if hasColor(c.ID) {
		color = colors[r.intn(len(colors))]
	}
	if hasAudience(c.ID) {
		audience = audiences[r.intn(len(audiences))]
	}

	var title []string
	switch r.intn(5) {
	case 0, 1: // Korean, the most common: [나이키] 남성 경량 러닝화 블랙 Air Zoom
		title = []string{"[" + brand.Ko + "]", audience.Ko, f1.Ko, kind.Ko, color.Ko, model}
	case 2: // English: Nike Air Zoom Running Shoes Black
		title = []string{brand.En, model, titleCase(kind.En), titleCase(color.En)}
	case 3: // mixed: 나이키 Air Zoom 러닝화 running shoes 경량
		title = []string{brand.Ko, model, kind.Ko, kind.En, f1.Ko}
	default: // Korean compounds without spaces, for the segmenter: 나이키경량러닝화 블랙
		title = []string{brand.Ko + f1.Ko + kind.Ko, color.Ko, audience.Ko + "용"}
		if audience.Ko == "" {
			title[2] = ""
		}
	}

	desc := []string{
		fmt.Sprintf("%s 정품 %s입니다.", brand.Ko, kind.Ko),
		fmt.Sprintf("%s 제품이라 %s에 좋아요.", f1.Ko, pick(r, "데일리", "운동", "여행", "출근", "선물")),
		fmt.Sprintf("Genuine %s %s, %s and %s.", brand.En, kind.En, f1.En, f2.En),
	}
	if r.intn(2) == 0 {
		desc = append(desc, fmt.Sprintf("%s 제품을 %s 가격으로 만나보세요.", f2.Ko, pick(r, "합리적인", "특별한", "착한")))
	}

	lo, hi := kind.MinPrice/100, kind.MaxPrice/100
	price := (lo + r.intn(hi-lo+1)) * 100
	price = max(price-price%1000+900, kind.MinPrice) // prices end in 900 won
	rating := math.Round((5-2.5*math.Pow(r.float(), 2.2))*10) / 10
	popularity := min(int(3/math.Pow(1-r.float(), 1.1)), 100000) // Pareto: most sell little

	tags := []string{f1.En}
	if f2 != f1 {
		tags = append(tags, f2.En)
	}
	if color.En != "" {
		tags = append(tags, color.En)
	}
	return Product{
		ID:          fmt.Sprintf("p%06d", i),
		Title:       joinNonEmpty(title),
		Description: strings.Join(desc, " "),
		Brand:       brand.ID,
		Category:    c.ID,
		Price:       price,
		Rating:      rating,
		Popularity:  popularity,
		Tags:        tags,
	}
}

func pick(r *rng, words ...string) string { return words[r.intn(len(words))] }

func joinNonEmpty(words []string) string {
	var b strings.Builder
	for _, w := range words {
		if w == "" || w == "[]" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// titleCase upper-cases the first letter of each word of an ASCII phrase.
func titleCase(s string) string {
	b := []byte(s)
	for i := range b {
		if (i == 0 || b[i-1] == ' ') && 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}
