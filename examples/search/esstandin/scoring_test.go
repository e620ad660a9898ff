package esstandin

import (
	"math"
	"strings"
	"testing"
	"time"
)

type hit struct {
	id    string
	score float64
}

// hitsOf returns the hits of a search answer, in order.
func hitsOf(t *testing.T, a answer) []hit {
	t.Helper()
	if a.status != 200 {
		t.Fatalf("search: %d %s", a.status, a.raw)
	}
	var out []hit
	for _, h := range a.body["hits"].(map[string]any)["hits"].([]any) {
		m := h.(map[string]any)
		out = append(out, hit{m["_id"].(string), m["_score"].(float64)})
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// TestBM25 checks scores computed by hand from Lucene's BM25 formula on a corpus small enough to follow:
// titles "a b", "a", "b c d". For "a": N = 3, df = 2, idf = ln(1 + 1.5/2.5) = ln 1.6; avgdl = 6/3 = 2.
func TestBM25(t *testing.T) {
	_, es, _ := start(t, Config{})
	setup(t, es, `{"title":"A b","brand":"x"}`, `{"title":"a","brand":"y"}`, `{"title":"b c d","brand":"x"}`)
	search := func(body string) []hit {
		return hitsOf(t, perform(t, es, "POST", "/items/_search", "application/json", body))
	}
	idfA := math.Log(1.6)
	normOf := func(dl float64) float64 { return 1 / (1 + 1.2*(0.25+0.75*dl/2)) }
	got := search(`{"query":{"match":{"title":"a"}}}`)
	want := []hit{{"d1", idfA * normOf(1)}, {"d0", idfA * normOf(2)}}
	if len(got) != 2 || got[0].id != want[0].id || got[1].id != want[1].id || !near(got[0].score, want[0].score) || !near(got[1].score, want[1].score) {
		t.Errorf("match a: %v, want %v", got, want)
	}

	// "a b" with operator or: d0 has both (scores add), d1 has a, d2 has b (df 2, dl 3).
	idfB := math.Log(1.6)
	got = search(`{"query":{"match":{"title":"a b"}}}`)
	d0 := idfA*normOf(2) + idfB*normOf(2)
	if len(got) != 3 || got[0].id != "d0" || !near(got[0].score, d0) {
		t.Errorf("match a b: %v, want d0 first with %v", got, d0)
	}
	got = search(`{"query":{"match":{"title":{"query":"a b","operator":"and","boost":2}}}}`)
	if len(got) != 1 || got[0].id != "d0" || !near(got[0].score, 2*d0) {
		t.Errorf("match a b with and, boost 2: %v, want d0 with %v", got, 2*d0)
	}

	// Keyword term: no norms, tf 1: idf × 1 / (1 + k1 × (1 − b + b / avgdl)), avgdl 1 value a document.
	got = search(`{"query":{"term":{"brand":"x"}}}`)
	kw := math.Log(1+(3-2+0.5)/(2+0.5)) / (1 + 1.2)
	if len(got) != 2 || got[0].id != "d0" || got[1].id != "d2" || !near(got[0].score, kw) || got[0].score != got[1].score {
		t.Errorf("term brand x: %v, want d0, d2 (ties in index order) with %v", got, kw)
	}

	// bool: filter scores nothing, should adds, must_not removes, minimum_should_match counts.
	got = search(`{"query":{"bool":{"filter":{"term":{"brand":"x"}},"should":[{"match":{"title":"a"}}]}}}`)
	if len(got) != 2 || got[0].id != "d0" || !near(got[0].score, idfA*normOf(2)) || got[1].score != 0 {
		t.Errorf("filter + should: %v", got)
	}
	got = search(`{"query":{"bool":{"should":[{"match":{"title":"a"}},{"match":{"title":"b"}},{"match":{"title":"c"}}],"minimum_should_match":2}}}`)
	if len(got) != 2 || got[0].id != "d0" && got[0].id != "d2" {
		t.Errorf("two of three should clauses: %v, want d0 and d2", got)
	}
	got = search(`{"query":{"bool":{"must":{"match":{"title":"b"}},"must_not":[{"term":{"title":"c"}}]}}}`)
	if len(got) != 1 || got[0].id != "d0" {
		t.Errorf("must b, must_not c: %v, want d0", got)
	}
	got = search(`{"query":{"bool":{"filter":[{"range":{"price":{"gte":1}}}]}}}`)
	if len(got) != 0 {
		t.Errorf("range over documents without the field: %v", got)
	}
}

func TestRangeAndScriptScore(t *testing.T) {
	_, es, _ := start(t, Config{})
	setup(t, es,
		`{"title":"shoes","price":100,"rating":4.5,"tags":["red","sale"]}`,
		`{"title":"shoes","price":200,"rating":3.0,"tags":"blue"}`,
		`{"title":"shoes","price":300,"rating":5.0}`)
	search := func(body string) []hit {
		return hitsOf(t, perform(t, es, "POST", "/items/_search", "application/json", body))
	}
	for _, tc := range []struct {
		rng  string
		want int
	}{{`"gte":100,"lte":300`, 3}, {`"gt":100,"lt":300`, 1}, {`"gte":"200"`, 2}, {`"lt":100`, 0}, {`"gte":null,"lte":100`, 1}} {
		if got := search(`{"query":{"range":{"price":{` + tc.rng + `}}}}`); len(got) != tc.want {
			t.Errorf("range %s: %d hits, want %d", tc.rng, len(got), tc.want)
		}
	}
	// The script sees _score, doc values and params; long arithmetic stays long (7 / 2 = 3).
	got := search(`{"query":{"script_score":{"query":{"match":{"title":"shoes"}},
		"script":{"source":"return doc['price'].value / 7 + params.bonus * doc['rating'].value;","params":{"bonus":2}}}}}`)
	want := map[string]float64{"d0": 100/7 + 2*4.5, "d1": 200/7 + 2*3.0, "d2": 300/7 + 2*5.0}
	if len(got) != 3 || got[0].id != "d2" {
		t.Fatalf("script_score: %v", got)
	}
	for _, h := range got {
		if !near(h.score, want[h.id]) {
			t.Errorf("script_score %s: %v, want %v", h.id, h.score, want[h.id])
		}
	}
	got = search(`{"query":{"script_score":{"query":{"match_all":{}},"min_score":1,"boost":3,
		"script":"doc['tags'].size() > 0 && doc['tags'].value == 'red' ? 1 : 0.1"}}}`)
	if len(got) != 1 || got[0].id != "d0" || got[0].score != 3 {
		t.Errorf("keyword doc values, min_score, boost: %v", got)
	}
}

func TestSearchAnswer(t *testing.T) {
	_, es, _ := start(t, Config{})
	var docs []string
	for range 30 {
		docs = append(docs, `{"title":"x","brand":"b","price":1}`)
	}
	setup(t, es, docs...)
	a := perform(t, es, "POST", "/items/_search", "application/json", `{"query":{"match":{"title":"x"}},"from":5,"size":2,"_source":["brand"],"track_total_hits":10}`)
	if !strings.HasPrefix(a.raw, `{"took":`) {
		t.Errorf("took is not first: %.40s", a.raw)
	}
	h := a.body["hits"].(map[string]any)
	if total := h["total"].(map[string]any); total["value"] != 10.0 || total["relation"] != "gte" {
		t.Errorf("total %v, want 10 gte", total)
	}
	items := h["hits"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["_id"] != "d5" {
		t.Errorf("hits %v, want d5 and d6", items)
	}
	if src := items[0].(map[string]any)["_source"].(map[string]any); len(src) != 1 || src["brand"] != "b" {
		t.Errorf("_source %v, want only brand", src)
	}
	a = perform(t, es, "POST", "/items/_search", "application/json", `{"query":{"match":{"title":"x"}},"size":0,"track_total_hits":true,"_source":false}`)
	if h := a.body["hits"].(map[string]any); h["total"].(map[string]any)["value"] != 30.0 || h["max_score"] != nil || len(h["hits"].([]any)) != 0 {
		t.Errorf("size 0 exact total: %s", a.raw)
	}
}

// TestTookAndWork: took is measured (never more than the client saw), and the work a search does grows
// with its clauses and with its ranking script's size.
func TestTookAndWork(t *testing.T) {
	s, es, _ := start(t, Config{})
	var docs []string
	for i := range 3000 {
		docs = append(docs, `{"title":"red shoes w`+itoa(i%50)+`","price":`+itoa(i)+`,"rating":4}`)
	}
	setup(t, es, docs...)
	work := func(body string) (int64, float64, time.Duration) {
		before := s.Stats().Work
		begin := time.Now()
		a := perform(t, es, "POST", "/items/_search", "application/json", body)
		rtt := time.Since(begin)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		took := a.body["took"].(float64)
		if took < 0 || time.Duration(took)*time.Millisecond > rtt {
			t.Errorf("took %v ms, but the client saw %v", took, rtt)
		}
		return s.Stats().Work - before, took, rtt
	}
	words := func(n int) string {
		var w []string
		for i := range n {
			w = append(w, "w"+itoa(i))
		}
		return strings.Join(w, " ")
	}
	few, _, _ := work(`{"query":{"match":{"title":"` + words(2) + `"}}}`)
	many, _, _ := work(`{"query":{"match":{"title":"` + words(40) + `"}}}`)
	if many < 10*few {
		t.Errorf("40 terms did %d units of work, 2 terms %d: want it to grow with the terms", many, few)
	}
	term := func(i int) string { return "(doc['price'].value % " + itoa(i+2) + " == 0 ? 0.5 : 0.1)" }
	var big []string
	for i := range 300 {
		big = append(big, term(i))
	}
	small, _, _ := work(`{"query":{"script_score":{"query":{"match":{"title":"shoes"}},"script":"_score * ` + term(0) + `"}}}`)
	heavy, took, rtt := work(`{"query":{"script_score":{"query":{"match":{"title":"shoes"}},"script":"_score * (` + strings.Join(big, " + ") + `)"}}}`)
	if heavy < 100*small {
		t.Errorf("a 300-term script did %d units of work, a 1-term one %d", heavy, small)
	}
	// 3,000 documents × ~3,000 nodes: millions of evaluations cannot take under a millisecond.
	if took < 1 {
		t.Errorf("the heavy script took %v ms (client saw %v)", took, rtt)
	}
}

func TestNormLength(t *testing.T) {
	for n := int32(0); n < 24; n++ {
		if got := normLength(n); got != n {
			t.Errorf("normLength(%d) = %d, want exact below 24", n, got)
		}
	}
	prev := int32(0)
	for n := int32(24); n < 1_000_000; n += 1 + n/64 {
		got := normLength(n)
		if got < prev || got > n || float64(got) < float64(n)*0.88 {
			t.Fatalf("normLength(%d) = %d (previous %d): want monotonic, at most n, within 1/8", n, got, prev)
		}
		prev = got
	}
	// Values from Lucene's SmallFloat: 1000 encodes to byte 63, which decodes to 984.
	if got := normLength(1000); got != 984 {
		t.Errorf("normLength(1000) = %d, want 984", got)
	}
}
