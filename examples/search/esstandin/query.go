package esstandin

import (
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Limits on a query's shape, as Elasticsearch's defaults: indices.query.bool.max_nested_depth and
// indices.query.bool.max_clause_count (where a match query's terms count as clauses, as in Lucene).
const (
	maxNestedDepth = 30
	maxClauseCount = 4096
)

// The queries the stand-in runs. Each parses from its JSON form with the parameters listed in doc.go;
// any other parameter is a parsing_exception, as Elasticsearch answers.
type (
	query any

	matchAllQuery struct{ boost float64 }

	// matchQuery is the analyzed terms of a text, each a clause: should (operator or) or must (and).
	matchQuery struct {
		field string
		terms []string
		and   bool
		boost float64
	}

	termQuery struct {
		field  string
		values []string // one for term, several for terms
		boost  float64
	}

	rangeQuery struct {
		field              string
		gt, gte, lt, lte   float64 // NaN: not set
		hasGt, hasLt       bool    // which of gt/gte, lt/lte applies
		hasLower, hasUpper bool
		boost              float64
	}

	boolQuery struct {
		must, should, filter, mustNot []query
		msm                           string // minimum_should_match as given; "" for the default
		boost                         float64
	}

	scriptScoreQuery struct {
		inner    query
		script   *script
		minScore float64 // NaN: none
		boost    float64
	}
)

// queryParser turns a search body's "query" into queries, checking them against the index's mapping
// for analysis and counting clauses.
type queryParser struct {
	ix      *index
	clauses int
}

func (p *queryParser) parse(v any, depth int) (query, *esError) {
	if depth > maxNestedDepth {
		return nil, errorf(http.StatusBadRequest, "too_many_nested_clauses",
			"Query contains too many nested clauses; maxClauseCount is set to %d", maxClauseCount)
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) == 0 {
		return nil, parseError("query malformed, must start with start_object")
	}
	if len(obj) > 1 {
		names := sortedKeys(obj)
		return nil, parseError("[%s] malformed query, expected [END_OBJECT] but found [FIELD_NAME]", names[0])
	}
	for name, body := range obj {
		p.clauses++
		if p.clauses > maxClauseCount {
			return nil, errorf(http.StatusBadRequest, "too_many_nested_clauses",
				"Query contains too many nested clauses; maxClauseCount is set to %d", maxClauseCount)
		}
		switch name {
		case "match_all":
			return p.matchAll(body)
		case "match":
			return p.match(body)
		case "term":
			return p.term(body)
		case "terms":
			return p.terms(body)
		case "range":
			return p.rangeQ(body)
		case "bool":
			return p.boolQ(body, depth)
		case "script_score":
			return p.scriptScore(body, depth)
		default:
			return nil, parseError("unknown query [%s] (the stand-in runs match_all, match, term, terms, range, bool and script_score)", name)
		}
	}
	panic("unreachable")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (p *queryParser) matchAll(body any) (query, *esError) {
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, parseError("[match_all] query malformed, no start_object after query name")
	}
	q := matchAllQuery{boost: 1}
	for k, v := range obj {
		if k != "boost" {
			return nil, parseError("[match_all] query does not support [%s]", k)
		}
		b, e := number("match_all", k, v)
		if e != nil {
			return nil, e
		}
		q.boost = b
	}
	return q, nil
}

// singleField reads the {"field": value-or-object} shape of match, term and range.
func singleField(kind string, body any) (string, any, *esError) {
	obj, ok := body.(map[string]any)
	if !ok {
		return "", nil, parseError("[%s] query malformed, no start_object after query name", kind)
	}
	if len(obj) != 1 {
		return "", nil, parseError("[%s] query doesn't support multiple fields, found [%s]", kind, strings.Join(sortedKeys(obj), "] and ["))
	}
	for f, v := range obj {
		return f, v, nil
	}
	panic("unreachable")
}

func (p *queryParser) match(body any) (query, *esError) {
	field, v, e := singleField("match", body)
	if e != nil {
		return nil, e
	}
	q := matchQuery{field: field, boost: 1}
	var text any = v
	if obj, ok := v.(map[string]any); ok {
		text = nil
		for k, pv := range obj {
			switch k {
			case "query":
				text = pv
			case "operator":
				op, _ := pv.(string)
				switch strings.ToLower(op) {
				case "or":
				case "and":
					q.and = true
				default:
					return nil, illegalArgument("No enum constant org.elasticsearch.index.query.Operator.%v", pv)
				}
			case "boost":
				if q.boost, e = number("match", k, pv); e != nil {
					return nil, e
				}
			default:
				return nil, parseError("[match] query does not support [%s]", k)
			}
		}
		if text == nil {
			return nil, illegalArgument("[match] requires query value")
		}
	}
	s, e := scalarString("match", text)
	if e != nil {
		return nil, e
	}
	if fm, ok := p.ix.mapping.fields[field]; ok {
		if fm.typ == textField {
			q.terms = fm.analyzer.analyze(nil, s)
		} else {
			q.terms = []string{s} // keyword and numeric fields match the value as a whole
		}
	}
	p.clauses += len(q.terms)
	if p.clauses > maxClauseCount {
		return nil, errorf(http.StatusBadRequest, "too_many_nested_clauses",
			"Query contains too many nested clauses; maxClauseCount is set to %d", maxClauseCount)
	}
	return q, nil
}

func (p *queryParser) term(body any) (query, *esError) {
	field, v, e := singleField("term", body)
	if e != nil {
		return nil, e
	}
	q := termQuery{field: field, boost: 1}
	var value any = v
	if obj, ok := v.(map[string]any); ok {
		value = nil
		for k, pv := range obj {
			switch k {
			case "value":
				value = pv
			case "boost":
				if q.boost, e = number("term", k, pv); e != nil {
					return nil, e
				}
			default:
				return nil, parseError("[term] query does not support [%s]", k)
			}
		}
		if value == nil {
			return nil, illegalArgument("value cannot be null")
		}
	}
	s, e := scalarString("term", value)
	if e != nil {
		return nil, e
	}
	q.values = []string{s}
	return q, nil
}

func (p *queryParser) terms(body any) (query, *esError) {
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, parseError("[terms] query malformed, no start_object after query name")
	}
	q := termQuery{boost: 1}
	for k, v := range obj {
		if k == "boost" {
			var e *esError
			if q.boost, e = number("terms", k, v); e != nil {
				return nil, e
			}
			continue
		}
		if q.field != "" {
			return nil, parseError("[terms] query does not support multiple fields")
		}
		list, ok := v.([]any)
		if !ok {
			return nil, parseError("[terms] query does not support [%s] (the stand-in has no terms lookup)", k)
		}
		q.field = k
		for _, item := range list {
			s, e := scalarString("terms", item)
			if e != nil {
				return nil, e
			}
			q.values = append(q.values, s)
		}
		p.clauses += len(list)
	}
	if q.field == "" {
		return nil, parseError("[terms] query requires a field")
	}
	return q, nil
}

