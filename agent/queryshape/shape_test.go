package queryshape_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

func mustShape(t testing.TB, body string) queryshape.Shape {
	t.Helper()
	s, err := queryshape.Search([]byte(body))
	if err != nil {
		t.Fatalf("Search(%.80s): %v", body, err)
	}
	return s
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// checkShape asserts what every shape promises: a 16-hex-digit id, a summary of at most MaxSummary bytes,
// valid UTF-8.
func checkShape(t testing.TB, s queryshape.Shape) {
	t.Helper()
	if !idPattern.MatchString(s.ID) {
		t.Errorf("id %q", s.ID)
	}
	if len(s.Summary) > queryshape.MaxSummary || !utf8.ValidString(s.Summary) || !utf8.ValidString(s.Canonical) {
		t.Errorf("summary %q (%d bytes), canonical valid %v", s.Summary, len(s.Summary), utf8.ValidString(s.Canonical))
	}
}

func TestSameShape(t *testing.T) {
	for _, tc := range []struct{ name, a, b string }{
		{"literals", `{"query":{"match":{"title":"running shoes"}},"size":10}`,
			`{"query":{"match":{"title":"laptop"}},"size":7}`},
		{"key order", `{"size":10,"query":{"bool":{"must":[{"term":{"brand":"nike"}}],"filter":[{"range":{"price":{"gte":1,"lte":9}}}]}}}`,
			`{"query":{"bool":{"filter":[{"range":{"price":{"lte":99,"gte":10}}}],"must":[{"term":{"brand":"adidas"}}]}},"size":9}`},
		{"array length within a bucket", `{"query":{"terms":{"brand":["a","b"]}}}`, `{"query":{"terms":{"brand":["a","b","c","d"]}}}`},
		{"array order of like elements", `{"query":{"bool":{"should":[{"match":{"title":"a"}},{"term":{"brand":"b"}}]}}}`,
			`{"query":{"bool":{"should":[{"term":{"brand":"x"}},{"match":{"title":"y"}}]}}}`},
		{"booleans, floats, null are literals", `{"query":{"term":{"in_stock":true}},"min_score":0.5}`,
			`{"query":{"term":{"in_stock":null}},"min_score":12}`},
		{"script params", `{"query":{"script_score":{"query":{"match_all":{}},"script":{"source":"_score*params.f","params":{"f":1}}}}}`,
			`{"query":{"script_score":{"query":{"match_all":{}},"script":{"params":{"f":2,"g":[1,2,3]},"source":"_score*params.f"}}}}`},
		{"field boosts", `{"query":{"multi_match":{"query":"a","fields":["title^3","description"]}}}`,
			`{"query":{"multi_match":{"query":"b","fields":["title^1.5","description"]}}}`},
		{"escapes in keys and kept strings", `{"query":{"match":{"title":"a"}},"_source":["title"]}`,
			`{"query":{"match":{"\u0074itle":"a"}},"_source":["ti\u0074le"]}`},
		{"like elements in another mix and order", `{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"body":{"query":"b","operator":"and"}}},{"match":{"title":"c"}}]}}}`,
			`{"query":{"bool":{"should":[{"match":{"body":{"operator":"and","query":"x"}}},{"match":{"title":"y"}}]}}}`},
		{"whitespace", `{"query":{"match":{"title":"a"}}}`, " {\n  \"query\" : { \"match\" : { \"title\" : \"b\" } }\n}\n"},
		{"size within a bucket", `{"size":11}`, `{"size":20}`},
		{"a field named like an option", `{"query":{"term":{"type":"shirt"}}}`, `{"query":{"term":{"type":"shoe"}}}`},
		{"a script's source escaped differently", `{"script_fields":{"f":{"script":{"source":"a<b"}}}}`,
			`{"script_fields":{"f":{"script":{"source":"a\u003cb"}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustShape(t, tc.a), mustShape(t, tc.b)
			checkShape(t, a)
			if a.ID != b.ID || a.Summary != b.Summary {
				t.Errorf("different shapes:\n%s %s\n%s %s", a.ID, a.Canonical, b.ID, b.Canonical)
			}
		})
	}
}

func TestDifferentShape(t *testing.T) {
	for _, tc := range []struct{ name, a, b string }{
		{"query type", `{"query":{"match":{"title":"a"}}}`, `{"query":{"match_phrase":{"title":"a"}}}`},
		{"field", `{"query":{"match":{"title":"a"}}}`, `{"query":{"match":{"description":"a"}}}`},
		{"option added", `{"query":{"match":{"title":{"query":"a"}}}}`, `{"query":{"match":{"title":{"query":"a","operator":"and"}}}}`},
		{"option value", `{"query":{"match":{"title":{"query":"a","operator":"or"}}}}`, `{"query":{"match":{"title":{"query":"a","operator":"and"}}}}`},
		{"array bucket 1 / 2–4", `{"query":{"terms":{"b":["a"]}}}`, `{"query":{"terms":{"b":["a","b"]}}}`},
		{"array bucket 2–4 / 5–16", `{"query":{"terms":{"b":[1,2,3,4]}}}`, `{"query":{"terms":{"b":[1,2,3,4,5]}}}`},
		{"array bucket 5–16 / 17–64", `{"query":{"terms":{"b":` + numbers(16) + `}}}`, `{"query":{"terms":{"b":` + numbers(17) + `}}}`},
		{"array bucket 17–64 / 65+", `{"query":{"terms":{"b":` + numbers(64) + `}}}`, `{"query":{"terms":{"b":` + numbers(65) + `}}}`},
		{"empty array", `{"query":{"terms":{"b":[]}}}`, `{"query":{"terms":{"b":[1]}}}`},
		{"like elements, another option", `{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"body":{"query":"b"}}}]}}}`,
			`{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"body":{"query":"b","operator":"and"}}}]}}}`},
		{"a string or an object under one key", `{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"title":"b"}}]}}}`,
			`{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"title":{"query":"b"}}}]}}}`},
		{"another kind of element", `{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"title":"b"}}]}}}`,
			`{"query":{"bool":{"should":[{"match":{"title":"a"}},{"term":{"title":"b"}}]}}}`},
		{"size bucket", `{"size":10}`, `{"size":11}`},
		{"size 0", `{"size":0}`, `{"size":1}`},
		{"from", `{"size":10}`, `{"size":10,"from":10}`},
		{"script source", `{"query":{"script":{"script":"doc['a'].value > 1"}}}`, `{"query":{"script":{"script":"doc['b'].value > 1"}}}`},
		{"script by id", `{"query":{"script_score":{"query":{"match_all":{}},"script":{"id":"rank-v1"}}}}`,
			`{"query":{"script_score":{"query":{"match_all":{}},"script":{"id":"rank-v2"}}}}`},
		{"aggregation field", `{"aggs":{"a":{"terms":{"field":"brand"}}}}`, `{"aggs":{"a":{"terms":{"field":"category"}}}}`},
		{"aggregation size", `{"aggs":{"a":{"terms":{"field":"brand","size":10}}}}`, `{"aggs":{"a":{"terms":{"field":"brand","size":1000}}}}`},
		{"sort field", `{"sort":[{"price":"asc"}]}`, `{"sort":[{"rating":"asc"}]}`},
		{"sort string", `{"sort":["price"]}`, `{"sort":["rating"]}`},
		{"_source", `{"_source":["title"]}`, `{"_source":["title","description"]}`},
		{"track_total_hits", `{"track_total_hits":true}`, `{"track_total_hits":false}`},
		{"string and number", `{"query":{"term":{"a":"1"}}}`, `{"query":{"term":{"a":{"value":1}}}}`},
		{"nested object", `{"query":{"bool":{}}}`, `{"query":{"bool":[]}}`},
		{"truncated", `{"query":{"match":{"title":"a"}}}`, `{"query":{"match":{"title":"a"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustShape(t, tc.a), mustShape(t, tc.b)
			if a.ID == b.ID || a.Canonical == b.Canonical {
				t.Errorf("one shape %s for\n%s\n%s", a.ID, tc.a, tc.b)
			}
		})
	}
}

