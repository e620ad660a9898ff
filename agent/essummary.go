package agent

import (
	"errors"
	"strings"
)

// esSummary is what the start of an Elasticsearch response says about the request: the server-side time
// and whether the answer is complete. Elasticsearch writes these fields first ("took", "timed_out",
// "_shards", then "hits" with "total" before the documents), so they can be read from the first few hundred
// bytes of a body of any size.
type esSummary struct {
	took            int64 // "took": milliseconds Elasticsearch spent
	timedOut        bool  // "timed_out"
	shardsFailed    int64 // "_shards.failed"
	hits            int64 // "hits.total" or "hits.total.value"
	hitsLowerBound  bool  // "hits.total.relation" is "gte": hits is a lower bound
	errors          bool  // "errors" (bulk): some items failed
	hasTook         bool
	hasTimedOut     bool
	hasShardsFailed bool
	hasHits         bool
	hasErrors       bool
}

// scanESSummary reads the summary fields from b, the start of an Elasticsearch JSON response body.
// complete reports that the rest of the body cannot change the result: every field that can come has
// come (the documents, "responses" or "items" have begun), the top-level object has ended, or b is not
// the start of a JSON object (then the summary holds what came before the fault). When complete is false,
// more bytes may add fields; the summary holds those read so far.
func scanESSummary(b []byte) (s esSummary, complete bool) {
	sc := summaryScanner{b: b}
	err := sc.top(&s)
	return s, !errors.Is(err, errShort)
}

var (
	errShort  = errors.New("input ends early") // more bytes could continue the value
	errSyntax = errors.New("not JSON")         // no bytes can make this valid
	errDone   = errors.New("nothing left to read")
)

// maxSkipDepth bounds the nesting of a skipped value, so a hostile body cannot make the scanner track an
// unbounded stack (it tracks only a depth count, but the bound makes a fault of absurd input).
const maxSkipDepth = 512

type summaryScanner struct {
	b []byte
	i int
}

