package agent

import (
	"errors"
	"strings"

	"github.com/hotpath-apm/hotpath/agent/internal/jsonscan"
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
	sc := summaryScanner{jsonscan.Scanner{B: b, MaxDepth: maxSkipDepth}}
	err := sc.top(&s)
	return s, !errors.Is(err, errShort)
}

var (
	errShort = jsonscan.ErrShort // more bytes could continue the value
	errDone  = errors.New("nothing left to read")
)

// maxSkipDepth bounds the nesting of a skipped value, so a hostile body cannot make the scanner track an
// unbounded stack (it tracks only a depth count, but the bound makes a fault of absurd input).
const maxSkipDepth = 512

// summaryScanner reads the summary's fields from the tokens of a jsonscan.Scanner.
type summaryScanner struct {
	jsonscan.Scanner
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
					return sc.SkipValue()
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
		return sc.SkipValue()
	})
}

// hits reads the "hits" object up to its total.
func (sc *summaryScanner) hits(s *esSummary) error {
	return sc.object(func(key []byte) error {
		switch string(key) {
		case "total":
			c, err := sc.Peek()
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
					v, _, err := sc.Str()
					gte = string(v) == "gte"
					return err
				}
				return sc.SkipValue()
			})
			if err != nil {
				return err
			}
			s.hits, s.hasHits, s.hitsLowerBound = value, hasValue, gte
			return errDone
		case "hits": // the documents: total was not sent (track_total_hits=false)
			return errDone
		}
		return sc.SkipValue()
	})
}

// object reads an object, calling member for each key with the scanner at the value, which member must
// consume. An error from member other than errShort/ErrSyntax (errDone) ends the scan.
func (sc *summaryScanner) object(member func(key []byte) error) error {
	if err := sc.Expect('{'); err != nil {
		return err
	}
	if c, err := sc.Peek(); err != nil {
		return err
	} else if c == '}' {
		sc.I++
		return nil
	}
	for {
		key, _, err := sc.Str()
		if err != nil {
			return err
		}
		if err := sc.Expect(':'); err != nil {
			return err
		}
		if _, err := sc.Peek(); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if last, err := sc.Next('}'); last || err != nil {
			return err
		}
	}
}

// integer reads a JSON number and returns its integer part, saturated at ±(2^63-1).
func (sc *summaryScanner) integer() (int64, error) {
	if _, err := sc.Peek(); err != nil {
		return 0, err
	}
	neg := false
	if sc.B[sc.I] == '-' {
		neg = true
		sc.I++
	}
	var n int64
	digits := 0
	for ; sc.I < len(sc.B) && '0' <= sc.B[sc.I] && sc.B[sc.I] <= '9'; sc.I++ {
		if n <= (1<<63-1-9)/10 {
			n = n*10 + int64(sc.B[sc.I]-'0')
		} else {
			n = 1<<63 - 1
		}
		digits++
	}
	// fraction and exponent, ignored
	for ; sc.I < len(sc.B) && strings.IndexByte("0123456789.eE+-", sc.B[sc.I]) >= 0; sc.I++ {
	}
	if sc.I >= len(sc.B) {
		return 0, errShort // the number may go on
	}
	if digits == 0 {
		return 0, jsonscan.ErrSyntax
	}
	if neg {
		n = -n
	}
	return n, nil
}

// boolean reads true or false.
func (sc *summaryScanner) boolean() (bool, error) {
	w, err := sc.Literal()
	if err != nil {
		return false, err
	}
	switch w {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, jsonscan.ErrSyntax
}
