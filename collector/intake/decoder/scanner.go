package decoder

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds the nesting of JSON objects and arrays in one event. jsoniter, which APM Server uses,
// allows 10000; no agent nests deeper than a few dozen levels, and the bound keeps recursion (and so
// goroutine stack) small for hostile input.
const maxDepth = 1000

// scanner is a single-pass JSON tokenizer over one ndjson line. It never writes to buf: the line stays
// intact for error documents. Strings that the decoder keeps are copied (unescaped) into the arena as
// they are read; keys and other transient tokens are views of buf, or of keyBuf when they had escapes.
//
// Errors are sticky: the first one is kept in err and every later call returns a zero value, so callers
// check err once per field rather than after every token.
type scanner struct {
	buf    []byte
	pos    int
	depth  int
	err    *syntaxError
	arena  *arena
	keyBuf []byte
	// strict makes skip accept only JSON numbers; otherwise it skips them as jsoniter does (tests of
	// the tokenizer against encoding/json use strict).
	strict bool
}

// syntaxError is a JSON syntax or type error. frames name where it happened (innermost first) in the
// layout of jsoniter's messages, which APM Server returns after "decode error: data read error: ".
type syntaxError struct {
	msg    string
	frames []string
	inKey  bool // the error is in an object key or separator (jsoniter: "readFieldHash")
}

func (e *syntaxError) message() string {
	n := len(e.msg)
	for _, f := range e.frames {
		n += len(f) + 2
	}
	b := make([]byte, 0, n)
	for i := len(e.frames) - 1; i >= 0; i-- {
		b = append(b, e.frames[i]...)
		b = append(b, ": "...)
	}
	b = append(b, e.msg...)
	return string(b)
}

func (s *scanner) reset(buf []byte) {
	s.buf = buf
	s.pos = 0
	s.depth = 0
	s.err = nil
}

func (s *scanner) fail(msg string) {
	if s.err == nil {
		s.err = &syntaxError{msg: msg}
	}
	s.pos = len(s.buf)
}

func (s *scanner) failKey(msg string) {
	if s.err == nil {
		s.err = &syntaxError{msg: msg, inKey: true}
	}
	s.pos = len(s.buf)
}

// frame records that the pending error happened in field key of the apm-data struct typeName.
func (s *scanner) frame(typeName string, key []byte) {
	if s.err == nil {
		return
	}
	if s.err.inKey {
		s.err.inKey = false
		s.err.frames = append(s.err.frames, typeName+".readFieldHash")
		return
	}
	s.err.frames = append(s.err.frames, typeName+"."+goFieldName(key))
}

// ws skips whitespace and returns the next byte, or 0 at the end of input.
func (s *scanner) ws() byte {
	b := s.buf
	i := s.pos
	for i < len(b) {
		c := b[i]
		// Every whitespace byte is <= ' '; anything above it ends the run at once.
		if c > ' ' || (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
			s.pos = i
			return c
		}
		i++
	}
	s.pos = len(b)
	return 0
}

// peek returns the first byte of the next value without consuming anything.
func (s *scanner) peek() byte { return s.ws() }

