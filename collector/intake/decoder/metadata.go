package decoder

// decodeMetadataLine decodes the stream's first line into d.meta.
func (d *Decoder) decodeMetadataLine(line []byte) *Error {
	switch string(eventType(line)) {
	case "metadata":
	case "m":
		return &Error{Kind: ErrMetadata, Message: `decode error: RUM v3 streams ("m" metadata) are not supported`, Document: string(line)}
	default:
		return &Error{Kind: ErrMetadata, Message: `"metadata" or "m" required`, Document: string(line)}
	}
	d.s.reset(line)
	d.v.reset()
	d.metaLS.strs.reset()
	d.metaLS.nums.reset()
	d.metaLS.start(nil, nil)
	s := &d.s
	set := false
	if s.beginObject() {
		var key []byte
		for first := true; s.nextKey(&first, &key); {
			if string(key) == "metadata" {
				d.v.push("metadata")
				set = d.metadata() || set
				d.v.pop()
			} else {
				s.skip()
			}
			if s.err != nil {
				s.frame("v2.metadataRoot", key)
				break
			}
		}
		if s.err != nil && s.err.inKey {
			s.frame("v2.metadataRoot", nil)
		}
	}
	switch {
	case s.err != nil:
		return &Error{Kind: ErrDecode, Message: "decode error: data read error: " + s.err.message(), Document: string(line)}
	case !set:
		return &Error{Kind: ErrValidation, Message: "validation error: 'metadata' required", Document: string(line)}
	case d.v.failed():
		return &Error{Kind: ErrValidation, Message: d.v.message(), Document: string(line)}
	}
	if d.metaLS.own {
		// Metadata labels replace any the base event had (apm-data's GlobalLabelsFrom).
		d.meta.Labels, d.meta.NumericLabels = d.metaLS.result()
	}
	return nil
}

// stringOrInt reads a nullable.Interface field validated as inputTypes=string;int with maxLength 1024
// (user.id, exception code, url port), keeping a number as its text. port additionally requires a
// string to hold an integer (targetType=int).
func (d *Decoder) stringOrInt(dst *string, field string, port bool) bool {
	s := &d.s
	switch c := s.peek(); {
	case c == '"':
		v, _ := s.str()
		*dst = v
		if tooLong(v, 1024) {
			d.v.maxLength(field, 1024)
		} else if port && !isAtoi(v) {
			d.v.fail("'" + field + "': validation rule 'targetType(int)' violated")
		}
		return true
	case c == 'n':
		s.null()
		return false
	case isNumberStart(c):
		text, _ := s.looseNumber()
		if s.err != nil {
			return false
		}
		*dst = d.arena.str(text)
		if !isInt64(text) {
			d.v.fail("'" + field + "': validation rule 'inputTypes(string;int)' violated")
		}
		return true
	}
	// Any other JSON value decodes (nullable.Interface takes anything) but fails validation.
	s.skip()
	d.v.fail("'" + field + "': validation rule 'inputTypes(string;int)' violated ")
	return true
}

// isInt64 reports whether a JSON number's text is an integer that fits int64 (json.Number.Int64).
func isInt64(text []byte) bool {
	digits := bytesToString(text)
	neg := digits != "" && digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	return digits != "" && fitsInt64(digits, neg)
}

// isAtoi reports whether strconv.Atoi accepts s.
func isAtoi(s string) bool {
	neg := s != "" && s[0] == '-'
	if s != "" && (neg || s[0] == '+') {
		s = s[1:]
	}
	return s != "" && fitsInt64(s, neg)
}

// fitsInt64 reports whether digits, which follow a sign (neg: '-') or none, are ASCII digits whose
// value is an int64.
func fitsInt64(digits string, neg bool) bool {
	if len(digits) > 19 {
		return false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(digits) == 19 {
		if neg {
			return digits <= "9223372036854775808"
		}
		return digits <= "9223372036854775807"
	}
	return true
}

// alphaNumericExt is apm-data's patternAlphaNumericExt, ^[a-zA-Z0-9 _-]+$.
func alphaNumericExt(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == ' ', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
