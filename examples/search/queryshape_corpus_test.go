package search

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

// corpusBodies returns n search bodies as the service builds them for the demo's traffic: the query mix
// (popular, tail with filters, pasted descriptions), segmented, expanded with the shipped synonyms, ranked
// with the personalized script for stack.DemoHeavyRanking (5%) of them.
func corpusBodies(t testing.TB, n int) [][]byte {
	t.Helper()
	mix := NewQueryMix(7)
	tok := segmenter.DefaultTokenizer()
	syn := DefaultSynonyms()
	personalized := personalizedScript()
	r := rand.New(rand.NewPCG(7, 11))
	bodies := make([][]byte, 0, n)
	for len(bodies) < n {
		q := mix.Next()
		req, err := ParseRequest(q.Values, DefaultMaxQueryBytes)
		if err != nil {
			t.Fatal(err)
		}
		tokens := tok.Tokenize(req.Q)
		if len(tokens) == 0 {
			continue
		}
		script, params := defaultScript, map[string]any(nil)
		if r.Float64() < 0.05 {
			script, params = personalized, history(req.User)
		}
		body, err := queryBody(req, syn.Expand(tokens), script, params)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

// fixtureStatements are the Elasticsearch db.statement values of the APM Server fixtures
// (testdata/fixture_statements.json, copied from ../shared/fixtures).
func fixtureStatements(t testing.TB) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fixture_statements.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stmts []struct {
		DBType    string `json:"db_type"`
		Statement string `json:"statement"`
	}
	if err := json.Unmarshal(raw, &stmts); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, s := range stmts {
		if s.DBType == "elasticsearch" {
			out = append(out, []byte(s.Statement))
		}
	}
	if len(out) == 0 {
		t.Fatal("no Elasticsearch statement in the fixtures")
	}
	return out
}

// TestQueryShapeCorpus: 10,000 of the example's searches and the fixtures' statements collapse into at
// least 100 times fewer shapes; two bodies share a shape exactly when the test's own structural
// comparison (structure, below: written over encoding/json, not with the shape function) says they have
// the same structure; literals changed and keys reordered never change a shape, a structural change
// always does.
func TestQueryShapeCorpus(t *testing.T) {
	bodies := append(corpusBodies(t, 10_000), fixtureStatements(t)...)
	idOf := map[string]string{}     // structure -> shape id
	structOf := map[string]string{} // shape id -> structure
	count := map[string]int{}
	summaries := map[string]string{}
	for _, body := range bodies {
		s, err := queryshape.Search(body)
		if err != nil || s.Truncated {
			t.Fatalf("shape of %.200s: %+v, %v", body, s, err)
		}
		key := structureOf(t, body)
		if id, ok := idOf[key]; ok && id != s.ID {
			t.Fatalf("one structure, two shapes %s and %s:\n%s", id, s.ID, key)
		}
		if k, ok := structOf[s.ID]; ok && k != key {
			t.Fatalf("shape %s (%s) for two structures:\n%s\n%s", s.ID, s.Summary, k, key)
		}
		idOf[key], structOf[s.ID] = s.ID, key
		count[s.ID]++
		summaries[s.ID] = s.Summary
	}
	ratio := float64(len(bodies)) / float64(len(count))
	t.Logf("%d bodies, %d shapes (%.0f× fewer)", len(bodies), len(count), ratio)
	ids := slices.Collect(func(yield func(string) bool) {
		for id := range count {
			if !yield(id) {
				return
			}
		}
	})
	sort.Slice(ids, func(i, j int) bool { return count[ids[i]] > count[ids[j]] })
	for _, id := range ids[:min(5, len(ids))] {
		t.Logf("%6d %s %s", count[id], id, summaries[id])
	}
	if ratio < 100 {
		t.Errorf("%d bodies in %d shapes: want at least 100× fewer", len(bodies), len(count))
	}

	// Literals changed and keys in another order: the same shape. A structural change: another.
	r := rand.New(rand.NewPCG(1, 2))
	for i, body := range bodies[:300] {
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		orig, _ := queryshape.Search(body)
		var b bytes.Buffer
		writeReordered(&b, mutateLiterals(v, "", "", false, r))
		same, err := queryshape.Search(b.Bytes())
		if err != nil || same.ID != orig.ID {
			t.Fatalf("body %d with other literals and key order:\n%s\n%s\n%s -> %s", i, body, b.Bytes(), orig.Canonical, same.Canonical)
		}
		changed, what := mutateStructure(v, r)
		b.Reset()
		writeReordered(&b, changed)
		if structureOf(t, b.Bytes()) == structureOf(t, body) {
			t.Fatalf("the test's mutation %s did not change the structure of %s", what, body)
		}
		other, err := queryshape.Search(b.Bytes())
		if err != nil || other.ID == orig.ID {
			t.Fatalf("body %d, %s: still shape %s\n%s", i, what, orig.ID, b.Bytes())
		}
	}

	// The agent and the intake cut statements at 10,000 bytes: the long searches' statements are cut,
	// marked truncated, and still collapse.
	cutShapes := map[string]bool{}
	cuts := 0
	for _, body := range bodies {
		if len(body) <= 10_000 {
			continue
		}
		cuts++
		s, err := queryshape.Search(body[:10_000])
		if err != nil || !s.Truncated {
			t.Fatalf("cut statement: %+v %v", s, err)
		}
		cutShapes[s.ID] = true
	}
	t.Logf("%d statements cut at 10,000 bytes: %d shapes", cuts, len(cutShapes))
	if cuts == 0 || len(cutShapes) > max(cuts/10, 1) {
		t.Errorf("%d cut statements in %d shapes", cuts, len(cutShapes))
	}
}

// structureOf is the test's own statement of a search body's structure, independent of queryshape's
// parser: the body decoded by encoding/json, objects with their keys sorted; the values that are names
// or options (field names in _source, operator, track_scores) kept; size and from as a bucket; a script's source as
// its SHA-256; an array as the structure of each kind of its elements, merged (structureAll), and a
// bucket of its length; every other value a literal (L). It knows the keys of the example's bodies and the
// fixtures' statements, and fails on any other, so that it cannot silently disagree on a rule it does
// not state.
func structureOf(t testing.TB, body []byte) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var fail string
	s := structure(v, "", "", false, &fail)
	if fail != "" {
		t.Fatalf("structureOf: %s in %.300s", fail, body)
	}
	return s
}

