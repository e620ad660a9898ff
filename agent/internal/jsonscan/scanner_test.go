package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestSkipValue: each kind of value is consumed whole, up to where the next token starts; every proper
// prefix of it is ErrShort (more bytes could complete it), and bytes no JSON can hold are ErrSyntax.
func TestSkipValue(t *testing.T) {
	for _, v := range []string{`"a\"b"`, `true`, `false`, `null`, `-12.5e+3`, `0`, `{}`, `[]`,
		`{"a":[1,{"b":"}"}],"c":null}`, `[[["x"]]]`} {
		s := Scanner{B: []byte(" " + v + ",")}
		if err := s.SkipValue(); err != nil || s.I != len(v)+1 {
			t.Errorf("%s: %v, stopped at %d", v, err, s.I)
		}
		for n := range len(v) {
			s := Scanner{B: []byte(v[:n])}
			if err := s.SkipValue(); !errors.Is(err, ErrShort) {
				t.Errorf("%s cut at %d: %v, want ErrShort", v, n, err)
			}
		}
	}
	for _, v := range []string{`tru!`, `nul,`, `-,`, `x`, `"a` + "\x01" + `"`, `}`} {
		s := Scanner{B: []byte(v)}
		if err := s.SkipValue(); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v, want ErrSyntax", v, err)
		}
	}
}

// TestMaxDepth: a value nested MaxDepth deep is skipped, one level deeper is ErrSyntax; without a bound
// any depth is skipped.
func TestMaxDepth(t *testing.T) {
	nested := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	if err := (&Scanner{B: nested(8), MaxDepth: 8}).SkipValue(); err != nil {
		t.Errorf("at the bound: %v", err)
	}
	if err := (&Scanner{B: nested(9), MaxDepth: 8}).SkipValue(); !errors.Is(err, ErrSyntax) {
		t.Errorf("past the bound: %v, want ErrSyntax", err)
	}
	if err := (&Scanner{B: nested(100_000)}).SkipValue(); err != nil {
		t.Errorf("unbounded: %v", err)
	}
}

// TestNext: a member or element is followed by ',' or the closing bracket given, nothing else.
func TestNext(t *testing.T) {
	s := Scanner{B: []byte(" , }]")}
	if last, err := s.Next('}'); last || err != nil {
		t.Errorf("',': last %v, %v", last, err)
	}
	if last, err := s.Next('}'); !last || err != nil {
		t.Errorf("'}': last %v, %v", last, err)
	}
	if _, err := s.Next('}'); !errors.Is(err, ErrSyntax) {
		t.Errorf("']' for '}': %v, want ErrSyntax", err)
	}
	if _, err := s.Next('}'); !errors.Is(err, ErrShort) {
		t.Errorf("the end: %v, want ErrShort", err)
	}
}

// FuzzSkipValue: on any input SkipValue stops within it; a value encoding/json calls valid is skipped
// whole (a bare number at the end may go on: ErrShort), and every proper prefix of it is ErrShort.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"}"}],"c":null}`, `"a\"b"`, `-12.5e+3`, `[true,false]`, `{"x`, `]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := Scanner{B: []byte(in)}
		err := s.SkipValue()
		if s.I < 0 || s.I > len(in)+1 {
			t.Fatalf("%q: stopped at %d", in, s.I)
		}
		if !json.Valid([]byte(in)) {
			return
		}
		v := strings.TrimSpace(in)
		if c := v[len(v)-1]; '0' <= c && c <= '9' {
			// A number at the very end may go on: ErrShort, as for any prefix of a longer body.
			if err != nil && !errors.Is(err, ErrShort) {
				t.Fatalf("valid %q: %v", in, err)
			}
			return
		}
		if err != nil || strings.TrimSpace(in[min(s.I, len(in)):]) != "" {
			t.Fatalf("valid %q: %v, stopped at %d", in, err, s.I)
		}
		for n := range len(v) {
			p := Scanner{B: []byte(v[:n])}
			if err := p.SkipValue(); !errors.Is(err, ErrShort) {
				t.Fatalf("valid %q cut at %d: %v, want ErrShort", v, n, err)
			}
		}
	})
}