func (p *queryParser) rangeQ(body any) (query, *esError) {
	field, v, e := singleField("range", body)
	if e != nil {
		return nil, e
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, parseError("[range] query malformed, no start_object after field name")
	}
	q := rangeQuery{field: field, boost: 1}
	if fm, ok := p.ix.mapping.fields[field]; ok && !fm.typ.numeric() {
		return nil, illegalArgument("the stand-in runs range queries on numeric fields only, not [%s] of type [%s]", field, typeName(fm.typ))
	}
	for k, pv := range obj {
		if pv == nil {
			continue // an open bound
		}
		n, e := number("range", k, pv)
		if e != nil {
			return nil, e
		}
		switch k {
		case "gt", "gte":
			if q.hasLower {
				return nil, parseError("[range] query has two lower bounds")
			}
			q.hasLower, q.hasGt = true, k == "gt"
			q.gt, q.gte = n, n
		case "lt", "lte":
			if q.hasUpper {
				return nil, parseError("[range] query has two upper bounds")
			}
			q.hasUpper, q.hasLt = true, k == "lt"
			q.lt, q.lte = n, n
		case "boost":
			q.boost = n
		default:
			return nil, parseError("[range] query does not support [%s]", k)
		}
	}
	return q, nil
}

func (p *queryParser) boolQ(body any, depth int) (query, *esError) {
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, parseError("[bool] query malformed, no start_object after query name")
	}
	q := boolQuery{boost: 1}
	for k, v := range obj {
		var into *[]query
		switch k {
		case "must":
			into = &q.must
		case "should":
			into = &q.should
		case "filter":
			into = &q.filter
		case "must_not":
			into = &q.mustNot
		case "minimum_should_match":
			switch m := v.(type) {
			case json.Number:
				q.msm = m.String()
			case string:
				q.msm = m
			default:
				return nil, parseError("[bool] minimum_should_match must be a number or a string")
			}
			if _, e := minimumShouldMatch(q.msm, 1); e != nil {
				return nil, e
			}
			continue
		case "boost":
			var e *esError
			if q.boost, e = number("bool", k, v); e != nil {
				return nil, e
			}
			continue
		default:
			return nil, parseError("[bool] query does not support [%s]", k)
		}
		items, isList := v.([]any)
		if !isList {
			items = []any{v} // a single clause may be given without an array
		}
		for _, item := range items {
			c, e := p.parse(item, depth+1)
			if e != nil {
				return nil, e
			}
			*into = append(*into, c)
		}
	}
	return q, nil
}