func (sc *summaryScanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// next returns the next non-blank byte without consuming it.
func (sc *summaryScanner) next() (byte, error) {
	sc.ws()
	if sc.i >= len(sc.b) {
		return 0, errShort
	}
	return sc.b[sc.i], nil
}

func (sc *summaryScanner) expect(c byte) error {
	got, err := sc.next()
	if err != nil {
		return err
	}
	if got != c {
		return errSyntax
	}
	sc.i++
	return nil
}

// top reads the top-level object.
func (sc *summaryScanner) top(s *esSummary) error {
	return sc.object(func(key []byte) error {
		switch string(key) {
		case "took":
			n, err := sc.integer()
			s.took, s.hasTook = n, err == nil
			return err
		case "timed_out":
			v, err := sc.boolean()
			s.timedOut, s.hasTimedOut = v, err == nil
			return err
		case "errors":
			v, err := sc.boolean()
			s.errors, s.hasErrors = v, err == nil
			return err
		case "_shards":
			return sc.object(func(key []byte) error {
				if string(key) != "failed" {
					return sc.skip()
				}
				n, err := sc.integer()
				s.shardsFailed, s.hasShardsFailed = n, err == nil
				return err
			})
		case "hits":
			return sc.hits(s)
		case "responses", "items": // _msearch, _bulk: the rest is per request
			return errDone
		}
		return sc.skip()
	})
}

// hits reads the "hits" object up to its total.
func (sc *summaryScanner) hits(s *esSummary) error {
	return sc.object(func(key []byte) error {
		switch string(key) {
		case "total":
			c, err := sc.next()
			if err != nil {
				return err
			}
			if c != '{' {
				n, err := sc.integer() // rest_total_hits_as_int, or before Elasticsearch 7
				s.hits, s.hasHits = n, err == nil
				if err != nil {
					return err
				}
				return errDone
			}
			var value int64
			var hasValue, gte bool
			err = sc.object(func(key []byte) error {
				switch string(key) {
				case "value":
					n, err := sc.integer()
					value, hasValue = n, err == nil
					return err
				case "relation":
					v, err := sc.str()
					gte = string(v) == "gte"
					return err
				}
				return sc.skip()
			})
			if err != nil {
				return err
			}
			s.hits, s.hasHits, s.hitsLowerBound = value, hasValue, gte
			return errDone
		case "hits": // the documents: total was not sent (track_total_hits=false)
			return errDone
		}
		return sc.skip()
	})
}

// object reads an object, calling member for each key with the scanner at the value, which member must
// consume. An error from member other than errShort/errSyntax (errDone) ends the scan.
func (sc *summaryScanner) object(member func(key []byte) error) error {
	if err := sc.expect('{'); err != nil {
		return err
	}
	c, err := sc.next()
	if err != nil {
		return err
	}
	if c == '}' {
		sc.i++
		return nil
	}
	for {
		key, err := sc.str()
		if err != nil {
			return err
		}
		if err := sc.expect(':'); err != nil {
			return err
		}
		if _, err := sc.next(); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		c, err := sc.next()
		if err != nil {
			return err
		}
		sc.i++
		switch c {
		case ',':
		case '}':
			return nil
		default:
			return errSyntax
		}
	}
}

// str reads a string and returns its raw content (escapes left as they are).
func (sc *summaryScanner) str() ([]byte, error) {
	if err := sc.expect('"'); err != nil {
		return nil, err
	}
	start := sc.i
	for sc.i < len(sc.b) {
		switch c := sc.b[sc.i]; {
		case c == '"':
			sc.i++
			return sc.b[start : sc.i-1], nil
		case c == '\\':
			sc.i += 2
		case c < 0x20:
			return nil, errSyntax
		default:
			sc.i++
		}
	}
	return nil, errShort
}

// integer reads a JSON number and returns its integer part, saturated at ±(2^63-1).
func (sc *summaryScanner) integer() (int64, error) {
	if _, err := sc.next(); err != nil {
		return 0, err
	}
	neg := false
	if sc.b[sc.i] == '-' {
		neg = true
		sc.i++
	}
	var n int64
	digits := 0
	for ; sc.i < len(sc.b) && '0' <= sc.b[sc.i] && sc.b[sc.i] <= '9'; sc.i++ {
		if n <= (1<<63-1-9)/10 {
			n = n*10 + int64(sc.b[sc.i]-'0')
		} else {
			n = 1<<63 - 1
		}
		digits++
	}
	// fraction and exponent, ignored
	for ; sc.i < len(sc.b) && strings.IndexByte("0123456789.eE+-", sc.b[sc.i]) >= 0; sc.i++ {
	}
	if sc.i >= len(sc.b) {
		return 0, errShort // the number may go on
	}
	if digits == 0 {
		return 0, errSyntax
	}
	if neg {
		n = -n
	}
	return n, nil
}

func (sc *summaryScanner) boolean() (bool, error) {
	if err := sc.literal("true"); err == nil {
		return true, nil
	} else if !errors.Is(err, errSyntax) {
		return false, err
	}
	if err := sc.literal("false"); err != nil {
		return false, err
	}
	return false, nil
}

func (sc *summaryScanner) literal(word string) error {
	if _, err := sc.next(); err != nil {
		return err
	}
	rest := sc.b[sc.i:]
	if len(rest) < len(word) {
		if strings.HasPrefix(word, string(rest)) {
			return errShort
		}
		return errSyntax
	}
	if string(rest[:len(word)]) != word {
		return errSyntax
	}
	sc.i += len(word)
	return nil
}

// skip consumes one value of any type.
func (sc *summaryScanner) skip() error {
	c, err := sc.next()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, err := sc.str()
		return err
	case c == '{' || c == '[':
		return sc.skipNested()
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		return sc.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, err := sc.integer()
		return err
	}
	return errSyntax
}

// skipNested consumes an object or array by counting brackets outside strings.
func (sc *summaryScanner) skipNested() error {
	depth := 0
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case '"':
			if _, err := sc.str(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
			if depth > maxSkipDepth {
				return errSyntax
			}
		case '}', ']':
			depth--
			if depth == 0 {
				sc.i++
				return nil
			}
		}
		sc.i++
	}
	return errShort
}
