package estest

import (
	"encoding/json"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// refresh answers POST /<indices>/_refresh: documents are searchable as soon as they are indexed here.
func (s *Server) refresh(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"_shards":{"total":1,"successful":1,"failed":0}}`))
}

// search answers POST /<indices>/_search with the number of matching documents only (size 0), for the
// two queries tests count with: {"term":{"<field>":"<value>"}} on a string field of the source, and
// {"ids":{"values":[...]}}. Anything else is refused, so a test cannot believe it searched.
func (s *Server) search(w http.ResponseWriter, r *http.Request, indices string) {
	var req struct {
		Query struct {
			Term map[string]json.RawMessage `json:"term"`
			IDs  *struct {
				Values []string `json:"values"`
			} `json:"ids"`
		} `json:"query"`
		Size *int `json:"size"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxContentLength))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "parse_exception", "estest: search body: "+err.Error())
		return
	}
	if size := r.URL.Query().Get("size"); size != "" && size != "0" || req.Size != nil && *req.Size != 0 {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", "estest: search returns counts only (size 0)")
		return
	}
	var match func(Doc) bool
	switch {
	case len(req.Query.Term) == 1 && req.Query.IDs == nil:
		for field, raw := range req.Query.Term {
			var want string
			if err := json.Unmarshal(raw, &want); err != nil {
				writeError(w, http.StatusBadRequest, "parse_exception", "estest: term value must be a string")
				return
			}
			match = func(d Doc) bool { return sourceField(d.Source, field) == want }
		}
	case req.Query.IDs != nil && len(req.Query.Term) == 0:
		ids := map[string]bool{}
		for _, id := range req.Query.IDs.Values {
			ids[id] = true
		}
		match = func(d Doc) bool { return ids[d.ID] }
	default:
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", "estest: only a term or an ids query is implemented")
		return
	}
	patterns := strings.Split(indices, ",")
	s.mu.Lock()
	n := 0
	for _, d := range s.docs {
		if matchIndex(patterns, d.Index) && match(d) {
			n++
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"took":1,"timed_out":false,"hits":{"total":{"value":` + strconv.Itoa(n) +
		`,"relation":"eq"},"hits":[]}}`))
}

// matchIndex reports whether name matches one of the index patterns ("*" wildcards).
func matchIndex(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// sourceField returns the string at a dotted path of a JSON source ("" when absent or not a string).
func sourceField(src []byte, field string) string {
	var v any
	if json.Unmarshal(src, &v) != nil {
		return ""
	}
	for _, k := range strings.Split(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}
