package search

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestQueryBody checks the shape of the query against the stand-in's and Elasticsearch's DSL: one bool
// clause per unit, multi-word text matched with operator and, filters, the script and its params.
func TestQueryBody(t *testing.T) {
	exp := DefaultSynonyms().Expand([]string{"running", "shoes", "zz"})
	req := Request{Q: "running shoes zz", Category: "shoes", Brand: "nike", MinPrice: 10, MaxPrice: 20, Size: 5, From: 5}
	b, err := queryBody(req, exp, defaultScript, nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Size, From int
		Query      struct {
			ScriptScore struct {
				Query struct {
					Bool struct {
						Should             []json.RawMessage
						MinimumShouldMatch int `json:"minimum_should_match"`
						Filter             []json.RawMessage
					}
				}
				Script struct {
					Source string
					Params map[string]any
				}
			} `json:"script_score"`
		}
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	q := body.Query.ScriptScore
	if body.Size != 5 || body.From != 5 || len(q.Query.Bool.Should) != 2 || q.Query.Bool.MinimumShouldMatch != 2 ||
		len(q.Query.Bool.Filter) != 3 || q.Script.Source != defaultScript || q.Script.Params != nil {
		t.Errorf("body %s", b)
	}
	if first := string(q.Query.Bool.Should[0]); !strings.Contains(first, `{"match":{"title_terms":{"boost":3,"operator":"and","query":"running shoes"}}}`) ||
		!strings.Contains(first, `{"match":{"description_terms":{"boost":0.5,"query":"러닝화"}}}`) {
		t.Errorf("first unit %s", first)
	}
	for _, f := range []string{`{"term":{"category":"shoes"}}`, `{"term":{"brand":"nike"}}`, `{"range":{"price":{"gte":10,"lte":20}}}`} {
		if !strings.Contains(string(b), f) {
			t.Errorf("no filter %s in %s", f, b)
		}
	}
	// Many units: three quarters must match, and no more than MaxQueryUnits are sent.
	var tokens []string
	for i := range MaxQueryUnits + 10 {
		tokens = append(tokens, fmt.Sprintf("w%d", i))
	}
	b, _ = queryBody(Request{Size: 1}, DefaultSynonyms().Expand(tokens), defaultScript, nil)
	json.Unmarshal(b, &body)
	if n := len(body.Query.ScriptScore.Query.Bool.Should); n != MaxQueryUnits || body.Query.ScriptScore.Query.Bool.MinimumShouldMatch != MaxQueryUnits-MaxQueryUnits/4 {
		t.Errorf("%d units sent, minimum %d", n, body.Query.ScriptScore.Query.Bool.MinimumShouldMatch)
	}
}

func TestPersonalizedScript(t *testing.T) {
	s := personalizedScript()
	if !strings.HasPrefix(s, defaultScript) || strings.Count(s, "decayNumericGauss") != PersonalizedHistory || len(s) > 65535 {
		t.Errorf("script %.200s...", s)
	}
	h1, h2 := history("u1"), history("u1")
	if fmt.Sprint(h1) != fmt.Sprint(h2) || fmt.Sprint(h1) == fmt.Sprint(history("u2")) || len(h1) != 3*PersonalizedHistory+1 {
		t.Error("history is not a function of the user")
	}
}
