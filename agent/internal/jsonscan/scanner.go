// Package jsonscan reads JSON a token at a time from bytes that may stop anywhere: the start of a body
// of any size, or a body cut at a bound. It owns the tokens (blanks, strings, literals, numbers, a value
// skipped whole) for the agent's two readers of Elasticsearch bodies, the response summary (agent) and
// the shapes of search bodies (agent/queryshape), which build their own structure on them.
//
// Every method reports ErrShort when the bytes end inside what it reads (more bytes could complete it)
// and ErrSyntax when no bytes could make it JSON. Strings are returned raw, escapes and all, as views of
// the input: nothing is allocated.
package jsonscan

import "errors"

var (
	// ErrShort says the input ends early: more bytes could continue the value.
	ErrShort = errors.New("input ends early")
	// ErrSyntax says the input is not JSON: no bytes can make it valid.
	ErrSyntax = errors.New("not JSON")
)

// Scanner reads B from I.
type Scanner struct {
	B []byte
	I int
	// MaxDepth, if positive, bounds the nesting of a value SkipValue skips: deeper is ErrSyntax. Skipping
	// keeps only a count whatever the nesting; the bound is for a reader that would rather call absurd
	// input a fault.
	MaxDepth int
}

// Peek skips blanks and returns the next byte without consuming it.
func (s *Scanner) Peek() (byte, error) {
	for s.I < len(s.B) {
		switch c := s.B[s.I]; c {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return c, nil
		}
	}
	return 0, ErrShort
}

// Expect consumes c, the next byte after blanks.
func (s *Scanner) Expect(c byte) error {
	got, err := s.Peek()
	if err != nil {
		return err
	}
	if got != c {
		return ErrSyntax
	}
	s.I++
	return nil
}

// Str reads a string, returning its raw content (escapes as they are) and whether it holds escapes.
func (s *Scanner) Str() (raw []byte, escaped bool, err error) {
	if err := s.Expect('"'); err != nil {
		return nil, false, err
	}
	start := s.I
	for s.I < len(s.B) {
		switch c := s.B[s.I]; {
		case c == '"':
			s.I++
			return s.B[start : s.I-1], escaped, nil
		case c == '\\':
			escaped = true
			s.I += 2
		case c < 0x20:
			return nil, false, ErrSyntax
		default:
			s.I++
		}
	}
	return nil, false, ErrShort
}

// Literal reads true, false or null, and returns it.
func (s *Scanner) Literal() (string, error) {
	if _, err := s.Peek(); err != nil {
		return "", err
	}
	rest := s.B[s.I:]
	for _, w := range [...]string{"true", "false", "null"} {
		if len(rest) >= len(w) && string(rest[:len(w)]) == w {
			s.I += len(w)
			return w, nil
		}
		if len(rest) < len(w) && string(rest) == w[:len(rest)] {
			return "", ErrShort
		}
	}
	return "", ErrSyntax
}

// Next consumes what follows a member or an element: a ',' (more follow) or end, the '}' or ']' that
// closes the object or array (last).
func (s *Scanner) Next(end byte) (last bool, err error) {
	c, err := s.Peek()
	if err != nil {
		return false, err
	}
	s.I++
	switch c {
	case ',':
		return false, nil
	case end:
		return true, nil
	}
	return false, ErrSyntax
}

// SkipValue consumes one value of any type.
func (s *Scanner) SkipValue() error {
	c, err := s.Peek()
	if err != nil {
		return err
	}
	switch {
	case c == '{' || c == '[':
		return s.skipNested()
	case c == '"':
		_, _, err := s.Str()
		return err
	case c == 't' || c == 'f' || c == 'n':
		_, err := s.Literal()
		return err
	case c == '-' || '0' <= c && c <= '9':
		return s.skipNumber()
	}
	return ErrSyntax
}

// skipNested consumes an object or array by counting brackets outside strings: no stack, whatever the
// nesting.
func (s *Scanner) skipNested() error {
	depth := 0
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case '"':
			if _, _, err := s.Str(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
			if s.MaxDepth > 0 && depth > s.MaxDepth {
				return ErrSyntax
			}
		case '}', ']':
			depth--
			if depth == 0 {
				s.I++
				return nil
			}
		}
		s.I++
	}
	return ErrShort
}

// skipNumber consumes a number.
func (s *Scanner) skipNumber() error {
	digits := 0
	for ; s.I < len(s.B); s.I++ {
		switch c := s.B[s.I]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			if digits == 0 {
				return ErrSyntax
			}
			return nil
		}
	}
	return ErrShort // the number may go on
}