func (s *scanner) literal(lit string) bool {
	if len(s.buf)-s.pos >= len(lit) && string(s.buf[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

// null consumes a null if one comes next.
func (s *scanner) null() bool {
	if s.ws() == 'n' {
		return s.readNull()
	}
	return false
}

// readNull consumes the null at s.pos, whose first byte is 'n', and reports whether it was one.
func (s *scanner) readNull() bool {
	if s.literal("null") {
		return true
	}
	s.fail("ReadNil: expect n,")
	return false
}

func (s *scanner) push() bool {
	s.depth++
	if s.depth > maxDepth {
		s.fail("exceeded max depth,")
		return false
	}
	return true
}

// beginObject consumes '{' and reports true, or consumes null and reports false. Anything else is an
// error (and false).
func (s *scanner) beginObject() bool { return s.begin('{') }

// beginArray consumes '[' and reports true, or consumes null and reports false; anything else is an error.
func (s *scanner) beginArray() bool { return s.begin('[') }

// begin consumes open, '{' or '[', and reports true, or consumes null and reports false; anything else
// is an error.
func (s *scanner) begin(open byte) bool {
	switch s.ws() {
	case open:
		s.pos++
		return s.push()
	case 'n':
		s.readNull()
		return false
	}
	if open == '{' {
		s.fail("readObjectStart: expect { or n,")
	} else {
		s.fail("ReadArray: expect [ or n,")
	}
	return false
}

// nextKey advances to the next member of the object opened by beginObject and reports true with its key
// in *key, or consumes the closing '}' and reports false. *first must be true before the first call.
// The key is a view of the input (unescaped in place) valid until the scanner is reset.
func (s *scanner) nextKey(first *bool, key *[]byte) bool { return s.member(first, key, false) }

// nextKeyRaw is nextKey returning the key's raw text, quotes and escapes included, without rewriting
// it.
func (s *scanner) nextKeyRaw(first *bool, key *[]byte) bool { return s.member(first, key, true) }

// member is nextKey, or with raw nextKeyRaw.
func (s *scanner) member(first *bool, key *[]byte, raw bool) bool {
	c := s.ws()
	if c == '}' {
		s.pos++
		s.depth--
		return false
	}
	if !*first {
		if c != ',' {
			if s.err == nil {
				s.failKey("expect , or },")
			}
			return false
		}
		s.pos++
		c = s.ws()
	}
	*first = false
	if c != '"' {
		s.failKey("expect \",")
		return false
	}
	var k []byte
	if raw {
		start := s.pos
		if s.skipString(); s.err != nil {
			return false
		}
		k = s.buf[start:s.pos:s.pos]
	} else {
		// Fast path: a key without escapes that ends within the next sixteen bytes, followed by ':'.
		b := s.buf
		if i := s.pos + 1; i+16 <= len(b) {
			w := i
			m := attention(binary.LittleEndian.Uint64(b[w:]))
			if m == 0 {
				w += 8
				m = attention(binary.LittleEndian.Uint64(b[w:]))
			}
			if m != 0 {
				if j := w + bits.TrailingZeros64(m)>>3; b[j] == '"' && j+1 < len(b) && b[j+1] == ':' {
					s.pos = j + 2
					*key = b[i:j:j]
					return true
				}
			}
		}
		var ok bool
		if k, ok = s.stringBytes(); !ok {
			return false
		}
	}
	if s.ws() != ':' {
		s.failKey("expect :,")
		return false
	}
	s.pos++
	*key = k
	return true
}

// nextElem advances to the next element of the array opened by beginArray, or consumes the closing ']'
// and reports false.
func (s *scanner) nextElem(first *bool) bool {
	c := s.ws()
	if c == ']' {
		s.pos++
		s.depth--
		return false
	}
	if c == 0 {
		s.fail("ReadArray: incomplete array,")
		return false
	}
	if !*first {
		if c != ',' {
			s.fail("ReadArray: expect , or ],")
			return false
		}
		s.pos++
		if c = s.ws(); c == ']' || c == 0 {
			s.fail("ReadArray: expect value after ,")
			return false
		}
	}
	*first = false
	return true
}

// strState marks the bytes a string scan must stop at: the quote, the backslash, and control
// characters, which JSON does not allow unescaped.
var strState = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// scanString reads a string starting at its opening quote (s.buf[s.pos] == '"'), validating it, and
// returns its raw content (between the quotes) and whether it contains escapes.
func (s *scanner) scanString() (raw []byte, escaped, ok bool) {
	b := s.buf
	start := s.pos + 1
	i := start
	for {
		// Find the next quote, backslash or control character, eight bytes at a time.
		found := false
		for i+8 <= len(b) {
			if m := attention(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				found = true
				break
			}
			i += 8
		}
		if !found {
			for i < len(b) && !strState[b[i]] {
				i++
			}
			if i >= len(b) {
				s.fail("ReadString: incomplete string,")
				return nil, false, false
			}
		}
		switch c := b[i]; {
		case c == '"':
			s.pos = i + 1
			return b[start:i:i], escaped, true
		case c < 0x20:
			s.fail("ReadString: invalid control character in string,")
			return nil, false, false
		}
		// A backslash.
		if i+1 >= len(b) {
			s.fail("ReadString: incomplete string,")
			return nil, false, false
		}
		escaped = true
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if _, ok := hex4(b, i+2); !ok {
				s.fail("ReadString: invalid \\u escape,")
				return nil, false, false
			}
			i += 6
		default:
			s.fail("ReadString: invalid escape char after \\,")
			return nil, false, false
		}
	}
}

// stringBytes reads a string at the opening quote and returns its unescaped content as a transient view
// (of buf, or of keyBuf when it had escapes) valid until the next call.
func (s *scanner) stringBytes() ([]byte, bool) {
	raw, escaped, ok := s.scanString()
	if !ok || !escaped {
		return raw, ok
	}
	s.keyBuf = appendUnescaped(s.keyBuf[:0], raw)
	return s.keyBuf, true
}

// appendUnescaped appends the unescaped form of raw, the validated content of a JSON string, to dst.
// Invalid surrogates become U+FFFD, as with encoding/json.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		e := raw[i+1]
		i += 2
		if e != 'u' {
			dst = append(dst, unescapes[e])
			continue
		}
		r, _ := hex4(raw, i)
		i += 4
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if v, ok := hex4(raw, i+2); ok {
					r2 = v
				}
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				i += 6
				r = dec
			} else {
				r = utf8.RuneError
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// unescapes maps the letter of a JSON escape other than \u to the byte it stands for.
var unescapes = [256]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\', '/': '/'}

// attention returns a mask whose lowest set bit is the top bit of the first byte of v (little endian)
// that is a quote, a backslash or a control character, or 0 if there is none. (SWAR: a byte equal to x
// makes (b^x)-1 borrow into its top bit, a byte below 0x20 makes b-0x20 borrow; borrows can only mark
// bytes above a true match, so the lowest mark is exact.)
func attention(v uint64) uint64 {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	q := v ^ (ones * '"')
	bs := v ^ (ones * '\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (v-ones*0x20)&^v) & highs
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// bytesToString returns a string sharing b's memory, for transient use (map lookups, parsing).
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// str reads a string or null. It returns the string, copied into the arena, and true, or "" and false
// for null; anything else is an error.
func (s *scanner) str() (string, bool) {
	switch s.ws() {
	case '"':
		raw, escaped, ok := s.scanString()
		if !ok {
			return "", false
		}
		if !escaped {
			return s.arena.str(raw), true
		}
		return s.arena.unescaped(raw), true
	case 'n':
		s.readNull()
		return "", false
	}
	s.fail("ReadString: expects \" or n,")
	return "", false
}

// number scans a JSON number at s.pos and returns its text.
func (s *scanner) number() ([]byte, bool) {
	b := s.buf
	start := s.pos
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		s.fail("readNumber: unexpected end,")
		return nil, false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		i = skipDigits(b, i+1)
	} else {
		s.fail("readNumber: unexpected character,")
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		if i = skipDigits(b, i+1); b[i-1] == '.' {
			s.fail("readNumber: missing digits after decimal point,")
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		exp := i
		if i = skipDigits(b, i); i == exp {
			s.fail("readNumber: missing exponent digits,")
			return nil, false
		}
	}
	s.pos = i
	return b[start:i:i], true
}

// skipDigits returns the index of the first byte of b at or after i that is not an ASCII digit.
func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// isNumberChar reports whether c is one of the characters jsoniter collects as number text.
func isNumberChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// looseNumber reads a number the way jsoniter reads one into an interface{} (json.Number): any run of
// digits, signs, dots and exponent letters, unchecked. A run that is not valid JSON is still accepted
// as a value (APM Server accepts it); callers decide what it becomes. It reports whether the text is a
// valid JSON number.
func (s *scanner) looseNumber() (text []byte, valid bool) {
	b := s.buf
	start := s.pos
	i := start
	for i < len(b) && isNumberChar(b[i]) {
		i++
	}
	if i == start {
		s.fail("readNumberAsString: invalid number,")
		return nil, false
	}
	text = b[start:i:i]
	sub := scanner{buf: text}
	if _, ok := sub.number(); ok && sub.pos == len(text) {
		s.pos = i
		return text, true
	}
	s.pos = i
	return text, false
}

// skipNumber skips a number of an ignored field as jsoniter's Skip does: one starting with 0 must be
// a JSON number that fits a float32; otherwise digits and dots up to a delimiter are taken as they are
// (a second dot, or a dot not followed by a digit, is an error), and any other form must parse as a
// float (ReadFloat64, then big.Float).
func (s *scanner) skipNumber() {
	b := s.buf
	start := s.pos
	if b[start] == '0' {
		// jsoniter reads these with ReadFloat32: a JSON number that fits a float32.
		text, ok := s.number()
		if ok {
			if _, err := strconv.ParseFloat(bytesToString(text), 32); err != nil {
				s.fail("ReadFloat32: " + err.(*strconv.NumError).Err.Error() + ",")
			}
		}
		return
	}
	dot := false
	for i := start; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			continue
		case c == '.':
			if dot {
				s.fail("validateNumber: more than one dot found in number,")
				return
			}
			if i+1 < len(b) && (b[i+1] < '0' || b[i+1] > '9') {
				s.fail("validateNumber: missing digit after dot,")
				return
			}
			dot = true
			continue
		case c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if i > start {
				s.pos = i
				return
			}
		}
		break
	}
	text, valid := s.looseNumber()
	if s.err != nil || valid {
		return
	}
	if _, ok := new(big.Float).SetString(string(text)); !ok {
		s.fail("ReadBigFloat: invalid number,")
	}
}

// isNumberStart reports whether c can start a JSON number.
func isNumberStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// int reads an integer or null, as jsoniter's ReadInt64 does: a fraction or exponent is an error.
func (s *scanner) int() (int64, bool) {
	u, ok := s.integer(true)
	return int64(u), ok
}

// uint reads a non-negative integer (jsoniter's ReadUint64, for []uint64 histogram counts).
func (s *scanner) uint() (uint64, bool) { return s.integer(false) }

// integer reads an integer or null as jsoniter's ReadInt64 (signed: returned as the int64's bits) or
// ReadUint64 does: a value that is not an integer (a fraction, an exponent, a leading zero) or past its
// type's range is an error.
func (s *scanner) integer(signed bool) (uint64, bool) {
	c := s.ws()
	neg := c == '-' && signed
	switch {
	case c == 'n':
		s.readNull()
		return 0, false
	case neg:
		s.pos++
	case c < '0' || c > '9':
		s.failInt(signed, "unexpected character,")
		return 0, false
	}
	b := s.buf
	i := s.pos
	var u uint64
	d := i
	// Eight digits at a time while they fit (timestamps have sixteen).
	for i+8 <= len(b) && i-d < 16 {
		v := binary.LittleEndian.Uint64(b[i:])
		if !eightDigits(v) {
			break
		}
		u = u*100000000 + parseEightDigits(v)
		i += 8
	}
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if u > (math.MaxUint64-9)/10 {
			s.failInt(signed, "overflow,")
			return 0, false
		}
		u = u*10 + uint64(b[i]-'0')
		i++
	}
	switch {
	case i == d:
		s.failInt(signed, "unexpected character,")
		return 0, false
	case i-d > 1 && b[d] == '0':
		s.failInt(signed, "leading zero,")
		return 0, false
	case i < len(b) && b[i] == '.':
		s.fail("assertInteger: can not decode float as int,")
		return 0, false
	case i < len(b) && (b[i] == 'e' || b[i] == 'E'):
		s.failInt(signed, "exponent in integer,")
		return 0, false
	case signed && (neg && u > 1<<63 || !neg && u > math.MaxInt64):
		s.failInt(signed, "overflow,")
		return 0, false
	}
	s.pos = i
	if neg {
		return uint64(-int64(u)), true
	}
	return u, true
}

// failInt fails with msg as integer's function (ReadInt64 when signed, else ReadUint64) says it.
func (s *scanner) failInt(signed bool, msg string) {
	if signed {
		s.fail("ReadInt64: " + msg)
	} else {
		s.fail("ReadUint64: " + msg)
	}
}

// eightDigits reports whether the eight bytes of v (little endian) are all ASCII digits.
func eightDigits(v uint64) bool {
	return v&0xF0F0F0F0F0F0F0F0 == 0x3030303030303030 && (v+0x0606060606060606)&0xF0F0F0F0F0F0F0F0 == 0x3030303030303030
}

// parseEightDigits converts eight ASCII digits (little endian in v, the first digit in the low byte)
// to their value.
func parseEightDigits(v uint64) uint64 {
	v -= 0x3030303030303030
	v = v*10 + v>>8
	v = ((v&0x000000FF000000FF)*(100+(1000000<<32)) + (v>>16&0x000000FF000000FF)*(1+(10000<<32))) >> 32
	return v
}

// float reads a number or null.
func (s *scanner) float() (float64, bool) {
	c := s.ws()
	if c == 'n' {
		s.readNull()
		return 0, false
	}
	if c == '+' {
		return s.plusFloat()
	}
	if !isNumberStart(c) {
		s.fail("ReadFloat64: unexpected character,")
		return 0, false
	}
	if f, n, ok := fastFloat(s.buf[s.pos:]); ok {
		s.pos += n
		return f, true
	}
	text, ok := s.number()
	if !ok {
		return 0, false
	}
	return s.parseFloat(text)
}

// plusFloat reads a float that starts with '+', which JSON does not allow but jsoniter (and so APM
// Server) reads: the run of number characters after it, checked as jsoniter checks it (no dot at the
// end, a digit after the dot), then strconv.ParseFloat.
func (s *scanner) plusFloat() (float64, bool) {
	b := s.buf
	start := s.pos
	i := start
	for i < len(b) {
		c := b[i]
		if c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E' {
			i++
			continue
		}
		break
	}
	text := b[start:i]
	if dot := bytes.IndexByte(text, '.'); dot >= 0 {
		if dot == len(text)-1 || text[dot+1] < '0' || text[dot+1] > '9' {
			s.fail("readFloat64SlowPath: invalid number,")
			return 0, false
		}
	}
	s.pos = i
	return s.parseFloat(text)
}

