package esstandin

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"sync"
)

// index is one index: its documents, an inverted index per text and keyword field, and a column of
// values per numeric and keyword field (the doc values scripts and range queries read).
//
// Documents live in slots, numbered in the order they were indexed; a deleted or replaced document's
// slot stays, marked deleted, and is skipped (Lucene keeps deleted documents until a merge, too). The
// statistics BM25 uses (document counts, field lengths, document frequencies) count live documents only.
type index struct {
	name    string
	mapping mapping

	mu      sync.RWMutex // guards everything below: searches read, bulk writes
	ids     map[string]int32
	slots   []slot
	live    int
	text    map[string]*textIndex
	keyword map[string]*keywordIndex
	numeric map[string][]float64 // per field, per slot; NaN: no value
}

type slot struct {
	id      string
	source  json.RawMessage
	deleted bool
}

type posting struct {
	doc int32
	tf  int32
}

// textIndex is a text field's postings and lengths.
type textIndex struct {
	postings map[string][]posting // sorted by doc
	lengths  []int32              // per slot: terms in the field, 0 without it
	terms    [][]string           // per slot: its distinct terms, to update df on delete
	docs     int                  // live documents with the field
	sumLen   int64                // their lengths
	df       map[string]int       // live documents per term
}

// keywordIndex is a keyword field's postings and values.
type keywordIndex struct {
	postings map[string][]int32 // sorted by doc
	values   [][]string         // per slot, sorted
	docs     int                // live documents with the field
	sumDF    int64              // live (document, value) pairs
	df       map[string]int
}

func newIndex(name string, m mapping) *index {
	ix := &index{name: name, mapping: m, ids: map[string]int32{}, text: map[string]*textIndex{},
		keyword: map[string]*keywordIndex{}, numeric: map[string][]float64{}}
	for f, fm := range m.fields {
		switch {
		case fm.typ == textField:
			ix.text[f] = &textIndex{postings: map[string][]posting{}, df: map[string]int{}}
		case fm.typ == keywordField:
			ix.keyword[f] = &keywordIndex{postings: map[string][]int32{}, df: map[string]int{}}
		default:
			ix.numeric[f] = nil
		}
	}
	return ix
}

// parsedDoc is a document's indexed values, checked against the mapping before anything is changed.
type parsedDoc struct {
	text    map[string][]string
	keyword map[string][]string
	numeric map[string]float64
}

// parseDoc checks source against the mapping and extracts the values to index.
func (ix *index) parseDoc(source []byte) (parsedDoc, *esError) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(source))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return parsedDoc{}, errorf(400, "document_parsing_exception", "failed to parse: the document is not a JSON object")
	}
	pd := parsedDoc{text: map[string][]string{}, keyword: map[string][]string{}, numeric: map[string]float64{}}
	for name, raw := range fields {
		fm, ok := ix.mapping.fields[name]
		if !ok {
			if ix.mapping.strict {
				return parsedDoc{}, errorf(400, "strict_dynamic_mapping_exception",
					"[1:1] mapping set to strict, dynamic introduction of [%s] within [_doc] is not allowed", name)
			}
			continue
		}
		if bytes.Equal(raw, []byte("null")) {
			continue
		}
		switch fm.typ {
		case textField, keywordField:
			values, err := stringValues(raw)
			if err != nil {
				return parsedDoc{}, errorf(400, "document_parsing_exception", "failed to parse field [%s] of type [%s]: %v", name, typeName(fm.typ), err)
			}
			if fm.typ == textField {
				var terms []string
				for _, v := range values {
					terms = fm.analyzer.analyze(terms, v)
				}
				pd.text[name] = terms
			} else {
				slices.Sort(values)
				pd.keyword[name] = values
			}
		default:
			v, err := numericValue(raw, fm.typ)
			if err != nil {
				return parsedDoc{}, errorf(400, "document_parsing_exception", "failed to parse field [%s] of type [%s]: %v", name, typeName(fm.typ), err)
			}
			pd.numeric[name] = v
		}
	}
	return pd, nil
}

func typeName(t fieldType) string {
	return [...]string{"", "text", "keyword", "long", "double", "float"}[t]
}

func stringValues(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errString("expected a string or an array of strings")
	}
	return many, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// numericValue reads a number, or a string holding one (Elasticsearch coerces by default). Arrays are
// refused: the stand-in keeps one value per numeric field.
func numericValue(raw json.RawMessage, t fieldType) (float64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, errString("expected a number (the stand-in keeps one value per numeric field)")
		}
		s = n.String()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errString("not a finite number: " + strconv.Quote(s))
	}
	switch t {
	case longField:
		if v != math.Trunc(v) {
			// Elasticsearch truncates a fraction given to an integer field when coercing.
			v = math.Trunc(v)
		}
		if v > math.MaxInt64 || v < math.MinInt64 {
			return 0, errString("out of range for a long")
		}
	case floatField:
		v = float64(float32(v))
	}
	return v, nil
}

// put indexes a parsed document under id, replacing any document with that id. It reports whether the
// document was created (false: updated). ix.mu must be held for writing.
func (ix *index) put(id string, source []byte, pd parsedDoc) (created bool) {
	old, exists := ix.ids[id]
	if exists {
		ix.remove(old)
	}
	doc := int32(len(ix.slots))
	ix.slots = append(ix.slots, slot{id: id, source: json.RawMessage(source)})
	ix.ids[id] = doc
	ix.live++
	for f, ti := range ix.text {
		terms := pd.text[f]
		ti.lengths = append(ti.lengths, int32(len(terms)))
		if len(terms) == 0 {
			ti.terms = append(ti.terms, nil)
			continue
		}
		ti.docs++
		ti.sumLen += int64(len(terms))
		tf := map[string]int32{}
		for _, t := range terms {
			tf[t]++
		}
		distinct := make([]string, 0, len(tf))
		for t, n := range tf {
			ti.postings[t] = append(ti.postings[t], posting{doc: doc, tf: n})
			ti.df[t]++
			distinct = append(distinct, t)
		}
		ti.terms = append(ti.terms, distinct)
	}
	for f, ki := range ix.keyword {
		values := slices.Compact(pd.keyword[f])
		ki.values = append(ki.values, values)
		if len(values) == 0 {
			continue
		}
		ki.docs++
		for _, v := range values {
			ki.postings[v] = append(ki.postings[v], doc)
			ki.df[v]++
			ki.sumDF++
		}
	}
	for f, col := range ix.numeric {
		v, ok := pd.numeric[f]
		if !ok {
			v = math.NaN()
		}
		ix.numeric[f] = append(col, v)
	}
	return !exists
}

// remove marks a slot deleted and takes it out of the statistics. ix.mu must be held for writing.
func (ix *index) remove(doc int32) {
	s := &ix.slots[doc]
	if s.deleted {
		return
	}
	s.deleted = true
	s.source = nil
	delete(ix.ids, s.id)
	ix.live--
	for _, ti := range ix.text {
		if n := ti.lengths[doc]; n > 0 {
			ti.docs--
			ti.sumLen -= int64(n)
		}
		for _, t := range ti.terms[doc] {
			ti.df[t]--
		}
		ti.terms[doc] = nil
	}
	for _, ki := range ix.keyword {
		values := ki.values[doc]
		if len(values) == 0 {
			continue
		}
		ki.docs--
		for _, v := range values {
			ki.df[v]--
			ki.sumDF--
		}
	}
}
