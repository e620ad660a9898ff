package esstandin

import (
	"math"
	"net/http"
	"strconv"
)

// BM25 parameters: Lucene's and Elasticsearch's defaults.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// hits is a query's matches: documents in increasing order, with their scores.
type hits struct {
	docs   []int32
	scores []float64
}

// newHits returns empty hits with room for n.
func newHits(n int) hits {
	return hits{docs: make([]int32, 0, n), scores: make([]float64, 0, n)}
}

func (h *hits) add(doc int32, score float64) {
	h.docs = append(h.docs, doc)
	h.scores = append(h.scores, score)
}

// executor runs one search's queries over an index held for reading, and counts its work: postings
// read, documents scanned and script nodes evaluated. The work is what makes a search's took.
type executor struct {
	ix   *index
	work int64
}

func (x *executor) run(q query) (hits, *esError) {
	switch q := q.(type) {
	case matchAllQuery:
		return x.matchAll(q.boost), nil
	case matchQuery:
		return x.match(q), nil
	case termQuery:
		return x.term(q), nil
	case rangeQuery:
		return x.rangeQ(q), nil
	case boolQuery:
		return x.boolQ(q)
	case scriptScoreQuery:
		return x.scriptScore(q)
	}
	panic("esstandin: unknown query type")
}

func (x *executor) matchAll(boost float64) hits {
	h := newHits(x.ix.live)
	for doc, s := range x.ix.slots {
		if !s.deleted {
			h.add(int32(doc), boost)
		}
	}
	x.work += int64(len(x.ix.slots))
	return h
}

// idf is BM25's inverse document frequency, as Lucene computes it: log(1 + (N − df + 0.5) / (df + 0.5)).
func idf(docCount, df int) float64 {
	return math.Log(1 + (float64(docCount)-float64(df)+0.5)/(float64(df)+0.5))
}

// textTerm scores a term of a text field with BM25 as Lucene's BM25Similarity does: weight × tf / (tf +
// k1 × (1 − b + b × dl / avgdl)), with weight = boost × idf and dl the field length as Lucene's norms
// keep it (quantized to one byte: exact below 24 terms).
func (x *executor) textTerm(ti *textIndex, term string, boost float64) hits {
	ps := ti.postings[term]
	df := ti.df[term]
	if df == 0 {
		return hits{}
	}
	h := newHits(df)
	weight := boost * idf(ti.docs, df)
	avgdl := float64(ti.sumLen) / float64(ti.docs)
	x.work += int64(len(ps))
	for _, p := range ps {
		if x.ix.slots[p.doc].deleted {
			continue
		}
		dl := float64(normLength(ti.lengths[p.doc]))
		tf := float64(p.tf)
		h.add(p.doc, weight*tf/(tf+bm25K1*(1-bm25B+bm25B*dl/avgdl)))
	}
	return h
}

// keywordTerm scores a keyword value as Lucene does for a field without norms or frequencies: tf 1,
// length 1.
func (x *executor) keywordTerm(ki *keywordIndex, v string, boost float64) hits {
	ps := ki.postings[v]
	df := ki.df[v]
	if df == 0 {
		return hits{}
	}
	h := newHits(df)
	avgdl := float64(ki.sumDF) / float64(ki.docs)
	score := boost * idf(ki.docs, df) / (1 + bm25K1*(1-bm25B+bm25B/avgdl))
	x.work += int64(len(ps))
	for _, doc := range ps {
		if !x.ix.slots[doc].deleted {
			h.add(doc, score)
		}
	}
	return h
}

// numericTerm matches the documents whose value equals v, with a constant score.
func (x *executor) numericTerm(field, v string, boost float64) hits {
	var h hits
	want, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return h
	}
	if x.ix.mapping.fields[field].typ == floatField {
		want = float64(float32(want))
	}
	col := x.ix.numeric[field]
	x.work += int64(len(col))
	for doc, got := range col {
		if got == want && !x.ix.slots[doc].deleted {
			h.add(int32(doc), boost)
		}
	}
	return h
}

// termHits matches one exact value of a field, whatever its type; an unmapped field matches nothing.
func (x *executor) termHits(field, v string, boost float64) hits {
	fm, ok := x.ix.mapping.fields[field]
	switch {
	case !ok:
		return hits{}
	case fm.typ == textField:
		return x.textTerm(x.ix.text[field], v, boost)
	case fm.typ == keywordField:
		return x.keywordTerm(x.ix.keyword[field], v, boost)
	}
	return x.numericTerm(field, v, boost)
}