func (s *scanner) parseFloat(text []byte) (float64, bool) {
	f, err := strconv.ParseFloat(bytesToString(text), 64)
	if err != nil {
		s.fail("ReadFloat64: " + err.(*strconv.NumError).Err.Error() + ",")
		return 0, false
	}
	return f, true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat parses a number at the start of b in the common form -?(0|[1-9][0-9]*)(.[0-9]+)? with at
// most 15 significant digits, which is exact in float64 (Clinger's fast path: an integer below 2^53
// divided by an exact power of ten is correctly rounded), and returns its length. It declines anything
// else (exponents, longer mantissas, malformed numbers), which number and strconv.ParseFloat then handle.
func fastFloat(b []byte) (float64, int, bool) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var mant uint64
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if mant != 0 || b[i] != '0' {
			digits++
		}
		mant = mant*10 + uint64(b[i]-'0')
		i++
	}
	if i == start || (b[start] == '0' && i-start > 1) {
		return 0, 0, false
	}
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if mant != 0 || b[i] != '0' {
				digits++
			}
			mant = mant*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - fs
		if frac == 0 {
			return 0, 0, false
		}
	}
	if digits > 15 || frac >= len(pow10) || (i < len(b) && (b[i] == 'e' || b[i] == 'E')) {
		return 0, 0, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, i, true
}

