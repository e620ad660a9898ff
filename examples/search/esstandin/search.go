package esstandin

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Search limits, as Elasticsearch's defaults.
const (
	defaultSize        = 10
	maxResultWindow    = 10000 // index.max_result_window: from + size
	defaultTrackTotals = 10000 // track_total_hits: counts are exact up to this
)

// searchRequest is a parsed search body.
type searchRequest struct {
	query       query
	from, size  int
	source      sourceFilter
	trackTotals int // -1: exact; 0: no total
}

type sourceFilter struct {
	none     bool     // _source: false
	includes []string // nil: everything
}

func parseSearch(ix *index, body []byte) (searchRequest, *esError) {
	req := searchRequest{size: defaultSize, trackTotals: defaultTrackTotals, query: matchAllQuery{boost: 1}}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	var top map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return req, errorf(http.StatusBadRequest, "x_content_parse_exception", "failed to parse the search body: %v", err)
	}
	if dec.More() {
		return req, parseError("the search body holds more than one JSON value")
	}
	if top == nil {
		return req, parseError("the search body must be a JSON object")
	}
	p := &queryParser{ix: ix}
	for k, v := range top {
		var e *esError
		switch k {
		case "query":
			req.query, e = p.parse(v, 0)
		case "size":
			req.size, e = nonNegativeInt(k, v)
		case "from":
			req.from, e = nonNegativeInt(k, v)
		case "_source":
			req.source, e = parseSourceFilter(v)
		case "track_total_hits":
			switch t := v.(type) {
			case bool:
				req.trackTotals = 0
				if t {
					req.trackTotals = -1
				}
			default:
				req.trackTotals, e = nonNegativeInt(k, v)
			}
		default:
			e = parseError("Unknown key for a %s in [%s] (the stand-in knows query, size, from, _source and track_total_hits).", tokenName(v), k)
		}
		if e != nil {
			return req, e
		}
	}
	if req.from+req.size > maxResultWindow {
		return req, illegalArgument("Result window is too large, from + size must be less than or equal to: [%d] but was [%d].", maxResultWindow, req.from+req.size)
	}
	return req, nil
}

func tokenName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	case string:
		return "VALUE_STRING"
	case json.Number:
		return "VALUE_NUMBER"
	case bool:
		return "VALUE_BOOLEAN"
	}
	return "VALUE_NULL"
}

func nonNegativeInt(name string, v any) (int, *esError) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, parseError("[%s] must be a number", name)
	}
	i, err := strconv.Atoi(n.String())
	if err != nil || i < 0 {
		return 0, illegalArgument("[%s] parameter cannot be negative or fractional, found [%s]", name, n)
	}
	return i, nil
}

func parseSourceFilter(v any) (sourceFilter, *esError) {
	switch s := v.(type) {
	case bool:
		return sourceFilter{none: !s}, nil
	case string:
		return sourceFilter{includes: []string{s}}, nil
	case []any:
		f := sourceFilter{includes: []string{}}
		for _, item := range s {
			name, ok := item.(string)
			if !ok {
				return f, parseError("[_source] entries must be strings")
			}
			f.includes = append(f.includes, name)
		}
		return f, nil
	}
	return sourceFilter{}, parseError("[_source] must be a boolean, a string or an array of field names (the stand-in has no includes/excludes object)")
}

// search runs req on ix and renders the answer; took is measured from start, when the request arrived,
// to when the answer has been rendered.
func (s *StandIn) search(ix *index, req searchRequest, start time.Time) ([]byte, *esError) {
	ix.mu.RLock()
	x := executor{ix: ix}
	h, e := x.run(req.query)
	if e != nil {
		ix.mu.RUnlock()
		return nil, e
	}
	order := make([]int, len(h.docs))
	for i := range order {
		order[i] = i
	}
	// Best first; equal scores in index order, as Lucene breaks ties by document number.
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(float32(h.scores[b]), float32(h.scores[a])); c != 0 {
			return c
		}
		return cmp.Compare(h.docs[a], h.docs[b])
	})
	x.work += int64(len(order))
	var buf bytes.Buffer
	buf.WriteString(`,"hits":{`)
	total := len(h.docs)
	switch {
	case req.trackTotals == 0:
	case req.trackTotals > 0 && total > req.trackTotals:
		buf.WriteString(`"total":{"value":` + strconv.Itoa(req.trackTotals) + `,"relation":"gte"},`)
	default:
		buf.WriteString(`"total":{"value":` + strconv.Itoa(total) + `,"relation":"eq"},`)
	}
	buf.WriteString(`"max_score":`)
	if len(order) == 0 || req.size == 0 {
		buf.WriteString("null")
	} else {
		buf.WriteString(formatScore(h.scores[order[0]]))
	}
	buf.WriteString(`,"hits":[`)
	for n, i := range order[min(req.from, len(order)):min(req.from+req.size, len(order))] {
		if n > 0 {
			buf.WriteByte(',')
		}
		doc := h.docs[i]
		sl := ix.slots[doc]
		id, _ := json.Marshal(sl.id)
		buf.WriteString(`{"_index":` + strconv.Quote(ix.name) + `,"_id":` + string(id) + `,"_score":` + formatScore(h.scores[i]))
		if !req.source.none {
			buf.WriteString(`,"_source":`)
			buf.Write(filterSource(sl.source, req.source.includes))
		}
		buf.WriteByte('}')
	}
	buf.WriteString("]}}")
	ix.mu.RUnlock()
	s.searches.Add(1)
	s.work.Add(x.work)

	took := time.Since(start).Milliseconds()
	head := `{"took":` + strconv.FormatInt(took, 10) + `,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}`
	return append([]byte(head), buf.Bytes()...), nil
}

// formatScore writes a score as Elasticsearch does: a float.
func formatScore(s float64) string {
	return strconv.FormatFloat(float64(float32(s)), 'g', -1, 32)
}

// filterSource returns the members of the JSON object src named in includes, in src's order; includes
// nil means all of src.
func filterSource(src json.RawMessage, includes []string) []byte {
	if includes == nil {
		return src
	}
	var out bytes.Buffer
	out.WriteByte('{')
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.Token() // {
	first := true
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		name, _ := t.(string)
		if !slices.Contains(includes, name) {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(name)
		out.Write(key)
		out.WriteByte(':')
		out.Write(raw)
	}
	out.WriteByte('}')
	return out.Bytes()
}