var (
	fieldQueries = map[string]bool{"match": true, "term": true, "range": true}
	knownKeys    = map[string]bool{"size": true, "from": true, "_source": true, "query": true, "script_score": true,
		"bool": true, "should": true, "filter": true, "minimum_should_match": true, "match": true, "term": true,
		"range": true, "gte": true, "lte": true, "boost": true, "operator": true, "script": true, "source": true,
		"params": true, "track_scores": true}
	knownFields = map[string]bool{"title_terms": true, "description_terms": true, "category": true, "brand": true,
		"price": true, "name": true, "sku": true, "customer": true}
)

func structure(v any, key, parent string, script bool, fail *string) string {
	return structureAll([]any{v}, key, parent, script, fail)
}

// structureAll is the structure of a position that held vals in like elements of arrays (objects with
// the same keys, arrays, scalars): objects merged key by key, arrays' elements grouped by kind with the
// greatest length, scalars as a set; values of different JSON types as a union.
func structureAll(vals []any, key, parent string, script bool, fail *string) string {
	var objects []map[string]any
	var arrays [][]any
	scalars := map[string]bool{}
	for _, v := range vals {
		switch v := v.(type) {
		case map[string]any:
			objects = append(objects, v)
		case []any:
			arrays = append(arrays, v)
		default:
			scalars[scalar(v, key, script)] = true
		}
	}
	var kinds []string
	if len(objects) > 0 {
		keySet := map[string]bool{}
		for _, o := range objects {
			for k := range o {
				keySet[k] = true
			}
		}
		var parts []string
		for _, k := range sortedKeys(keySet) {
			var under []any
			for _, o := range objects {
				if e, ok := o[k]; ok {
					under = append(under, e)
				}
			}
			var child string
			switch {
			case fieldQueries[key]:
				if !knownFields[k] {
					*fail = "unknown field " + k
				}
				child = structureAll(under, "", key, false, fail)
			case !knownKeys[k]:
				*fail = "unknown key " + k
			case script && k == "params":
				child = "P"
			case k == "script" || script:
				child = structureAll(under, k, key, true, fail)
			default:
				child = structureAll(under, k, key, false, fail)
			}
			parts = append(parts, k+"="+child)
		}
		kinds = append(kinds, "M("+strings.Join(parts, ";")+")")
	}
	if len(arrays) > 0 {
		longest := 0
		groups := map[string][]any{} // elements by kind: an object's keys, "array", "scalar"
		for _, a := range arrays {
			longest = max(longest, len(a))
			for _, e := range a {
				kind := "scalar"
				switch e := e.(type) {
				case map[string]any:
					kind = "object:" + strings.Join(sortedKeys(e), ",")
				case []any:
					kind = "array"
				}
				groups[kind] = append(groups[kind], e)
			}
		}
		if longest == 0 {
			kinds = append(kinds, "A()")
		} else {
			var elems []string
			for _, g := range groups {
				elems = append(elems, structureAll(g, key, parent, script, fail))
			}
			slices.Sort(elems)
			kinds = append(kinds, "A("+strings.Join(elems, ",")+")#"+lengthClass(longest))
		}
	}
	if len(scalars) > 0 {
		kinds = append(kinds, "V("+strings.Join(sortedKeys(scalars), ",")+")")
	}
	slices.Sort(kinds)
	if len(kinds) == 1 {
		return kinds[0]
	}
	return "U(" + strings.Join(kinds, ",") + ")"
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

// scalar is the structure of a string, number, boolean or null.
func scalar(v any, key string, script bool) string {
	switch v := v.(type) {
	case string:
		switch {
		case script && key == "source", key == "script":
			sum := sha256.Sum256([]byte(v))
			return "S" + hex.EncodeToString(sum[:])
		case key == "_source" || key == "operator":
			return "K" + v
		}
	case bool:
		if key == "track_scores" {
			return fmt.Sprint("B", v)
		}
	case json.Number:
		if key == "size" || key == "from" {
			if n, err := v.Int64(); err == nil {
				return "N" + sizeClass(n)
			}
		}
	}
	return "L"
}

// sizeClass and lengthClass restate the buckets of the package documentation.
func sizeClass(n int64) string {
	for _, limit := range []int64{0, 1, 10, 20, 50, 100, 1000, 10000} {
		if n <= limit {
			return fmt.Sprint(limit)
		}
	}
	return "more"
}

func lengthClass(n int) string {
	for _, limit := range []int{1, 4, 16, 64} {
		if n <= limit {
			return fmt.Sprint(limit)
		}
	}
	return "more"
}

// mutateLiterals returns v with every literal changed (strings, numbers other than size and from,
// booleans), as structure defines literals.
func mutateLiterals(v any, key, parent string, script bool, r *rand.Rand) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			switch {
			case fieldQueries[key]:
				out[k] = mutateLiterals(e, "", key, false, r)
			case script && k == "params":
				out[k] = map[string]any{"other": r.IntN(100)}
			default:
				out[k] = mutateLiterals(e, k, key, script || k == "script", r)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = mutateLiterals(e, key, parent, script, r)
		}
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	case string:
		if script && key == "source" || key == "script" || key == "_source" || key == "operator" {
			return v
		}
		return fmt.Sprintf("%s-%d", v, r.IntN(1000))
	case json.Number:
		if key == "size" || key == "from" {
			return v
		}
		return json.Number(fmt.Sprint(r.IntN(1000)))
	}
	return v
}

