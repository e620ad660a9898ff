package queryshape

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// keepKeys are the keys whose string values are names or options that change what Elasticsearch does,
// not data: field names, the type of a multi_match, an operator, an analyzer, a sort order, an
// aggregation's interval. Their values are part of the shape (numbers among them are bucketed).
var keepKeys = map[string]bool{
	"field": true, "fields": true, "default_field": true, "path": true, "_source": true,
	"stored_fields": true, "docvalue_fields": true, "type": true, "operator": true, "default_operator": true,
	"analyzer": true, "search_analyzer": true, "quote_analyzer": true, "fuzziness": true, "rewrite": true,
	"order": true, "mode": true, "score_mode": true, "boost_mode": true, "execution_hint": true,
	"calendar_interval": true, "fixed_interval": true, "interval": true, "zero_terms_query": true,
	"flags": true, "relation": true, "distance_type": true, "validation_method": true, "lang": true,
	"search_type": true, "collect_mode": true, "track_total_hits": true, "track_scores": true,
	"explain": true, "profile": true, "version": true, "seq_no_primary_term": true, "lenient": true,
	"auto_generate_synonyms_phrase_query": true, "allow_leading_wildcard": true, "ignore_unmapped": true,
}

// fieldListKeys hold field names inside a kept value (_source: {includes: [...]}).
var fieldListKeys = map[string]bool{"includes": true, "excludes": true, "include": true, "exclude": true}

// keepBool are the keys whose true/false is an option kept in the shape; other booleans are literals.
var keepBool = keepKeys

// bucketKeys are the keys whose integer values change the cost by their size: kept as a bucket.
var bucketKeys = map[string]bool{
	"size": true, "from": true, "k": true, "num_candidates": true, "shard_size": true,
	"terminate_after": true, "max_expansions": true, "slop": true,
}

// sizeBucket is the bucket of a size or offset: 0, ≤1, ≤10, ≤20, ≤50, ≤100, ≤1000, ≤10000, >10000;
// "?" for a negative or fractional number.
func sizeBucket(v int64) string {
	switch {
	case v < 0:
		return "?"
	case v == 0:
		return "0"
	}
	for _, b := range [...]int64{1, 10, 20, 50, 100, 1000, 10000} {
		if v <= b {
			return "≤" + strconv.FormatInt(b, 10)
		}
	}
	return ">10000"
}

// lengthBucket is the bucket of an array's length: 1, 2–4, 5–16, 17–64, more (65+).
func lengthBucket(n int) string {
	switch {
	case n <= 1:
		return "1"
	case n <= 4:
		return "2–4"
	case n <= 16:
		return "5–16"
	case n <= 64:
		return "17–64"
	}
	return "65+"
}

// unescape returns a JSON string's content with its escapes resolved and invalid UTF-8 replaced,
// cut to at most limit bytes (limit < 0: whole).
func (p *parser) unescape(raw []byte, escaped bool, limit int) []byte {
	out := p.unesc[:0]
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\' && escaped && i+1 < len(raw):
			i += 2
			switch raw[i-1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, n := hex4(raw[i:])
				i += n
				if n == 4 && utf16Surrogate(r) && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2, n2 := hex4(raw[i+2:]); n2 == 4 && r2 >= 0xDC00 && r2 < 0xE000 && r < 0xDC00 {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
						i += 6
					}
				}
				if n < 4 || utf16Surrogate(r) {
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default: // \" \\ \/ and anything else: the character itself
				if raw[i-1] < utf8.RuneSelf {
					out = append(out, raw[i-1])
				} else {
					i-- // a multi-byte character after the backslash: decoded below
				}
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r) // invalid bytes become U+FFFD
			i += n
		}
		if limit >= 0 && len(out) > limit {
			out = out[:limit]
			for len(out) > 0 {
				if r, size := utf8.DecodeLastRune(out); r != utf8.RuneError || size > 1 {
					break
				}
				out = out[:len(out)-1]
			}
			break
		}
	}
	p.unesc = out
	return out
}

func utf16Surrogate(r rune) bool { return r >= 0xD800 && r < 0xE000 }

// hex4 reads up to 4 hex digits: the rune and how many digits there were.
func hex4(b []byte) (rune, int) {
	var r rune
	for i := range min(4, len(b)) {
		c := b[i]
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return r, i
		}
	}
	return r, min(4, len(b))
}

// quote returns s (valid UTF-8) as a JSON string.
func quote(s []byte) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	writeQuoted(&b, string(s))
	return b.String()
}

// fieldKeyed are the query types whose keys are field names (term: {category: "shoes"}): their
// members' values are literals, or objects of options, whatever the field is called.
var fieldKeyed = map[string]bool{
	"term": true, "terms": true, "match": true, "match_phrase": true, "match_phrase_prefix": true,
	"match_bool_prefix": true, "prefix": true, "wildcard": true, "regexp": true, "fuzzy": true, "range": true,
	"geo_distance": true, "geo_bounding_box": true, "geo_shape": true, "geo_polygon": true, "intervals": true,
	"span_term": true, "terms_set": true,
}

// aggOptions are the options of the aggregations named like field-keyed queries (terms, range,
// geo_distance): in those objects they are options, not fields.
var aggOptions = map[string]bool{
	"field": true, "script": true, "size": true, "shard_size": true, "order": true, "include": true,
	"exclude": true, "ranges": true, "keyed": true, "missing": true, "min_doc_count": true, "origin": true,
	"unit": true, "execution_hint": true, "collect_mode": true, "value_type": true, "format": true,
}

// fieldMember reports whether key, in an object that is the value of objKey, names a field.
func fieldMember(objKey, key string) bool {
	return fieldKeyed[objKey] && !aggOptions[key]
}
