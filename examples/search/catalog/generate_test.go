package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/fingerprint.txt")

// fingerprint is the SHA-256 of the JSON of Generate(seed, n).
func fingerprint(t *testing.T, seed uint64, n int) string {
	t.Helper()
	b, err := json.Marshal(Generate(seed, n))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestGenerateIsStable checks the catalog against the fingerprint recorded when it was designed: the same
// seed gives the same products on every machine and Go version. A change to the vocabulary or the
// generator changes it on purpose: rerun with -update and say so in the commit.
func TestGenerateIsStable(t *testing.T) {
	got := fingerprint(t, DefaultSeed, 5000)
	if *update {
		if err := os.WriteFile("testdata/fingerprint.txt", []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/fingerprint.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.TrimSpace(string(want)) {
		t.Errorf("Generate(DefaultSeed, 5000) fingerprint %s, recorded %s", got, want)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := Generate(7, 3000), Generate(7, 3000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two catalogs from seed 7 differ")
	}
	if prefix := Generate(7, 100); !reflect.DeepEqual(prefix, a[:100]) {
		t.Error("Generate(7, 100) is not the first 100 products of Generate(7, 3000)")
	}
	c := Generate(8, 3000)
	same := 0
	for i := range a {
		if a[i].Title == c[i].Title {
			same++
		}
	}
	if same > 300 {
		t.Errorf("seeds 7 and 8 share %d of 3000 titles", same)
	}
}

// TestGenerateShape checks what the search example relies on: every product is well-formed, prices are
// within their kind's band and end in 900 won, and the catalog covers every category, brand and kind.
func TestGenerateShape(t *testing.T) {
	products := Generate(DefaultSeed, 20000)
	kinds := map[string]Kind{}
	brands := map[string]bool{}
	seen := map[string]int{}
	for _, c := range Categories() {
		for _, k := range c.Kinds {
			kinds[c.ID+"/"+k.Ko] = k
		}
		for _, b := range c.Brands {
			brands[c.ID+"/"+b.ID] = true
		}
	}
	ids := map[string]bool{}
	compounds := 0
	for _, p := range products {
		if ids[p.ID] || len(p.ID) != 7 || p.ID[0] != 'p' {
			t.Fatalf("bad or repeated ID %q", p.ID)
		}
		ids[p.ID] = true
		if !brands[p.Category+"/"+p.Brand] {
			t.Fatalf("%s: brand %q not sold in %q", p.ID, p.Brand, p.Category)
		}
		seen[p.Category+"/"+p.Brand]++
		var kind *Kind
		for key, k := range kinds {
			if strings.HasPrefix(key, p.Category+"/") && strings.Contains(p.Description, " "+k.Ko+"입니다") {
				kind = &k
				seen[key]++
				break
			}
		}
		if kind == nil {
			t.Fatalf("%s: no kind of %s found in %q", p.ID, p.Category, p.Description)
		}
		if p.Price < kind.MinPrice || p.Price > kind.MaxPrice+900 || p.Price%1000 != 900 {
			t.Errorf("%s: price %d outside %d..%d or not ending in 900", p.ID, p.Price, kind.MinPrice, kind.MaxPrice)
		}
		if p.Rating < 1 || p.Rating > 5 || p.Popularity < 1 || p.Popularity > 100000 || len(p.Tags) == 0 {
			t.Errorf("%s: rating %v popularity %d tags %v", p.ID, p.Rating, p.Popularity, p.Tags)
		}
		if strings.Contains(p.Title, "  ") || strings.TrimSpace(p.Title) != p.Title || p.Title == "" {
			t.Errorf("%s: title %q", p.ID, p.Title)
		}
		if !strings.Contains(p.Title, " ") || strings.HasSuffix(p.Title, "용") {
			compounds++
		}
	}
	for key := range kinds {
		if seen[key] == 0 {
			t.Errorf("no product of kind %s", key)
		}
	}
	for key := range brands {
		if seen[key] == 0 {
			t.Errorf("no product of brand %s", key)
		}
	}
	if compounds < 1000 {
		t.Errorf("%d titles with Korean compounds, want a good share for the segmenter", compounds)
	}
}

func TestGenerateBounds(t *testing.T) {
	if n := len(Generate(1, 0)); n != 0 {
		t.Errorf("Generate(1, 0) has %d products", n)
	}
	for _, n := range []int{-1, MaxSize + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Generate(1, %d) did not panic", n)
				}
			}()
			Generate(1, n)
		}()
	}
}

func TestVocabularyCopies(t *testing.T) {
	c := Categories()
	c[0].Kinds[0].Ko = "changed"
	c[0].Brands[0].Models[0] = "changed"
	c[0].Features[0].Ko = "changed"
	again := Categories()
	if again[0].Kinds[0].Ko == "changed" || again[0].Brands[0].Models[0] == "changed" || again[0].Features[0].Ko == "changed" {
		t.Error("Categories returned the package's own tables")
	}
	words := KoreanWords()
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] || w == "" {
			t.Errorf("KoreanWords: %q repeated or empty", w)
		}
		seen[w] = true
	}
	for _, w := range []string{"러닝화", "나이키", "블랙", "남성", "노이즈캔슬링", "정품"} {
		if !seen[w] {
			t.Errorf("KoreanWords lacks %q", w)
		}
	}
}
