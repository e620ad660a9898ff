package elasticsearch

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/collector"
)

// jsonWriter appends JSON to a byte slice by hand: no reflection, no intermediate values. Objects are
// written optimistically and rolled back when nothing went into them (see open and close), which is how
// a group such as "cloud" disappears from the document when all of its fields are empty, exactly as
// modeljson's omitempty rules make it disappear.
//
// Commas are derived from the previous byte: a value that follows '{' or '[' needs none. That keeps
// every field write independent of the ones before it.
type jsonWriter struct {
	b []byte
	// err is the first value that cannot be written as JSON (NaN or an infinity); the document is
	// then refused, as modeljson refuses it.
	err error
}

// errNotFinite is recorded when a float is NaN or infinite, which JSON cannot represent.
type errNotFinite struct{ field string }

func (e errNotFinite) Error() string {
	return "elasticsearch: render: " + e.field + " is not a finite number"
}

// comma appends the separator a new member needs, unless it is the first of its object or array.
func (w *jsonWriter) comma() {
	if n := len(w.b); n > 0 {
		switch w.b[n-1] {
		case '{', '[':
		default:
			w.b = append(w.b, ',')
		}
	}
}

// key appends a member name. name must need no escaping (the constant field names do not).
func (w *jsonWriter) key(name string) {
	w.comma()
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

// open starts the object member name and returns the mark close needs to undo it.
func (w *jsonWriter) open(name string) int {
	mark := len(w.b)
	w.key(name)
	w.b = append(w.b, '{')
	return mark
}

// openKeep is open for an object that is written even if it stays empty when keep is true.
func (w *jsonWriter) openKeep(name string, keep bool) int {
	m := w.open(name)
	if keep {
		return -1
	}
	return m
}

// close ends an object opened at mark, or removes it entirely (name included) if it is still empty
// (unless mark is negative: see openKeep).
func (w *jsonWriter) close(mark int) {
	if mark >= 0 && w.b[len(w.b)-1] == '{' {
		w.b = w.b[:mark]
		return
	}
	w.b = append(w.b, '}')
}

// begin starts the object member name, which is written even if it stays empty; end closes it.
func (w *jsonWriter) begin(name string) {
	w.key(name)
	w.b = append(w.b, '{')
}

// end closes an object started with begin or beginItem.
func (w *jsonWriter) end() {
	w.b = append(w.b, '}')
}

// beginArray starts the array member name, written even if it stays empty; each element starts with
// next (or is an object started with beginItem), and a ']' closes it.
func (w *jsonWriter) beginArray(name string) {
	w.key(name)
	w.b = append(w.b, '[')
}

// next appends the comma before element i of an array (none before the first).
func (w *jsonWriter) next(i int) {
	if i > 0 {
		w.b = append(w.b, ',')
	}
}

// beginItem starts object element i of an array; end closes it.
func (w *jsonWriter) beginItem(i int) {
	w.next(i)
	w.b = append(w.b, '{')
}

// str appends the member name: s when s is not empty (omitempty).
func (w *jsonWriter) str(name, s string) {
	if s != "" {
		w.key(name)
		w.string(s)
	}
}

// strAlways appends the member name: s even when s is empty.
func (w *jsonWriter) strAlways(name, s string) {
	w.key(name)
	w.string(s)
}

// int appends the member name: n when n is not zero (omitempty).
func (w *jsonWriter) int(name string, n int64) {
	if n != 0 {
		w.key(name)
		w.b = strconv.AppendInt(w.b, n, 10)
	}
}

// intAlways appends the member name: n.
func (w *jsonWriter) intAlways(name string, n int64) {
	w.key(name)
	w.b = strconv.AppendInt(w.b, n, 10)
}

// float appends the member name: f when f is not zero (omitempty).
func (w *jsonWriter) float(name string, f float64) {
	if f != 0 {
		w.key(name)
		w.floatValue(name, f)
	}
}

// floatAlways appends the member name: f.
func (w *jsonWriter) floatAlways(name string, f float64) {
	w.key(name)
	w.floatValue(name, f)
}

// floatValue appends f formatted as modeljson formats it (strconv 'g', shortest representation).
func (w *jsonWriter) floatValue(field string, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if w.err == nil {
			w.err = errNotFinite{field}
		}
		w.b = append(w.b, '0')
		return
	}
	w.b = strconv.AppendFloat(w.b, f, 'g', -1, 64)
}

// boolAlways appends the member name: v.
func (w *jsonWriter) boolAlways(name string, v bool) {
	w.key(name)
	w.b = strconv.AppendBool(w.b, v)
}

// trueOnly appends the member name: true when v is true (omitempty on a bool).
func (w *jsonWriter) trueOnly(name string, v bool) {
	if v {
		w.key(name)
		w.b = append(w.b, "true"...)
	}
}

// optBool appends the member name: v when v is present.
func (w *jsonWriter) optBool(name string, v collector.Optional[bool]) {
	if v.Valid {
		w.boolAlways(name, v.V)
	}
}

// optInt appends the member name: v when v is present, even when it is zero.
func (w *jsonWriter) optInt(name string, v collector.Optional[int64]) {
	if v.Valid {
		w.intAlways(name, v.V)
	}
}

