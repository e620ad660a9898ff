package decoder

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The scanner is checked against encoding/json: it must accept exactly the JSON texts encoding/json
// accepts (json.Valid), up to the nesting limit, and unescape strings as encoding/json does.

var scannerCorpus = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5`, `-1.5e10`, `1E+2`, `1e-2`, `""`, `"a"`, `"\u00e9\ud83d\ude00"`,
	`"\ud800"`, `"\ud800\u0041"`, `"\\\"\/\b\f\n\r\t"`, `[]`, `{}`, `[1,2,[3,{"a":[]}]]`, `{"a":{"b":null},"c":[true,false]}`,
	` { "a" : 1 , "b" : [ 1 , 2 ] } `,
	// invalid
	``, ` `, `nul`, `tru`, `01`, `-`, `1.`, `.5`, `1e`, `+1`, `"`, `"\x"`, `"\u12"`, "\"\x01\"", `[1,]`, `[,1]`, `{"a":1,}`,
	`{,"a":1}`, `{"a" 1}`, `{"a":}`, `{1:2}`, `[1 2]`, `{"a":1 "b":2}`, `]`, `}`, `[`, `{`, `{"a":[}`, `"abc`, `[1]]`, `nulll`,
}

// scanValue reports whether the scanner, in strict mode, accepts s as a single JSON text.
func scanValue(s string) bool {
	var a arena
	sc := scanner{arena: &a, strict: true}
	sc.reset([]byte(s))
	sc.skip()
	if sc.err != nil {
		return false
	}
	return sc.ws() == 0 && sc.pos == len(sc.buf)
}

func TestScannerValidity(t *testing.T) {
	for _, s := range scannerCorpus {
		if got, want := scanValue(s), json.Valid([]byte(s)); got != want {
			t.Errorf("%q: scanner accepts %v, encoding/json %v", s, got, want)
		}
	}
}

// TestLenientSkip: the values of ignored fields are skipped as jsoniter skips them, so that APM Server's
// leniency there is kept (it accepts such events).
func TestLenientSkip(t *testing.T) {
	for in, ok := range map[string]bool{"01": false, "0.5": true, "0.5e99": false, "10": true, "1.": true, "-00": true, "1e5": true, "1.5,": true, "1..5": false, "1.x": false, "-": false, "1.5.": false} {
		var a arena
		sc := scanner{arena: &a}
		sc.reset([]byte(in))
		sc.skip()
		if got := sc.err == nil && sc.pos == len(strings.TrimSuffix(in, ",")); got != ok {
			t.Errorf("%q: skipped %v, want %v (%v)", in, got, ok, sc.err)
		}
	}
}

func TestScannerStrings(t *testing.T) {
	for _, s := range []string{`"plain"`, `"a\nb"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"x\\y\/z"`,
		`"` + strings.Repeat("abcdefgh", 5) + `\t"`, `"\udc00\ud800"`} {
		checkString(t, s)
	}
}

func checkString(t *testing.T, s string) {
	t.Helper()
	var want string
	if err := json.Unmarshal([]byte(s), &want); err != nil {
		return
	}
	var a arena
	sc := scanner{arena: &a}
	sc.reset([]byte(s))
	got, ok := sc.str()
	if !ok || sc.err != nil || got != want {
		t.Errorf("%q: got %q (%v, %v), want %q", s, got, ok, sc.err, want)
	}
}

func TestScannerNumbers(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "12345678901234", "1.5", "3.5642981", "0.001", "1e3", "-2.5E-3", "123456789012345678", "1.7976931348623157e308", "5e-324", "0.1", "32.592981"} {
		var want float64
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		var a arena
		sc := scanner{arena: &a}
		sc.reset([]byte(s))
		got, ok := sc.float()
		if !ok || got != want {
			t.Errorf("%s: got %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{"9223372036854775807": true, "9223372036854775808": false, "-9223372036854775808": true, "1.0": false, "1e2": false, "-": false} {
		var a arena
		sc := scanner{arena: &a}
		sc.reset([]byte(s))
		_, ok := sc.int()
		if ok != want || (sc.err == nil) != want {
			t.Errorf("int %s: ok %v err %v", s, ok, sc.err)
		}
	}
}

func TestAttention(t *testing.T) {
	// The SWAR check must find the first quote, backslash or control byte at every position, with any
	// bytes around it.
	fill := []byte{'a', 0x7f, 0x80, 0xff, ' ', '~', 0xc3}
	for pos := 0; pos < 8; pos++ {
		for _, hit := range []byte{'"', '\\', 0, 0x1f, '\n'} {
			for _, f := range fill {
				var w [8]byte
				for i := range w {
					w[i] = f
				}
				w[pos] = hit
				for j := pos + 1; j < 8; j++ {
					w[j] = '"' // later matches must not hide the first
				}
				v := uint64(0)
				for i := 7; i >= 0; i-- {
					v = v<<8 | uint64(w[i])
				}
				m := attention(v)
				if m == 0 || trailingByte(m) != pos {
					t.Fatalf("word %q: mask %x, want first at %d", w[:], m, pos)
				}
			}
		}
	}
	for _, f := range fill {
		v := uint64(0)
		for i := 0; i < 8; i++ {
			v = v<<8 | uint64(f)
		}
		if attention(v) != 0 {
			t.Fatalf("byte %#x flagged", f)
		}
	}
}

func trailingByte(m uint64) int {
	for i := 0; i < 8; i++ {
		if m&(0x80<<(8*i)) != 0 {
			return i
		}
	}
	return -1
}

// FuzzScanner checks the scanner against encoding/json on arbitrary input.
func FuzzScanner(f *testing.F) {
	for _, s := range scannerCorpus {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Count(s, "[")+strings.Count(s, "{") >= maxDepth {
			return // beyond the nesting limit the scanner refuses what encoding/json accepts
		}
		got, want := scanValue(s), json.Valid([]byte(s))
		if got != want {
			t.Fatalf("%q: scanner accepts %v, encoding/json %v", s, got, want)
		}
		if want && len(s) > 0 && strings.TrimSpace(s)[0] == '"' && utf8.ValidString(s) {
			checkString(t, strings.TrimSpace(s))
		}
	})
}

func TestEightDigits(t *testing.T) {
	for _, in := range []string{"00000000", "12345678", "99999999", "15331782", "1234567a", "/2345678", ":2345678", "1234 678"} {
		v := binary.LittleEndian.Uint64([]byte(in))
		n, err := strconv.ParseUint(in, 10, 64)
		if eightDigits(v) != (err == nil) {
			t.Fatalf("%q: eightDigits %v", in, eightDigits(v))
		}
		if err == nil && parseEightDigits(v) != n {
			t.Fatalf("%q: %d", in, parseEightDigits(v))
		}
	}
	for _, in := range []string{"1496170422281000", "9223372036854775807", "12345678901234567", "0", "-1533827045999000"} {
		var a arena
		sc := scanner{arena: &a}
		sc.reset([]byte(in))
		got, ok := sc.int()
		want, err := strconv.ParseInt(in, 10, 64)
		if !ok || err != nil || got != want {
			t.Fatalf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
}