func numbers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "1"
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"query":{"bool":{"must":[{"multi_match":{"query":"x","fields":["title","description"]}}],` +
			`"should":[{"match":{"title":"a"}},{"match":{"title":"b"}},{"match":{"title":"c"}},{"match":{"title":"d"}},{"match":{"title":"e"}}]}},"size":20}`,
			"bool(must: multi_match[description,title], should: match[title]×5–16) size≤20"},
		{`{"query":{"script_score":{"query":{"match":{"title":"a"}},"script":{"source":"_score * 2"}}},"size":10}`,
			"match[title] script_score(script " + scriptHash4("_score * 2") + ") size≤10"},
		{`{"query":{"script_score":{"query":{"match_all":{}},"script":{"id":"rank"}}}}`, "match_all script_score(script id rank)"},
		{`{"query":{"term":{"type":"shirt"}}}`, "term[type]"},
		{`{"query":{"bool":{"must":[{"script_score":{"query":{"match":{"t":"x"}},"script":"s"}}]}}}`,
			"bool(must: script_score(match[t], script " + scriptHash4("s") + "))"},
		{`{"query":{"range":{"price":{"gte":1}}}}`, "range[price]"},
		{`{"size":0,"aggs":{"brands":{"terms":{"field":"brand"},"aggs":{"p":{"avg":{"field":"price"}}}}}}`, "aggs(terms[brand], >(avg[price])) size 0"},
		{`{"query":{"match_all":{}},"sort":[{"price":"asc"},"_score"],"from":20,"size":10}`, "match_all sort[_score,price] size≤10 from≤20"},
		{`{"query":{"bool":{"filter":[{"term":{"a":1}},{"match":{"b":"x"}}],"should":[{"match":{"t":"x"}}]}}}`,
			"bool(filter: (match[b], term[a])×2–4, should: match[t])"},
		{`{"query":{"function_score":{"query":{"match":{"t":"x"}},"functions":[{"field_value_factor":{"field":"pop"}}]}}}`,
			"match[t] function_score(field_value_factor[pop])"},
	} {
		s := mustShape(t, tc.body)
		checkShape(t, s)
		if s.Summary != tc.want {
			t.Errorf("summary of %s\n got %s\nwant %s", tc.body, s.Summary, tc.want)
		}
	}
}

func TestSummaryCut(t *testing.T) {
	var clauses []string
	for i := range 40 {
		clauses = append(clauses, `{"match":{"field_number_`+strings.Repeat("x", i)+`":"a"}}`)
	}
	s := mustShape(t, `{"query":{"bool":{"should":[`+strings.Join(clauses, ",")+`]}}}`)
	checkShape(t, s)
	if len(s.Summary) != queryshape.MaxSummary || !strings.HasSuffix(s.Summary, "…") {
		t.Errorf("summary %q (%d bytes): want %d bytes ending with …", s.Summary, len(s.Summary), queryshape.MaxSummary)
	}
	short := mustShape(t, `{"query":{"match":{"title":"x"}}}`)
	if short.Summary != "match[title]" {
		t.Errorf("short summary %q", short.Summary)
	}
}

func TestTruncated(t *testing.T) {
	body := `{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"title":"b"}}],"filter":[{"term":{"brand":"x"}}]}},"size":10}`
	whole := mustShape(t, body)
	if whole.Truncated {
		t.Fatalf("a whole body marked truncated")
	}
	for cut := 1; cut < len(body); cut++ {
		s := mustShape(t, body[:cut])
		checkShape(t, s)
		if !s.Truncated || s.ID == whole.ID || !strings.HasSuffix(s.Canonical, "✂") {
			t.Fatalf("cut at %d: %+v", cut, s)
		}
	}
	// An agent that marks the cut with "..." after it: the same, the JSON turns invalid where it was cut.
	a, b := mustShape(t, body[:60]), mustShape(t, body[:60]+"...")
	if a.ID != b.ID || !b.Truncated {
		t.Errorf("cut %s, cut and marked %s (truncated %v)", a.Canonical, b.Canonical, b.Truncated)
	}
	// A body longer than MaxBody is shaped from its first MaxBody bytes.
	long := `{"query":{"match":{"title":"` + strings.Repeat("a", queryshape.MaxBody) + `"}}}`
	if s := mustShape(t, long); !s.Truncated {
		t.Errorf("a body of %d bytes not marked truncated", len(long))
	}
	exact := `{"query":{"match":{"title":"` + strings.Repeat("a", queryshape.MaxBody-len(`{"query":{"match":{"title":""}}}`)) + `"}}}`
	if s := mustShape(t, exact); len(exact) != queryshape.MaxBody || s.Truncated {
		t.Errorf("a body of exactly MaxBody (%d) bytes: truncated %v", len(exact), s.Truncated)
	}
}

func TestNotJSON(t *testing.T) {
	for _, body := range []string{"", "   ", "user:kimchy", `["a"]`, `"query"`, "\x00\x01", "SELECT 1"} {
		if s, err := queryshape.Search([]byte(body)); err != queryshape.ErrNotJSON {
			t.Errorf("Search(%q) = %+v, %v; want ErrNotJSON", body, s, err)
		}
	}
}

func TestMultiSearch(t *testing.T) {
	a := `{"query":{"match":{"title":"a"}}}`
	b := `{"query":{"term":{"brand":"x"}},"size":0}`
	body := "{\"index\":\"products\"}\n" + a + "\n{}\n" + b + "\n{\"index\":\"products\"}\n" + strings.ReplaceAll(a, `"a"`, `"z"`) + "\n"
	shapes := queryshape.MultiSearch([]byte(body), false)
	if len(shapes) != 3 {
		t.Fatalf("%d shapes, want 3", len(shapes))
	}
	if shapes[0].ID != mustShape(t, a).ID || shapes[1].ID != mustShape(t, b).ID || shapes[2].ID != shapes[0].ID {
		t.Errorf("shapes %+v", shapes)
	}
	combined, ok := queryshape.Request("/products/_msearch", []byte(body))
	if !ok || combined.ID == shapes[0].ID || !strings.HasPrefix(combined.Summary, "msearch×2–4(") {
		t.Errorf("combined %+v", combined)
	}
	// The order of the searches does not matter; their kinds do.
	swapped := "{}\n" + b + "\n{}\n" + a + "\n{}\n" + a + "\n"
	if s, _ := queryshape.Request("/_msearch", []byte(swapped)); s.ID != combined.ID {
		t.Errorf("swapped: %s, want %s", s.Canonical, combined.Canonical)
	}
	if s, _ := queryshape.Request("/_msearch", []byte("{}\n"+a+"\n{}\n"+a+"\n")); s.ID == combined.ID {
		t.Errorf("two searches of one kind share the shape of two kinds")
	}
	// One search: its own shape.
	if s, _ := queryshape.Request("/_msearch", []byte("{}\n"+a+"\n")); s.ID != shapes[0].ID {
		t.Errorf("one search in an _msearch: %+v", s)
	}
	if _, ok := queryshape.Request("/_msearch", []byte("{}\n")); ok {
		t.Errorf("an _msearch without a search has a shape")
	}
}

func TestTemplate(t *testing.T) {
	byID1, _ := queryshape.Request("/products/_search/template", []byte(`{"id":"by-title","params":{"q":"shoes","size":10}}`))
	byID2, _ := queryshape.Request("/products/_search/template", []byte(`{"params":{"q":"laptop"},"id":"by-title"}`))
	other, _ := queryshape.Request("/products/_search/template", []byte(`{"id":"by-brand","params":{"q":"shoes"}}`))
	inline, ok := queryshape.Request("/_search/template", []byte(`{"source":"{\"query\":{\"match\":{\"title\":\"{{q}}\"}}}","params":{"q":"x"}}`))
	if !ok || byID1.ID != byID2.ID || byID1.ID == other.ID || inline.ID == byID1.ID {
		t.Errorf("template shapes %+v %+v %+v %+v", byID1, byID2, other, inline)
	}
	if byID1.Summary != "template(script id by-title)" {
		t.Errorf("summary %q", byID1.Summary)
	}
}
