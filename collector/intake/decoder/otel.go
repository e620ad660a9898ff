package decoder

import (
	"strconv"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

// OpenTelemetry bridge fields (otel.attributes, otel.span_kind) are mapped the way apm-data maps them:
// through its OTLP translation (input/otlp TranslateTransaction and TranslateSpan), which is
// collector/intake/otelattr here, shared with the OTLP intake. This file only reads the attributes'
// JSON into otelattr.Attrs.

// readAttr reads the next attribute value, as apm-data's otelAttributeValue converts it: strings,
// booleans, numbers (integers unless written with a fraction or exponent, or the key is a double one)
// and arrays of those; objects and null are dropped (Kind None).
func (d *Decoder) readAttr(s *scanner, key string, v *otelattr.Value) {
	*v = otelattr.Value{}
	switch c := s.peek(); {
	case c == '"':
		v.Str, _ = s.str()
		v.Kind = otelattr.Str
	case c == 't' || c == 'f':
		v.Bool, _ = s.bool()
		v.Kind = otelattr.Bool
	case isNumberStart(c):
		text, _ := s.looseNumber()
		if s.err != nil {
			return
		}
		if !otelattr.IsDoubleAttribute(key) {
			if n, err := strconv.ParseInt(bytesToString(text), 10, 64); err == nil {
				v.Int, v.Kind = n, otelattr.Int
				return
			}
		}
		if f, err := strconv.ParseFloat(bytesToString(text), 64); err == nil {
			v.Double, v.Kind = f, otelattr.Double
		}
	case c == '[':
		if !s.beginArray() {
			return
		}
		var elems []otelattr.Value
		for first := true; s.nextElem(&first); {
			var e otelattr.Value
			if s.peek() == '[' {
				s.skip() // a nested array counts as an array, whose content no label keeps
				e.Kind = otelattr.Slice
			} else {
				d.readAttr(s, key, &e)
			}
			if s.err != nil {
				return
			}
			if e.Kind != otelattr.None {
				elems = append(elems, e)
			}
		}
		v.Slice, v.Kind = elems, otelattr.Slice
	default:
		s.skip()
	}
}

func attrKey(a *otelattr.Attr) string { return a.Key }

// attrs decodes the event's otel.attributes in the order the agent sent them; a repeated key counts
// once, with its last value, as in the map apm-data decodes the attributes into. Values of no kind
// the mapping reads are left out.
func (d *Decoder) attrs() []otelattr.Attr {
	s := scanner{arena: &d.arena}
	s.reset(d.ev.otelAttrs)
	if !s.beginObject() {
		return nil
	}
	attrs := d.attrTmp[:0]
	d.attrIdx.reset()
	var key []byte
	for first := true; s.nextKey(&first, &key); {
		a := otelattr.Attr{Key: d.arena.str(key)}
		d.readAttr(&s, a.Key, &a.Value)
		if s.err != nil {
			break
		}
		attrs = upsert(&d.attrIdx, attrs, a, a.Key, attrKey)
	}
	n := 0
	for _, a := range attrs {
		if a.Kind != otelattr.None {
			attrs[n] = a
			n++
		}
	}
	d.attrTmp = attrs[:n]
	return d.attrTmp
}

// attrBuilder is the otelattr.Builder of the decoder: labels go to the event's label set, structures
// come from the batch's slabs.
type attrBuilder struct{ p *pool }

func (b attrBuilder) SetLabel(l collector.Label)                           { b.p.ls.set(l) }
func (b attrBuilder) SetNumericLabel(l collector.NumericLabel)             { b.p.ls.setNumeric(l) }
func (b attrBuilder) NewHTTP() *collector.HTTP                             { return b.p.http.one() }
func (b attrBuilder) NewMessage() *collector.Message                       { return b.p.msg.one() }
func (b attrBuilder) NewDB() *collector.DB                                 { return b.p.db.one() }
func (b attrBuilder) NewDestinationService() *collector.DestinationService { return b.p.destsvc.one() }

// otelTransaction maps a transaction's OpenTelemetry fields (apm-data's mapOTelAttributesTransaction),
// then defaults its span kind from its type.
func (d *Decoder) otelTransaction(ev *collector.Event) {
	e := &d.ev
	if e.spanKindSet {
		ev.Span.Kind = e.spanKind
	}
	otelattr.Transaction(ev, d.attrs(), "", attrBuilder{&d.pool})
	if ev.Span.Kind == "" {
		switch ev.Transaction.Type {
		case "messaging":
			ev.Span.Kind = "CONSUMER"
		case "request":
			ev.Span.Kind = "SERVER"
		default:
			ev.Span.Kind = "INTERNAL"
		}
	}
}

// otelSpan maps a span's OpenTelemetry fields (apm-data's mapOTelAttributesSpan), then defaults its
// span kind from its type.
func (d *Decoder) otelSpan(ev *collector.Event) {
	e := &d.ev
	sp := ev.Span
	kind := "" // ptrace.SpanKindUnspecified
	if e.spanKindSet {
		switch e.spanKind {
		case "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER":
			kind = e.spanKind
		}
		sp.Kind = e.spanKind
	}
	otelattr.Span(ev, d.attrs(), kind, attrBuilder{&d.pool})
	if kind == "" {
		switch sp.Type {
		case "db", "external", "storage":
			sp.Kind = "CLIENT"
		default:
			sp.Kind = "INTERNAL"
		}
	}
}
