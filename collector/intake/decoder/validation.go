package decoder

import (
	"strings"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/collector"
)

// validation collects the first schema violation of an event. apm-data validates after decoding, so a
// decode error anywhere in the line wins over a violation; the decoder therefore keeps scanning after a
// violation and reports it only if the whole line decodes.
//
// The path names the enclosing objects as apm-data's messages do ("transaction: context: request:
// 'method' required"). Where an event breaks several rules, apm-data reports the first in its struct
// order and this decoder the first it meets in the line (required fields are checked when their object
// ends), so the message may name another of the violations.
type validation struct {
	msg  string // first violation, path included
	raw  string // an error apm-data returns without the "validation error: " prefix
	path []string
}

func (v *validation) reset() {
	v.msg, v.raw = "", ""
	v.path = v.path[:0]
}

func (v *validation) push(name string) { v.path = append(v.path, name) }
func (v *validation) pop()             { v.path = v.path[:len(v.path)-1] }

// fail records a violation of rule at the current path, unless one is recorded already.
func (v *validation) fail(rule string) {
	if v.msg != "" || v.raw != "" {
		return
	}
	if len(v.path) == 0 {
		v.msg = rule
		return
	}
	v.msg = strings.Join(v.path, ": ") + ": " + rule
}

func (v *validation) failed() bool { return v.msg != "" || v.raw != "" }

func (v *validation) required(field string) { v.fail("'" + field + "' required") }

func (v *validation) maxLength(field string, n int) {
	v.fail("'" + field + "': validation rule 'maxLength(" + itoa(n) + ")' violated")
}

// intMin reads a nullable integer the schema requires to be at least min; a smaller one is read and
// recorded as a violation.
func (d *Decoder) intMin(field string, min int) (int64, bool) {
	v, ok := d.s.int()
	if ok && v < int64(min) {
		d.v.fail("'" + field + "': validation rule 'min(" + itoa(min) + ")' violated")
	}
	return v, ok
}

// floatMin0 reads a nullable number the schema requires not to be negative; a negative one is read
// and recorded as a violation.
func (d *Decoder) floatMin0(field string) (float64, bool) {
	v, ok := d.s.float()
	if ok && v < 0 {
		d.v.fail("'" + field + "': validation rule 'min(0)' violated")
	}
	return v, ok
}

// optFloatMin0 reads a nullable number that must not be negative into dst, as floatMin0.
func (d *Decoder) optFloatMin0(dst *collector.Optional[float64], field string) bool {
	v, ok := d.floatMin0(field)
	if ok {
		*dst = collector.Some(v)
	}
	return ok
}

func (v *validation) message() string { return "validation error: " + v.msg }

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// tooLong reports whether s is longer than n characters (runes, as apm-data counts them).
func tooLong(s string, n int) bool {
	return len(s) > n && utf8.RuneCountInString(s) > n
}

// kw reads a nullable keyword (maxLength 1024) into *dst and reports whether it was set.
func (d *Decoder) kw(dst *string, field string) bool {
	v, ok := d.s.str()
	if !ok {
		return false
	}
	*dst = v
	if len(v) > 1024 && tooLong(v, 1024) {
		d.v.maxLength(field, 1024)
	}
	return true
}

// kwMin1 is kw for a keyword the schema requires not to be empty.
func (d *Decoder) kwMin1(dst *string, field string) bool {
	ok := d.kw(dst, field)
	if ok && *dst == "" {
		d.v.fail("'" + field + "': validation rule 'minLength(1)' violated")
	}
	return ok
}

// kwN reads a nullable string with maxLength n.
func (d *Decoder) kwN(dst *string, field string, n int) bool {
	v, ok := d.s.str()
	if !ok {
		return false
	}
	*dst = v
	if tooLong(v, n) {
		d.v.maxLength(field, n)
	}
	return true
}

// text reads a nullable string without a length limit.
func (d *Decoder) text(dst *string) bool {
	v, ok := d.s.str()
	if ok {
		*dst = v
	}
	return ok
}

// textSet is text that also records in *set that the field was given, and reports whether it ever was:
// a repeated key's null leaves it set.
func (d *Decoder) textSet(dst *string, set *bool) bool {
	if v, ok := d.s.str(); ok {
		*dst, *set = v, true
	}
	return *set
}

// enumOutcome reads a nullable outcome ("success", "failure", "unknown"; "" passes too, as in apm-data).
func (d *Decoder) enumOutcome(dst *string) bool {
	v, ok := d.s.str()
	if !ok {
		return false
	}
	*dst = v
	switch v {
	case "", "success", "failure", "unknown":
	default:
		d.v.fail("'outcome': validation rule 'enum(enumOutcome)' violated")
	}
	return true
}
