package esstandin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode"
)

// fieldType is a mapped field's type, as far as the stand-in tells them apart.
type fieldType uint8

const (
	textField    fieldType = iota + 1 // analyzed, scored with BM25
	keywordField                      // exact values, filters and doc values
	longField                         // long, integer, short, byte
	doubleField                       // double
	floatField                        // float: values rounded to float32, as Elasticsearch stores them
)

func (t fieldType) numeric() bool { return t >= longField }

// analyzer is the one kind of analyzer the stand-in runs: the whitespace tokenizer, optionally followed
// by the lowercase filter. Text fields must name one ("whitespace", or a custom analyzer defined so).
type analyzer struct {
	lowercase bool
}

// maxTokenLength is the whitespace tokenizer's default max_token_length: longer runs are split.
const maxTokenLength = 255

// analyze appends the terms of s to dst.
func (a analyzer) analyze(dst []string, s string) []string {
	for _, f := range strings.FieldsFunc(s, unicode.IsSpace) {
		if a.lowercase {
			f = strings.ToLower(f)
		}
		for len(f) > 0 {
			n := min(len(f), maxTokenLength) // in bytes here; Lucene counts UTF-16 units
			for n < len(f) && !isRuneStart(f[n]) {
				n--
			}
			dst = append(dst, f[:n])
			f = f[n:]
		}
	}
	return dst
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

type fieldMapping struct {
	typ      fieldType
	analyzer analyzer // text fields
}

// mapping is an index's mappings: flat fields only, never dynamic.
type mapping struct {
	strict bool // dynamic: strict refuses documents with unmapped fields; false keeps them unindexed
	fields map[string]fieldMapping
}

// settings are the index settings the stand-in accepts.
type indexSettings struct {
	analyzers map[string]analyzer
}

// createBody is PUT /{index}'s body.
type createBody struct {
	Settings map[string]json.RawMessage `json:"settings"`
	Mappings json.RawMessage            `json:"mappings"`
}

func mapperError(format string, args ...any) *esError {
	return errorf(http.StatusBadRequest, "mapper_parsing_exception", format, args...)
}

// parseCreate parses PUT /{index}'s body (empty: no settings, no mappings, which the stand-in refuses
// since it never maps dynamically).
func parseCreate(body []byte) (mapping, *esError) {
	var cb createBody
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeStrict(body, &cb); err != nil {
			return mapping{}, parseError("create index body: %v", err)
		}
	}
	st, e := parseSettings(cb.Settings)
	if e != nil {
		return mapping{}, e
	}
	return parseMappings(cb.Mappings, st)
}

func parseSettings(raw map[string]json.RawMessage) (indexSettings, *esError) {
	st := indexSettings{analyzers: map[string]analyzer{"whitespace": {}}}
	flat := map[string]json.RawMessage{}
	for k, v := range raw {
		if k == "index" {
			var nested map[string]json.RawMessage
			if err := json.Unmarshal(v, &nested); err != nil {
				return st, illegalArgument("settings.index: %v", err)
			}
			for nk, nv := range nested {
				flat[nk] = nv
			}
			continue
		}
		flat[strings.TrimPrefix(k, "index.")] = v
	}
	for k, v := range flat {
		switch k {
		case "number_of_shards", "number_of_replicas", "refresh_interval":
			// Accepted; the stand-in has one shard, no replica and searches what is indexed at once.
		case "analysis":
			if e := parseAnalysis(v, st.analyzers); e != nil {
				return st, e
			}
		default:
			return st, illegalArgument("unknown setting [index.%s] please check that any required plugins are installed, or check the breaking changes documentation for removed settings", k)
		}
	}
	return st, nil
}

func parseAnalysis(raw json.RawMessage, into map[string]analyzer) *esError {
	var analysis struct {
		Analyzer map[string]struct {
			Type      string   `json:"type"`
			Tokenizer string   `json:"tokenizer"`
			Filter    []string `json:"filter"`
		} `json:"analyzer"`
	}
	if err := decodeStrict(raw, &analysis); err != nil {
		return illegalArgument("settings.analysis (the stand-in knows only analyzers): %v", err)
	}
	for name, a := range analysis.Analyzer {
		if a.Type != "custom" || a.Tokenizer != "whitespace" {
			return illegalArgument("analyzer [%s]: the stand-in runs only custom analyzers with the whitespace tokenizer", name)
		}
		var an analyzer
		for _, f := range a.Filter {
			if f != "lowercase" {
				return illegalArgument("analyzer [%s]: the stand-in knows only the lowercase filter, not [%s]", name, f)
			}
			an.lowercase = true
		}
		into[name] = an
	}
	return nil
}

func parseMappings(raw json.RawMessage, st indexSettings) (mapping, *esError) {
	var m struct {
		Dynamic    any                                   `json:"dynamic"`
		Properties map[string]map[string]json.RawMessage `json:"properties"`
	}
	if len(raw) == 0 {
		return mapping{}, mapperError("the stand-in needs mappings with dynamic false or strict: it never maps fields dynamically")
	}
	if err := decodeStrict(raw, &m); err != nil {
		return mapping{}, mapperError("mappings: %v", err)
	}
	out := mapping{fields: map[string]fieldMapping{}}
	switch m.Dynamic {
	case "strict":
		out.strict = true
	case false, "false":
	default:
		return mapping{}, mapperError("the stand-in needs mappings.dynamic false or strict (got %v): it never maps fields dynamically", m.Dynamic)
	}
	names := make([]string, 0, len(m.Properties))
	for name := range m.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fm, e := parseField(name, m.Properties[name], st)
		if e != nil {
			return mapping{}, e
		}
		out.fields[name] = fm
	}
	return out, nil
}

func parseField(name string, params map[string]json.RawMessage, st indexSettings) (fieldMapping, *esError) {
	if strings.ContainsAny(name, ".*") || name == "" || strings.HasPrefix(name, "_") {
		return fieldMapping{}, mapperError("field name [%s]: the stand-in maps only plain top-level names", name)
	}
	var typ string
	if err := json.Unmarshal(params["type"], &typ); err != nil {
		return fieldMapping{}, mapperError("no type specified for field [%s] (the stand-in has no object fields)", name)
	}
	var fm fieldMapping
	switch typ {
	case "text":
		fm.typ = textField
	case "keyword":
		fm.typ = keywordField
	case "long", "integer", "short", "byte":
		fm.typ = longField
	case "double":
		fm.typ = doubleField
	case "float":
		fm.typ = floatField
	default:
		return fieldMapping{}, mapperError("field [%s]: the stand-in does not support type [%s]", name, typ)
	}
	for param, v := range params {
		switch {
		case param == "type":
		case param == "analyzer" && fm.typ == textField:
			var an string
			json.Unmarshal(v, &an)
			a, ok := st.analyzers[an]
			if !ok {
				return fieldMapping{}, mapperError("analyzer [%s] has not been configured in mappings (field [%s])", an, name)
			}
			fm.analyzer = a
		default:
			return fieldMapping{}, mapperError("unknown parameter [%s] on mapper [%s] of type [%s]", param, name, typ)
		}
	}
	if fm.typ == textField {
		if _, ok := params["analyzer"]; !ok {
			return fieldMapping{}, mapperError("text field [%s] needs an analyzer: the stand-in has no standard analyzer", name)
		}
	}
	return fm, nil
}

// decodeStrict decodes a JSON value into v, refusing unknown members and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}