// minimumShouldMatch resolves a minimum_should_match specification for n optional clauses: an integer
// ("2", "-1": all but one) or a percentage ("75%", "-25%"), rounded down, as Elasticsearch does.
func minimumShouldMatch(spec string, n int) (int, *esError) {
	s := strings.TrimSpace(spec)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		return 0, illegalArgument("the stand-in understands minimum_should_match integers and percentages, not [%s]", spec)
	}
	var m int
	switch {
	case pct && v < 0:
		m = n + n*v/100
	case pct:
		m = n * v / 100
	case v < 0:
		m = n + v
	default:
		m = v
	}
	return max(m, 0), nil
}

func (p *queryParser) scriptScore(body any, depth int) (query, *esError) {
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, parseError("[script_score] query malformed, no start_object after query name")
	}
	q := scriptScoreQuery{boost: 1, minScore: math.NaN()}
	var e *esError
	for k, v := range obj {
		switch k {
		case "query":
			if q.inner, e = p.parse(v, depth+1); e != nil {
				return nil, e
			}
		case "script":
			if q.script, e = parseScriptSpec(v); e != nil {
				return nil, e
			}
		case "min_score":
			if q.minScore, e = number("script_score", k, v); e != nil {
				return nil, e
			}
		case "boost":
			if q.boost, e = number("script_score", k, v); e != nil {
				return nil, e
			}
		default:
			return nil, parseError("[script_score] query does not support [%s]", k)
		}
	}
	if q.inner == nil {
		return nil, parseError("[script_score] requires 'query' field")
	}
	if q.script == nil {
		return nil, parseError("[script_score] requires 'script' field")
	}
	return q, nil
}

// number reads a numeric parameter: a JSON number or a string holding one.
func number(kind, param string, v any) (float64, *esError) {
	var s string
	switch n := v.(type) {
	case json.Number:
		s = n.String()
	case string:
		s = n
	default:
		return 0, parseError("[%s] query: [%s] must be a number", kind, param)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, parseError("[%s] query: [%s] must be a number, not [%s]", kind, param, s)
	}
	return f, nil
}

// scalarString reads a query value: a string, number or boolean, as text.
func scalarString(kind string, v any) (string, *esError) {
	switch s := v.(type) {
	case string:
		return s, nil
	case json.Number:
		return s.String(), nil
	case bool:
		return strconv.FormatBool(s), nil
	}
	return "", parseError("[%s] unknown token [%T] after [query]", kind, v)
}