// ip appends the member name: "addr" when addr is valid.
func (w *jsonWriter) ip(name string, addr netip.Addr) {
	if addr.IsValid() {
		w.key(name)
		w.b = append(w.b, '"')
		w.b = addr.AppendTo(w.b)
		w.b = append(w.b, '"')
	}
}

// strings appends the member name: [...] when ss is not empty.
func (w *jsonWriter) strings(name string, ss []string) {
	if len(ss) == 0 {
		return
	}
	w.key(name)
	w.stringArray(ss)
}

// stringArray appends ss as a JSON array.
func (w *jsonWriter) stringArray(ss []string) {
	w.b = append(w.b, '[')
	for i, s := range ss {
		w.next(i)
		w.string(s)
	}
	w.b = append(w.b, ']')
}

// raw appends the member name: v, a JSON value the decoder validated, when v is not empty.
func (w *jsonWriter) raw(name string, v collector.RawJSON) {
	if v == "" {
		return
	}
	w.key(name)
	w.b = append(w.b, v...)
}

// keyValues appends the member name: {key: value, ...} when kvs is not nil. sanitize replaces the
// characters Elasticsearch reserves in field names, as modeljson does for custom context.
func (w *jsonWriter) keyValues(name string, kvs []collector.KeyValue, sanitize bool) {
	if kvs == nil {
		return
	}
	w.begin(name)
	for i, kv := range kvs {
		w.next(i)
		if sanitize {
			w.labelKey(kv.Key)
		} else {
			w.string(kv.Key)
		}
		w.b = append(w.b, ':')
		if kv.Value == "" {
			w.b = append(w.b, "null"...)
		} else {
			w.b = append(w.b, kv.Value...)
		}
	}
	w.end()
}

// headers appends the member name: {key: [values...], ...} when hs is not nil.
func (w *jsonWriter) headers(name string, hs []collector.Header) {
	if hs == nil {
		return
	}
	w.begin(name)
	for i, h := range hs {
		w.next(i)
		w.string(h.Key)
		w.b = append(w.b, ':')
		w.stringArray(h.Values)
	}
	w.end()
}

// timestampFormat is Elasticsearch's strict_date_optional_time with milliseconds, as modeljson writes
// @timestamp.
const timestampFormat = "2006-01-02T15:04:05.000Z07:00"

// time appends the member name: "t" in UTC with millisecond precision (timestampFormat, written
// digit by digit: formatting with the layout costs several times as much).
func (w *jsonWriter) time(name string, t time.Time) {
	w.key(name)
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		w.b = append(w.b, '"')
		w.b = t.AppendFormat(w.b, timestampFormat)
		w.b = append(w.b, '"')
		return
	}
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	w.b = append(w.b, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

// labelKey appends k as a JSON string with '.', '*' and '"' replaced by '_': Elasticsearch would
// otherwise read a dot as an object path (modeljson's sanitizeLabelKey). Keys that need it are rare, so
// only they pay for a copy.
func (w *jsonWriter) labelKey(k string) {
	w.string(sanitizeKey(k))
}

// sanitizeKey returns k with '.', '*' and '"' replaced by '_'.
func sanitizeKey(k string) string {
	if !strings.ContainsAny(k, ".*\"") {
		return k
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '"':
			return '_'
		}
		return r
	}, k)
}

// string appends s as a quoted JSON string.
func (w *jsonWriter) string(s string) {
	w.b = append(w.b, '"')
	w.stringContents(s)
	w.b = append(w.b, '"')
}

const hexDigits = "0123456789abcdef"

// stringContents appends s escaped for a JSON string: quotes, backslashes and control characters are
// escaped, invalid UTF-8 becomes U+FFFD (Elasticsearch refuses malformed UTF-8), everything else is
// copied as it is. Runs of plain ASCII, most of any document, are found eight bytes at a time.
func (w *jsonWriter) stringContents(s string) {
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && !wordNeedsCare(load64(s[i:i+8])) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			w.b = append(w.b, s[start:i]...)
			switch c {
			case '"', '\\':
				w.b = append(w.b, '\\', c)
			case '\n':
				w.b = append(w.b, '\\', 'n')
			case '\r':
				w.b = append(w.b, '\\', 'r')
			case '\t':
				w.b = append(w.b, '\\', 't')
			default:
				w.b = append(w.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.b = append(w.b, s[start:i]...)
			w.b = append(w.b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	w.b = append(w.b, s[start:]...)
}

// load64 returns the first 8 bytes of s as a little-endian word (the compiler makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// wordNeedsCare reports whether any of the 8 bytes in x is a control character, '"', '\\' or not
// ASCII: the bytes stringContents cannot copy as they are.
func wordNeedsCare(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (lo * '"')
	backslash := x ^ (lo * '\\')
	// A byte b is zero (or < 0x20) when (b - k) borrows into its high bit while b's own high bit is 0.
	return ((x-lo*0x20)|(quote-lo)|(backslash-lo)|x)&hi != 0
}

// appendUint appends n in decimal.
func appendUint(dst []byte, n uint64) []byte {
	return strconv.AppendUint(dst, n, 10)
}