// bool reads true, false or null.
func (s *scanner) bool() (v, ok bool) {
	switch s.ws() {
	case 't':
		if s.literal("true") {
			return true, true
		}
	case 'f':
		if s.literal("false") {
			return false, true
		}
	case 'n':
		s.readNull()
		return false, false
	}
	s.fail("ReadBool: expect t or f,")
	return false, false
}

// skip validates and skips one value of any type.
func (s *scanner) skip() {
	switch c := s.ws(); c {
	case '{':
		s.pos++
		if !s.push() {
			return
		}
		var key []byte
		for first := true; s.nextKey(&first, &key); {
			s.skip()
		}
	case '[':
		s.pos++
		if !s.push() {
			return
		}
		for first := true; s.nextElem(&first); {
			s.skip()
		}
	case '"':
		s.skipString()
	case 't':
		if !s.literal("true") {
			s.fail("Skip: invalid literal,")
		}
	case 'f':
		if !s.literal("false") {
			s.fail("Skip: invalid literal,")
		}
	case 'n':
		if !s.literal("null") {
			s.fail("Skip: invalid literal,")
		}
	default:
		if isNumberStart(c) {
			if s.strict {
				s.number()
			} else {
				s.skipNumber()
			}
			return
		}
		if c == 0 {
			s.fail("Skip: unexpected end of input,")
			return
		}
		s.fail("Skip: do not know how to skip,")
	}
}

// skipString validates and skips a string.
func (s *scanner) skipString() { s.scanString() }

// goFieldName turns a JSON key into the Go field name apm-data's model gives it (snake_case to CamelCase
// with Go's initialisms), for error messages in jsoniter's layout.
func goFieldName(key []byte) string {
	out := make([]byte, 0, len(key))
	for len(key) > 0 {
		i := 0
		for i < len(key) && key[i] != '_' && key[i] != '.' {
			i++
		}
		part := key[:i]
		switch string(part) {
		case "db":
			out = append(out, "Database"...)
		case "id", "url", "http", "ip", "faas", "us", "ms", "otel", "cls", "fid", "tbt", "uid":
			for _, c := range part {
				if 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
				}
				out = append(out, c)
			}
		default:
			if len(part) > 0 {
				c := part[0]
				if 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
				}
				out = append(out, c)
				out = append(out, part[1:]...)
			}
		}
		if i < len(key) {
			i++
		}
		key = key[i:]
	}
	return string(out)
}
