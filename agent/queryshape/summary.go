package queryshape

import (
	"strings"
	"unicode/utf8"
)

// MaxSummary is the most bytes a summary takes; a longer one is cut and ends with "…".
const MaxSummary = 120

// compound query types, with the keys that hold their inner queries.
var compound = map[string][]string{
	"bool":           {"must", "filter", "should", "must_not"},
	"script_score":   {"query"},
	"function_score": {"query"},
	"constant_score": {"filter"},
	"boosting":       {"positive", "negative"},
	"dis_max":        {"queries"},
	"nested":         {"query"},
	"has_child":      {"query"},
	"has_parent":     {"query"},
}

// leafOptions are keys of a field-keyed query that are options, not fields.
var leafOptions = map[string]bool{
	"boost": true, "_name": true, "distance": true, "distance_type": true, "validation_method": true,
	"ignore_unmapped": true, "relation": true,
}

// summarize renders a search body's shape for people: its query, then what else changes the cost (a
// ranking script around the query, aggregations, sort, size). When that is longer than MaxSummary, the
// query is cut first, so that the rest stays readable.
func summarize(root *node) string {
	if root.kind != 'o' {
		return cut(root.canonical(), MaxSummary)
	}
	var main string
	var tail summary
	if q := root.get("query"); q != nil {
		// A ranking wrapper at the top (script_score, function_score) is shown after the query it scores.
		if len(q.keys) == 1 && (q.keys[0] == "script_score" || q.keys[0] == "function_score") && q.vals[0].kind == 'o' {
			typ, body := q.keys[0], q.vals[0]
			if inner := body.get("query"); inner != nil {
				main = query(inner)
			}
			var parts []string
			if s := body.get("script"); s != nil {
				parts = append(parts, script(s))
			}
			if f := body.get("functions"); f != nil {
				parts = append(parts, functions(f))
			}
			tail.add(typ + "(" + strings.Join(parts, ", ") + ")")
		} else {
			main = query(q)
		}
	}
	if k := root.get("knn"); k != nil {
		tail.add("knn" + fieldList("knn", k))
	}
	for _, key := range []string{"aggs", "aggregations"} {
		if a := root.get(key); a != nil {
			tail.add("aggs(" + aggs(a) + ")")
		}
	}
	if s := root.get("sort"); s != nil {
		tail.add("sort" + sortList(s))
	}
	for _, key := range []string{"post_filter", "rescore", "collapse", "script_fields", "runtime_mappings", "highlight", "suggest"} {
		if v := root.get(key); v != nil {
			if key == "post_filter" {
				tail.add("post_filter(" + query(v) + ")")
			} else {
				tail.add(key)
			}
		}
	}
	if s := root.get("size"); s != nil {
		tail.add("size" + bucketText(s.text))
	}
	if f := root.get("from"); f != nil && f.text != "0" {
		tail.add("from" + bucketText(f.text))
	}
	rest := tail.Builder.String()
	switch {
	case main == "":
		return cut(rest, MaxSummary)
	case rest == "":
		return cut(main, MaxSummary)
	}
	// Give the query what the rest leaves, but at least half.
	room := max(MaxSummary-len(rest)-1, MaxSummary/2)
	return cut(cut(main, room)+" "+rest, MaxSummary)
}

// summary joins parts with spaces, cut at MaxSummary bytes.
type summary struct{ strings.Builder }

func (b *summary) add(part string) {
	if part == "" {
		return
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(part)
}

func (b *summary) String() string { return cut(b.Builder.String(), MaxSummary) }

// cut shortens s to at most n bytes, ending with "…" when it was longer, on a UTF-8 boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n - len("…")
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "…"
}

func bucketText(t string) string {
	if strings.HasPrefix(t, "≤") || strings.HasPrefix(t, ">") {
		return t
	}
	return " " + t
}

// query renders a query clause: {"type": body}.
func query(q *node) string {
	switch q.kind {
	case 'a':
		return clauses(q)
	case 's':
		return q.text
	}
	var parts []string
	for _, typ := range q.sortedKeys() {
		parts = append(parts, clause(typ, q.get(typ)))
	}
	if q.more {
		parts = append(parts, "…")
	}
	return strings.Join(parts, " ")
}

// clause renders one query of type typ.
func clause(typ string, body *node) string {
	if inner, ok := compound[typ]; ok && body.kind == 'o' {
		var parts []string
		for _, key := range inner {
			v := body.get(key)
			if v == nil {
				continue
			}
			if typ == "bool" {
				parts = append(parts, key+": "+clauses(v))
			} else {
				parts = append(parts, clauses(v))
			}
		}
		if s := body.get("script"); s != nil {
			parts = append(parts, script(s))
		}
		if f := body.get("functions"); f != nil {
			parts = append(parts, "functions: "+functions(f))
		}
		return typ + "(" + strings.Join(parts, ", ") + ")"
	}
	if typ == "script" && body.kind == 'o' {
		return "script(" + script(body.get("script")) + ")"
	}
	return typ + fieldList(typ, body)
}

