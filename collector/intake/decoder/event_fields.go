package decoder

import (
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The decoders of transaction, span and error lines (events_gen.go) are generated, with the members
// they share written once (internal/eventgen/events.go.tmpl). This file reads the values of those
// members that take more than a keyword: timestamp, duration, links and otel.

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
		d.ev.duration, d.ev.durationSet = v, true
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

// links decodes span links into a region of the links slab (applied by finish).
func (d *Decoder) links() bool {
	s := &d.s
	if !s.beginArray() {
		return false
	}
	ls := &d.pool.links
	ls.begin()
	n := 0
	for first := true; s.nextElem(&first); {
		n++
		l := ls.add()
		var spanSet, traceSet bool
		d.v.push("links")
		set := d.object("v2.spanLink", func(key []byte) bool {
			switch string(key) {
			case "span_id":
				return d.kwSet(&l.SpanID, &spanSet, "span_id")
			case "trace_id":
				return d.kwSet(&l.TraceID, &traceSet, "trace_id")
			}
			s.skip()
			return false
		})
		if set && s.err == nil {
			switch {
			case !spanSet:
				d.v.required("span_id")
			case !traceSet:
				d.v.required("trace_id")
			}
		}
		d.v.pop()
		if s.err != nil {
			break
		}
		if !set {
			d.v.fail("links slice element required")
		}
	}
	d.ev.links = ls.end()
	return n > 0
}

// otel records the OpenTelemetry attributes and span kind of a transaction or span.
func (d *Decoder) otel() bool {
	s := &d.s
	e := &d.ev
	set := d.object("v2.otel", func(key []byte) bool {
		switch string(key) {
		case "attributes":
			if s.peek() == 'n' {
				s.null()
				return false
			}
			if s.peek() != '{' {
				s.skip()
				s.fail("ReadMapCB: expect { or n,")
				return false
			}
			from := s.pos
			s.skip()
			e.otelAttrs = s.buf[from:s.pos:s.pos]
			return len(e.otelAttrs) > 2 && hasMember(e.otelAttrs)
		case "span_kind":
			ok := d.text(&e.spanKind)
			e.spanKindSet = e.spanKindSet || ok
			return ok
		}
		s.skip()
		return false
	})
	e.otelSet = set || e.otelSet
	return set
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