// mutateStructure returns a copy of v with one structural change: a field renamed, an option added,
// size moved to another bucket, or the script's source changed.
func mutateStructure(v any, r *rand.Rand) (any, string) {
	c := deepCopy(v).(map[string]any)
	switch r.IntN(4) {
	case 0:
		c["size"] = json.Number("1000")
		return c, "size 1000"
	case 1:
		c["track_scores"] = true
		return c, "an option added"
	case 2:
		if ss, ok := c["query"].(map[string]any)["script_score"].(map[string]any); ok {
			ss["script"].(map[string]any)["source"] = "_score * 2"
			return c, "another script"
		}
	}
	// Rename the first match or term clause's field.
	var rename func(x any) bool
	rename = func(x any) bool {
		switch x := x.(type) {
		case map[string]any:
			for _, clause := range []string{"match", "term"} {
				if m, ok := x[clause].(map[string]any); ok {
					for k, e := range m {
						delete(m, k)
						m[k+"_other"] = e
						knownFields[k+"_other"] = true
						return true
					}
				}
			}
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range x {
					if !yield(k) {
						return
					}
				}
			}) {
				if rename(x[k]) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if rename(e) {
					return true
				}
			}
		}
		return false
	}
	if !rename(c) {
		c["size"] = json.Number("1000")
		return c, "size 1000"
	}
	return c, "a field renamed"
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// writeReordered writes v as JSON with every object's keys in reverse order (encoding/json would sort
// them).
func writeReordered(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range v {
				if !yield(k) {
					return
				}
			}
		})
		slices.Reverse(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			writeReordered(b, v[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeReordered(b, e)
		}
		b.WriteByte(']')
	default:
		e, _ := json.Marshal(v)
		b.Write(e)
	}
}
