package search

import (
	"encoding/json"
	"strings"
)

// The fields searched, as SetupIndex maps them: the segmenter's terms of the title and description.
const (
	titleField       = "title_terms"
	descriptionField = "description_terms"
)

// Boosts: the query's own words count more than their synonyms, and titles more than descriptions.
const (
	boostTitle              = 3.0
	boostTitleSynonym       = 2.0
	boostDescription        = 1.0
	boostDescriptionSynonym = 0.5
)

// MaxQueryUnits bounds the units sent to Elasticsearch: the words of a longer query past it are not
// searched (they are still segmented and expanded). Each unit is a few clauses per synonym, and
// Elasticsearch refuses queries of more than a few thousand clauses.
const MaxQueryUnits = 64

type object = map[string]any

// queryBody returns the Elasticsearch search body for req: each unit of the expansion is a clause matched
// by its text or an alternative, in the title or the description; most units must match (all of one or
// two, three quarters of more; the first MaxQueryUnits units only); the filters restrict category, brand
// and price; the ranking script scores what matches.
func queryBody(req Request, exp Expansion, script string, params map[string]any) ([]byte, error) {
	units := make([]any, 0, min(len(exp.Units), MaxQueryUnits))
	for _, u := range exp.Units[:min(len(exp.Units), MaxQueryUnits)] {
		should := []any{
			match(titleField, u.Text, boostTitle), match(descriptionField, u.Text, boostDescription),
		}
		for _, alt := range u.Alternatives {
			should = append(should, match(titleField, alt, boostTitleSynonym), match(descriptionField, alt, boostDescriptionSynonym))
		}
		units = append(units, object{"bool": object{"should": should, "minimum_should_match": 1}})
	}
	var filters []any
	if req.Category != "" {
		filters = append(filters, object{"term": object{"category": req.Category}})
	}
	if req.Brand != "" {
		filters = append(filters, object{"term": object{"brand": req.Brand}})
	}
	if req.MinPrice > 0 || req.MaxPrice > 0 {
		r := object{}
		if req.MinPrice > 0 {
			r["gte"] = req.MinPrice
		}
		if req.MaxPrice > 0 {
			r["lte"] = req.MaxPrice
		}
		filters = append(filters, object{"range": object{"price": r}})
	}
	n := len(units)
	required := n
	if n > 2 {
		required = n - n/4
	}
	boolQuery := object{"should": units, "minimum_should_match": required}
	if filters != nil {
		boolQuery["filter"] = filters
	}
	scriptSpec := object{"source": script}
	if params != nil {
		scriptSpec["params"] = params
	}
	return json.Marshal(object{
		"size":    req.Size,
		"from":    req.From,
		"_source": []string{"title", "brand", "category", "price", "rating"},
		"query": object{"script_score": object{
			"query":  object{"bool": boolQuery},
			"script": scriptSpec,
		}},
	})
}

// match matches text in field: every word of it when it has several ("running shoes").
func match(field, text string, boost float64) object {
	m := object{"query": text, "boost": boost}
	if strings.Contains(text, " ") {
		m["operator"] = "and"
	}
	return object{"match": object{field: m}}
}
