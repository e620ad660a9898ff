package esstandin

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// testIndex returns an index with testMapping's fields holding one document.
func testIndex(t testing.TB) *index {
	t.Helper()
	var cb createBody
	if err := json.Unmarshal([]byte(testMapping), &cb); err != nil {
		t.Fatal(err)
	}
	st, e := parseSettings(cb.Settings)
	if e != nil {
		t.Fatal(e)
	}
	m, e := parseMappings(cb.Mappings, st)
	if e != nil {
		t.Fatal(e)
	}
	ix := newIndex("items", m)
	src := []byte(`{"title":"Red Shoes","brand":"nike","tags":["sale","red"],"price":250,"rating":4.3,"score":0.25}`)
	pd, e := ix.parseDoc(src)
	if e != nil {
		t.Fatal(e)
	}
	ix.put("d0", src, pd)
	return ix
}

func evalScript(ix *index, source, params string) (float64, error) {
	spec := map[string]any{"source": source}
	if params != "" {
		dec := json.NewDecoder(strings.NewReader(params))
		dec.UseNumber()
		var p map[string]any
		if err := dec.Decode(&p); err != nil {
			return 0, err
		}
		spec["params"] = p
	}
	s, e := parseScriptSpec(spec)
	if e != nil {
		return 0, e
	}
	return s.run(&env{ix: ix, doc: 0, score: 1.5})
}

func TestScripts(t *testing.T) {
	ix := testIndex(t)
	for _, tc := range []struct {
		source, params string
		want           float64
	}{
		{"_score", "", 1.5},
		{"return _score * 2;", "", 3},
		{"7 / 2", "", 3}, // long division
		{"7.0 / 2", "", 3.5},
		{"7 % 4 + 2 * 3 - 1", "", 8},
		{"-(1 + 2) * 2", "", -6},
		{"doc['price'].value", "", 250},
		{"doc['rating'].value", "", float64(float32(4.3))}, // a float field holds float32 values
		{"doc['score'].value", "", 0.25},
		{"doc['brand'].value == 'nike' ? 10 : 1", "", 10},
		{`doc['brand'].value != "adidas" && doc['tags'].size() == 2 ? 1 : 0`, "", 1},
		{"doc['tags'].value == 'red' ? 1 : 2", "", 1}, // values sorted: "red" before "sale"
		{"doc['tags'].empty || doc['price'].isEmpty() ? 1 : 0", "", 0},
		{"params.w * params['k']", `{"w":2,"k":1.5}`, 3},
		{"params.list[1] + params.list.size() + params.list.get(0)", `{"list":[10,20,30]}`, 33},
		{"params.m.a + (params.m.containsKey('b') ? 100 : 0) + (params.list.contains(20) ? 1 : 0)", `{"m":{"a":5},"list":[20]}`, 6},
		{"params.missing == null ? 1 : 0", "", 1},
		{"Math.log(Math.E)", "", math.NaN()}, // Math.E is not a thing the stand-in knows: see errors
		{"Math.log1p(doc['price'].value) + Math.sqrt(16) + Math.pow(2, 10) + Math.max(1, 2) + Math.abs(-3)", "", math.Log1p(250) + 4 + 1024 + 2 + 3},
		{"saturation(doc['price'].value, 250)", "", 0.5},
		{"sigmoid(2, 2, 1)", "", 0.5},
		{"decayNumericLinear(0, 10, 0, 0.5, 10)", "", 0.5},
		{"decayNumericExp(0, 10, 0, 0.5, 10)", "", 0.5},
		{"decayNumericGauss(100, 50, 10, 0.5, 160)", "", 0.5},
		{"1e3 + 2L + 0.5d", "", 1002.5},
		{"!(1 < 2) ? 0 : (2 >= 2 && 3 <= 2 ? 5 : 6)", "", 6},
	} {
		got, err := evalScript(ix, tc.source, tc.params)
		if math.IsNaN(tc.want) {
			if err == nil {
				t.Errorf("%s = %v, want an error", tc.source, got)
			}
			continue
		}
		if err != nil || !near(got, tc.want) {
			t.Errorf("%s = %v, %v; want %v", tc.source, got, err, tc.want)
		}
	}
}

