package decoder

import (
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The decoders of transaction, span and error lines (events_gen.go) are generated, with the members
// they share written once (internal/eventgen). This file reads the values of those members that take
// more than a keyword: timestamp, duration, links and otel's attributes.

//go:generate go run ./internal/genevents

// The ranges of times and durations the collector can store and answer with, which apm-data's schema
// leaves open (it takes any int64 of microseconds, any float of milliseconds): a timestamp past year
// 9999 cannot be written as an RFC 3339 time (the query API's, Elasticsearch's @timestamp), nor a
// duration longer than time.Duration's ~292 years kept. Values outside are refused as the schema
// refuses a negative duration, in its words.
const (
	minTimestampMicros = -62135596800000000 // 0001-01-01T00:00:00Z
	maxTimestampMicros = 253402300799999999 // 9999-12-31T23:59:59.999999Z
	maxMillis          = 9223372036854      // the longest time.Duration, in whole milliseconds
)

func (d *Decoder) duration() bool {
	v, ok := d.s.float()
	if ok {
		d.ev.duration = v
		switch {
		case v < 0:
			d.v.fail("'duration': validation rule 'min(0)' violated")
		case v > maxMillis:
			d.v.fail("'duration': validation rule 'max(9223372036854)' violated")
		}
	}
	return ok
}

// supportedTimeFormats are the RFC 3339 variants apm-data accepts for string timestamps.
var supportedTimeFormats = [...]string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
}

// timestamp reads the timestamp called field: microseconds since the epoch (between year 1 and 9999),
// or an RFC 3339 string.
func (d *Decoder) timestamp(field string) bool {
	s := &d.s
	switch c := s.peek(); {
	case c == 'n':
		s.null()
		return false
	case isNumberStart(c):
		us, ok := s.int()
		if !ok {
			return false
		}
		switch {
		case us < minTimestampMicros:
			d.v.fail("'" + field + "': validation rule 'min(-62135596800000000)' violated")
			return false
		case us > maxTimestampMicros:
			d.v.fail("'" + field + "': validation rule 'max(253402300799999999)' violated")
			return false
		}
		sec := us / 1000000
		d.ev.ts = time.Unix(sec, (us-sec*1000000)*1000).UTC()
		d.ev.tsSet = true
		return true
	case c == '"':
		v, _ := s.str()
		for _, f := range supportedTimeFormats {
			if t, err := time.Parse(f, v); err == nil {
				d.ev.ts = t.UTC()
				d.ev.tsSet = true
				return true
			}
		}
		if s.err == nil {
			s.fail("failed to parse the provided time string")
		}
		return false
	}
	s.skip()
	s.fail("invalid input type for timestamp")
	return false
}

// applyTiming sets the event's duration and timestamp where the line gave them, and reports whether it
// gave a timestamp (a zero one counts as none, as in apm-data).
func (d *Decoder) applyTiming(ev *collector.Event) bool {
	e := &d.ev
	if e.durationSet {
		ev.Event.Duration = time.Duration(e.duration * float64(time.Millisecond))
	}
	if e.tsSet && !e.ts.IsZero() {
		ev.Timestamp = e.ts
		return true
	}
	return false
}

// outcomeOr is the event's outcome: as the line gave it, else from the HTTP status when there is one
// (failure: the status is a failure), else unknown.
func (e *evScratch) outcomeOr(statusSet, failure bool) string {
	switch {
	case e.outcomeSet:
		return e.outcome
	case !statusSet:
		return "unknown"
	case failure:
		return "failure"
	}
	return "success"
}

// representativeCount is 1/sample_rate, 0 for a rate of 0, and 1 when no rate is known.
func representativeCount(set bool, rate float64) float64 {
	if !set {
		return 1
	}
	if rate > 0 {
		return 1 / rate
	}
	return 0
}

// links decodes span links (spanLink, generated) into a region of the links slab (applied by finish).
func (d *Decoder) links() bool {
	links, ok := objectArray(d, &d.pool.links, "links", d.spanLink)
	if ok {
		d.ev.links = links
	}
	return len(links) > 0
}

// otelAttributes keeps the text of otel.attributes, an object or null, to be decoded once the rest of
// the event is known.
func (d *Decoder) otelAttributes() bool {
	s := &d.s
	e := &d.ev
	switch s.peek() {
	case 'n':
		s.null()
		return false
	case '{':
	default:
		s.skip()
		s.fail("ReadMapCB: expect { or n,")
		return false
	}
	from := s.pos
	s.skip()
	e.otelAttrs = s.buf[from:s.pos:s.pos]
	return len(e.otelAttrs) > 2 && hasMember(e.otelAttrs)
}

// hasMember reports whether the (valid) JSON object text has at least one member.
func hasMember(obj []byte) bool {
	for _, c := range obj[1:] {
		switch c {
		case ' ', '\t', '\n', '\r':
		case '}':
			return false
		default:
			return true
		}
	}
	return false
}
