package search

import (
	"encoding/json"
	"net/http"
)

// Answer is GET /search's JSON answer.
type Answer struct {
	Query    string   `json:"query"`
	Tokens   []string `json:"tokens"`    // the segmenter's terms
	Units    []Unit   `json:"units"`     // the query's parts, with their synonyms
	Ranking  Ranking  `json:"ranking"`   // the script that ranked the hits
	Total    int      `json:"total"`     // matching products (a lower bound when TotalGTE)
	TotalGTE bool     `json:"total_gte"` // Elasticsearch stopped counting
	TookMS   int      `json:"took_ms"`   // Elasticsearch's own time
	Hits     []Hit    `json:"hits"`
}

// Hit is one product found.
type Hit struct {
	ID       string  `json:"id"`
	Score    float64 `json:"score"`
	Title    string  `json:"title"`
	Brand    string  `json:"brand"`
	Category string  `json:"category"`
	Price    int     `json:"price"`
	Rating   float64 `json:"rating"`
}

func render(req Request, tokens []string, exp Expansion, ranking Ranking, r *esResult) []byte {
	a := Answer{Query: req.Q, Tokens: tokens, Units: exp.Units, Ranking: ranking,
		Total: r.Hits.Total.Value, TotalGTE: r.Hits.Total.Relation == "gte", TookMS: r.Took, Hits: []Hit{}}
	for _, h := range r.Hits.Hits {
		hit := Hit{ID: h.ID, Score: h.Score}
		json.Unmarshal(h.Source, &hit) // fields missing from a document stay empty
		hit.ID, hit.Score = h.ID, h.Score
		a.Hits = append(a.Hits, hit)
	}
	b, _ := json.Marshal(a)
	return append(b, '\n')
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(append(b, '\n'))
}