// match is a bool query of its terms: should (or) or must (and), summing the terms' scores.
func (x *executor) match(q matchQuery) hits {
	lists := make([]hits, 0, len(q.terms))
	for _, t := range q.terms {
		lists = append(lists, x.termHits(q.field, t, q.boost))
	}
	if q.and {
		return x.intersect(lists, lists)
	}
	h, _ := x.union(lists)
	return h
}

// term and terms: one value scores as a term query; several are a constant-score disjunction, as
// Elasticsearch's terms query.
func (x *executor) term(q termQuery) hits {
	if len(q.values) == 1 {
		return x.termHits(q.field, q.values[0], q.boost)
	}
	lists := make([]hits, 0, len(q.values))
	for _, v := range q.values {
		lists = append(lists, x.termHits(q.field, v, 1))
	}
	h, _ := x.union(lists)
	for i := range h.scores {
		h.scores[i] = q.boost
	}
	return h
}

func (x *executor) rangeQ(q rangeQuery) hits {
	var h hits
	col, ok := x.ix.numeric[q.field]
	if !ok {
		return h
	}
	x.work += int64(len(col))
	for doc, v := range col {
		if math.IsNaN(v) || x.ix.slots[doc].deleted {
			continue
		}
		if q.hasLower && (v < q.gte || q.hasGt && v == q.gt) {
			continue
		}
		if q.hasUpper && (v > q.lte || q.hasLt && v == q.lt) {
			continue
		}
		h.add(int32(doc), q.boost)
	}
	return h
}

// union merges lists, summing the scores of a document found in several, and counting in how many. The
// lists are merged pairwise, in a balanced tree: O(total × log lists), and the scores of a document are
// always added in the same order.
func (x *executor) union(lists []hits) (hits, []int32) {
	type counted struct {
		hits
		counts []int32
	}
	level := make([]counted, len(lists))
	for i, l := range lists {
		c := counted{hits: l, counts: make([]int32, len(l.docs))}
		for j := range c.counts {
			c.counts[j] = 1
		}
		level[i] = c
	}
	if len(level) == 0 {
		return hits{}, nil
	}
	for len(level) > 1 {
		next := level[:0:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			a, b := level[i], level[i+1]
			n := len(a.docs) + len(b.docs)
			m := counted{hits: newHits(n), counts: make([]int32, 0, n)}
			p, q := 0, 0
			for p < len(a.docs) || q < len(b.docs) {
				switch {
				case q == len(b.docs) || p < len(a.docs) && a.docs[p] < b.docs[q]:
					m.add(a.docs[p], a.scores[p])
					m.counts = append(m.counts, a.counts[p])
					p++
				case p == len(a.docs) || b.docs[q] < a.docs[p]:
					m.add(b.docs[q], b.scores[q])
					m.counts = append(m.counts, b.counts[q])
					q++
				default:
					m.add(a.docs[p], a.scores[p]+b.scores[q])
					m.counts = append(m.counts, a.counts[p]+b.counts[q])
					p++
					q++
				}
			}
			x.work += int64(len(a.docs) + len(b.docs))
			next = append(next, m)
		}
		level = next
	}
	return level[0].hits, level[0].counts
}

// intersect returns the documents in every list; the score is the sum of the scores in the lists that
// are also in scored (by identity of position: scored is a prefix of lists).
func (x *executor) intersect(lists, scored []hits) hits {
	if len(lists) == 0 {
		return hits{}
	}
	pos := make([]int, len(lists))
	var h hits
	first := lists[0]
	for _, doc := range first.docs {
		score, all := 0.0, true
		for li, l := range lists {
			p := pos[li]
			for p < len(l.docs) && l.docs[p] < doc {
				p++
			}
			x.work += int64(p - pos[li])
			pos[li] = p
			if p == len(l.docs) || l.docs[p] != doc {
				all = false
				break
			}
			if li < len(scored) {
				score += l.scores[p]
			}
		}
		if all {
			h.add(doc, score)
		}
	}
	return h
}