// clauses renders a clause or an array of them: distinct shapes, then ×length.
func clauses(v *node) string {
	if v.kind != 'a' {
		return query(v)
	}
	if v.n == 0 {
		return "[]"
	}
	v.sortElems()
	var parts []string
	for _, e := range v.elems {
		parts = append(parts, query(e))
	}
	if v.more {
		parts = append(parts, "…")
	}
	s := strings.Join(parts, ", ")
	if len(parts) > 1 {
		s = "(" + s + ")"
	}
	if v.n > 1 {
		s += "×" + lengthBucket(v.n)
	}
	return s
}

// fieldList renders the fields a leaf query reads: [title,description].
func fieldList(typ string, body *node) string {
	var fields []string
	add := func(v *node) { fields = appendNames(fields, v) }
	if body.kind == 'o' {
		add(body.get("field"))
		add(body.get("fields"))
		add(body.get("default_field"))
		if len(fields) == 0 {
			for _, k := range body.sortedKeys() {
				if fieldKeyed[typ] && !leafOptions[k] || !keepKeys[k] && !bucketKeys[k] && k != "query" && !leafOptions[k] {
					fields = append(fields, k)
				}
			}
		}
	}
	if len(fields) == 0 {
		return ""
	}
	return "[" + strings.Join(fields, ",") + "]"
}

// script renders a script: by its stored id, or by the first 4 hex digits of its source's hash.
func script(s *node) string {
	if s == nil {
		return "script"
	}
	if s.kind == 's' {
		return "script " + shortHash(s.text)
	}
	if id := s.get("id"); id != nil {
		return "script id " + strings.Trim(id.text, `"`)
	}
	for _, key := range []string{"source", "inline"} {
		if src := s.get(key); src != nil {
			return "script " + shortHash(src.text)
		}
	}
	return "script"
}

func shortHash(text string) string {
	h, ok := strings.CutPrefix(text, "script:")
	if !ok || len(h) < 4 {
		return text
	}
	return h[:4]
}

// functions renders function_score's functions: their types.
func functions(f *node) string {
	if f.kind != 'a' {
		return "?"
	}
	var parts []string
	for _, e := range f.elems {
		if e.kind != 'o' {
			continue
		}
		for _, k := range e.sortedKeys() {
			if k == "filter" || k == "weight" {
				continue
			}
			if k == "script_score" {
				parts = append(parts, "script_score("+script(e.get(k).get("script"))+")")
				continue
			}
			parts = append(parts, k+fieldList(k, e.get(k)))
		}
	}
	return strings.Join(parts, ", ")
}

// aggs renders aggregations: type[field] of each, sub-aggregations after >.
func aggs(a *node) string {
	if a.kind != 'o' {
		return "?"
	}
	var parts []string
	for _, name := range a.sortedKeys() {
		body := a.get(name)
		if body.kind != 'o' {
			continue
		}
		for _, typ := range body.sortedKeys() {
			if typ == "aggs" || typ == "aggregations" || typ == "meta" {
				continue
			}
			p := typ + fieldList("", body.get(typ))
			if s := body.get(typ).get("script"); s != nil {
				p += "(" + script(s) + ")"
			}
			parts = append(parts, p)
		}
		for _, sub := range []string{"aggs", "aggregations"} {
			if s := body.get(sub); s != nil {
				parts = append(parts, ">("+aggs(s)+")")
			}
		}
	}
	return strings.Join(parts, ", ")
}

// sortList renders a sort: its fields.
func sortList(s *node) string {
	var fields []string
	var add func(v *node)
	add = func(v *node) {
		switch v.kind {
		case 's':
			for _, t := range v.scalarTexts() {
				fields = append(fields, strings.Trim(t, `"`))
			}
		case 'a', 'u':
			for _, e := range v.elems {
				add(e)
			}
		case 'o':
			for _, k := range v.sortedKeys() {
				if k == "_script" {
					fields = append(fields, script(v.get(k).get("script")))
					continue
				}
				fields = append(fields, k)
			}
		}
	}
	add(s)
	return "[" + strings.Join(fields, ",") + "]"
}

// appendNames appends the kept strings of v (a scalar, or an array or union of them), unquoted.
func appendNames(names []string, v *node) []string {
	if v == nil {
		return names
	}
	switch v.kind {
	case 's':
		for _, t := range v.scalarTexts() {
			if strings.HasPrefix(t, `"`) {
				names = append(names, strings.Trim(t, `"`))
			}
		}
	case 'a', 'u':
		for _, e := range v.elems {
			names = appendNames(names, e)
		}
	}
	return names
}