func TestScriptErrors(t *testing.T) {
	ix := testIndex(t)
	for _, tc := range []struct{ source, want string }{
		{"", "must specify"},
		{"_score +", "unexpected end"},
		{"_score _score", "one expression"},
		{"double x = 1; return x;", "unexpected character '='"},
		{"double x", "cannot resolve symbol [double]"},
		{"'unterminated", "unterminated"},
		{"_score # 2", "unexpected character"},
		{"foo", "cannot resolve symbol [foo]"},
		{"1 / 0", "/ by zero"},
		{"1.0 / 0 > 1 ? 1 : 0", ""}, // a double divided by zero is Infinity, no error
		{"doc['title'].value", "Fielddata is disabled"},
		{"doc['nope'].value", "No field found for [nope]"},
		{"'a' * 2", "cannot apply [*]"},
		{"1 ? 2 : 3", "cannot cast from [long] to [boolean]"},
		{"'text'", "must return a number"},
		{"params.x.y", "cannot access [y] on type [null]"},
		{"Math.tan(1)", "unknown call [Math.tan]"},
		{"saturation(1)", "unknown call [saturation] with [1] arguments"},
		{strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), "nested too deep"},
		{strings.Repeat("-", 300) + "1", "nested too deep"},
	} {
		_, err := evalScript(ix, tc.source, "")
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.source, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.source, err, tc.want)
		}
	}
	if _, err := evalScript(ix, strings.Repeat("1+", maxScriptBytes/2+1)+"1", ""); err == nil || !strings.Contains(err.Error(), "max allowed inline script size") {
		t.Errorf("a script over %d bytes: %v", maxScriptBytes, err)
	}
}

// FuzzScript: any source compiles or fails with an error, and evaluates or fails with an error: never a
// panic, never a hang.
func FuzzScript(f *testing.F) {
	for _, s := range []string{"_score * Math.log1p(doc['price'].value)", "params.a[0] ? 1 : 2",
		"doc['brand'].value == 'nike' && doc['tags'].size() > 1 ? 2.5d : -1L", "decayNumericGauss(1,2,3,0.5,doc['rating'].value)",
		"((((1))))", "return 1;"} {
		f.Add(s)
	}
	ix := testIndex(f)
	f.Fuzz(func(t *testing.T, source string) {
		evalScript(ix, source, `{"a":[true],"b":{"c":1}}`)
	})
}

// FuzzSearchBody: any body parses and runs, or is refused with an Elasticsearch error of status 4xx.
func FuzzSearchBody(f *testing.F) {
	for _, s := range []string{`{"query":{"match":{"title":"red shoes"}}}`,
		`{"query":{"bool":{"must":[{"term":{"brand":"nike"}}],"should":{"range":{"price":{"gte":1}}},"minimum_should_match":"-50%"}},"size":3}`,
		`{"query":{"script_score":{"query":{"match_all":{}},"script":{"source":"_score + params.x","params":{"x":1}}}},"_source":["title"]}`,
		`{"query":{"terms":{"tags":["red","sale"]}},"track_total_hits":true}`, `{}`, `[]`, `{"from":-1}`} {
		f.Add([]byte(s))
	}
	ix := testIndex(f)
	s := New(Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := parseSearch(ix, body)
		if e == nil {
			_, e = s.search(ix, req, timeNow())
		}
		if e != nil && (e.Status < 400 || e.Status >= 500 || e.Type == "") {
			t.Fatalf("%q: %+v", body, e)
		}
	})
}

// FuzzBulk: any body splits into actions or is refused as a whole with a 400.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{"{\"index\":{\"_id\":\"a\"}}\n{\"title\":\"x\"}\n", "{\"delete\":{\"_index\":\"i\",\"_id\":\"a\"}}\n",
		"{\"create\":{}}\n{}\n{\"index\":{}}\n", "\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		actions, e := parseBulk(body, "items")
		if e != nil {
			if e.Status != 400 {
				t.Fatalf("%q: %+v", body, e)
			}
			return
		}
		for _, a := range actions {
			if a.index == "" || (a.op == "delete") != (a.source == nil) || (a.op == "delete" && a.id == "") {
				t.Fatalf("%q: action %+v", body, a)
			}
		}
	})
}

func timeNow() time.Time { return time.Now() }