func (x *executor) boolQ(q boolQuery) (hits, *esError) {
	runAll := func(qs []query) ([]hits, *esError) {
		out := make([]hits, 0, len(qs))
		for _, c := range qs {
			h, e := x.run(c)
			if e != nil {
				return nil, e
			}
			out = append(out, h)
		}
		return out, nil
	}
	must, e := runAll(q.must)
	if e != nil {
		return hits{}, e
	}
	filter, e := runAll(q.filter)
	if e != nil {
		return hits{}, e
	}
	should, e := runAll(q.should)
	if e != nil {
		return hits{}, e
	}
	mustNot, e := runAll(q.mustNot)
	if e != nil {
		return hits{}, e
	}
	msm := 0
	if len(must) == 0 && len(filter) == 0 && len(should) > 0 {
		msm = 1
	}
	if q.msm != "" {
		msm, e = minimumShouldMatch(q.msm, len(should))
		if e != nil {
			return hits{}, e
		}
	}
	if msm > len(should) {
		return hits{}, nil
	}

	var h hits
	if required := append(append([]hits{}, must...), filter...); len(required) > 0 {
		h = x.intersect(required, must)
		// Add the scores of the optional clauses each candidate matches, and count them.
		counts := make([]int32, len(h.docs))
		for _, s := range should {
			i, j := 0, 0
			for i < len(h.docs) && j < len(s.docs) {
				switch {
				case h.docs[i] < s.docs[j]:
					i++
				case h.docs[i] > s.docs[j]:
					j++
				default:
					h.scores[i] += s.scores[j]
					counts[i]++
					i++
					j++
				}
			}
			x.work += int64(len(s.docs))
		}
		if msm > 0 {
			h = keep(h, func(i int) bool { return int(counts[i]) >= msm })
		}
	} else {
		var counts []int32
		h, counts = x.union(should)
		h = keep(h, func(i int) bool { return int(counts[i]) >= msm })
	}
	for _, n := range mustNot {
		excluded := map[int32]bool{}
		for _, d := range n.docs {
			excluded[d] = true
		}
		h = keep(h, func(i int) bool { return !excluded[h.docs[i]] })
	}
	if q.boost != 1 {
		for i := range h.scores {
			h.scores[i] *= q.boost
		}
	}
	return h, nil
}

// keep returns the entries of h for which ok(i) holds, in place.
func keep(h hits, ok func(i int) bool) hits {
	out := hits{docs: h.docs[:0], scores: h.scores[:0]}
	for i := range h.docs {
		if ok(i) {
			out.docs = append(out.docs, h.docs[i])
			out.scores = append(out.scores, h.scores[i])
		}
	}
	return out
}

// scriptScore runs the script on every document the inner query matched: the score is the script's
// result times boost. A negative or NaN score is an error, as in Elasticsearch.
func (x *executor) scriptScore(q scriptScoreQuery) (hits, *esError) {
	inner, e := x.run(q.inner)
	if e != nil {
		return hits{}, e
	}
	var out hits
	ev := env{ix: x.ix}
	for i, doc := range inner.docs {
		ev.doc, ev.score = doc, inner.scores[i]
		s, err := q.script.run(&ev)
		x.work += int64(q.script.nodes)
		if err != nil {
			return hits{}, scriptError(http.StatusBadRequest, "runtime error: %v (script: %.120s)", err, q.script.source)
		}
		s *= q.boost
		if s < 0 || math.IsNaN(s) {
			return hits{}, illegalArgument("script_score script returned an invalid score [%v] for doc [%d]. Must be a non-negative score!", s, doc)
		}
		if !math.IsNaN(q.minScore) && s < q.minScore {
			continue
		}
		out.add(doc, s)
	}
	return out, nil
}

// normLength returns a field length as Lucene's norms keep it: SmallFloat.intToByte4, then byte4ToInt
// (exact below 24; above, the 4 most significant bits).
func normLength(n int32) int32 {
	const freeValues = 24 // 255 - longToInt4(Integer.MAX_VALUE)
	if n < freeValues {
		return n
	}
	b := freeValues + longToInt4(int64(n-freeValues))
	return freeValues + int32(int4ToLong(b-freeValues))
}

func longToInt4(i int64) int32 {
	bits := 64
	for v := uint64(i); v != 0; v >>= 1 {
		bits--
	}
	numBits := 64 - bits
	if numBits < 4 {
		return int32(i)
	}
	shift := numBits - 4
	encoded := int32(i>>uint(shift)) & 0x07
	return encoded | int32(shift+1)<<3
}

func int4ToLong(i int32) int64 {
	bits := int64(i & 0x07)
	shift := int(i>>3) - 1
	if shift == -1 {
		return bits
	}
	return (bits | 0x08) << uint(shift)
}
