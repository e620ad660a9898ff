package catalog_test

import (
	"fmt"

	"github.com/hotpath-apm/hotpath/examples/search/catalog"
)

func ExampleGenerate() {
	products := catalog.Generate(catalog.DefaultSeed, 3)
	for _, p := range products {
		fmt.Println(p.ID, p.Category, p.Brand, p.Price)
	}
	// Output:
	// p000000 shoes adidas 394900
	// p000001 kitchen stanley 40900
	// p000002 shoes adidas 385900
}
