package otlp

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

// translator turns OTLP data into collector events, as apm-data's OTLP consumer does. It keeps
// scratch space between calls; it is not safe for concurrent use.
type translator struct {
	attrs []otelattr.Attr
	batch collector.Batch
	// lastTrace and lastTraceHex are the last trace id and its hex form: a request's spans come
	// trace by trace, and each hex form is a string allocated.
	lastTrace    pcommon.TraceID
	lastTraceHex string
}

// reset drops what the last export's events pointed to, keeping the batch's capacity.
func (t *translator) reset() {
	clear(t.batch)
	t.batch = t.batch[:0]
	t.lastTrace, t.lastTraceHex = pcommon.TraceID{}, ""
}

// traceID is id in hex, "" when it is empty.
func (t *translator) traceID(id pcommon.TraceID) string {
	if id.IsEmpty() {
		return ""
	}
	if id != t.lastTrace || t.lastTraceHex == "" {
		t.lastTrace, t.lastTraceHex = id, hex.EncodeToString(id[:])
	}
	return t.lastTraceHex
}

// traces appends the events of td to out: one transaction or span per span, followed by the errors
// and log events of its span events.
func (t *translator) traces(td ptrace.Traces, received time.Time, out collector.Batch) collector.Batch {
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		base := resourceEvent(rs.Resource())
		delta := exportTimeDelta(rs.Resource(), received)
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := range spans.Len() {
				out = t.span(spans.At(k), ss.Scope(), &base, delta, out)
			}
		}
	}
	return out
}

// span is apm-data's convertSpan.
func (t *translator) span(s ptrace.Span, scope pcommon.InstrumentationScope, base *collector.Event, delta time.Duration, out collector.Batch) collector.Batch {
	root := s.ParentSpanID().IsEmpty()
	start, end := s.StartTimestamp().AsTime(), s.EndTimestamp().AsTime()
	spanID := spanIDString(s.SpanID())
	count := representativeCount(s.TraceState().AsRaw())

	ev := *base
	scopeMetadata(scope, &ev)
	ev.Timestamp = start.Add(delta)
	ev.TraceID = t.traceID(s.TraceID())
	ev.ParentID = spanIDString(s.ParentSpanID())
	ev.Event.Duration = end.Sub(start)
	outcome, result := spanStatus(s.Status())
	ev.Event.Outcome = outcome
	b := newLabels(&ev)
	t.attrs = toAttrs(s.Attributes(), t.attrs)
	if root || s.Kind() == ptrace.SpanKindServer || s.Kind() == ptrace.SpanKindConsumer {
		ev.Kind = collector.KindTransaction
		ev.Transaction = &collector.Transaction{ID: spanID, Name: s.Name(), Sampled: true, RepresentativeCount: count}
		if spanID != "" {
			ev.Span = &collector.Span{ID: spanID}
		}
		otelattr.Transaction(&ev, t.attrs, result, b)
	} else {
		ev.Kind = collector.KindSpan
		ev.Span = &collector.Span{ID: spanID, Name: s.Name(), RepresentativeCount: count}
		otelattr.Span(&ev, t.attrs, spanKind(s.Kind()), b)
	}
	spanLinks(&ev, s.Links())
	out = append(out, ev)

	events := s.Events()
	if events.Len() == 0 {
		return out
	}
	parent := len(out) - 1
	for i := range events.Len() {
		ev := t.spanEvent(events.At(i), &out[parent], base, delta)
		out = append(out, ev)
	}
	return out
}

// spanEvent is apm-data's convertSpanEvent: an exception becomes an error, any other span event a log
// event, both in the context of their span.
func (t *translator) spanEvent(se ptrace.SpanEvent, parent, base *collector.Event, delta time.Duration) collector.Event {
	ev := *parent
	// Only the resource's labels: not the span's.
	ev.Labels, ev.NumericLabels = base.Labels, base.NumericLabels
	ev.Event = collector.EventInfo{Present: true}
	ev.Destination = collector.Destination{}
	ev.Transaction, ev.Span, ev.ParentID, ev.ChildIDs = nil, nil, "", nil
	ev.Service.Target = collector.ServiceTarget{}
	ev.Service.Origin = collector.ServiceOrigin{}
	ev.Timestamp = se.Timestamp().AsTime().Add(delta)
	b := newLabels(&ev)

	isJaeger := strings.HasPrefix(parent.Agent.Name, "Jaeger")
	switch {
	case isJaeger:
		ev.Error = jaegerErrorEvent(se, &ev, b)
	case se.Name() == "exception":
		var x exceptionAttrs
		for k, v := range se.Attributes().All() {
			if !x.take(k, v) && !otelattr.SetDataStream(&ev.DataStream, k, v.Str()) {
				b.setLabel(otelattr.ReplaceDots(k), v)
			}
		}
		ev.Error = x.error(parent.Service.Language.Name)
	}
	if ev.Error != nil {
		ev.Kind = collector.KindError
		if parent.Transaction != nil {
			tx := parent.Transaction
			ev.Transaction = &collector.Transaction{ID: tx.ID, Sampled: tx.Sampled, Type: tx.Type}
			ev.Span = &collector.Span{ID: tx.ID}
			ev.Error.Custom = tx.Custom
			ev.ParentID = tx.ID
		}
		if parent.Span != nil {
			ev.ParentID = parent.Span.ID
		}
		return ev
	}
	ev.Kind = collector.KindLog
	ev.Event.Kind = "event"
	ev.Message = se.Name()
	ev.HTTP, ev.URL = parent.HTTP, parent.URL
	if parent.Transaction != nil {
		ev.Transaction = &collector.Transaction{ID: parent.Transaction.ID}
		ev.Span = &collector.Span{ID: parent.Transaction.ID}
	}
	if parent.Span != nil {
		ev.Span = &collector.Span{ID: parent.Span.ID}
	}
	for k, v := range se.Attributes().All() {
		if otelattr.SetDataStream(&ev.DataStream, k, v.Str()) {
			continue
		}
		key := otelattr.ReplaceDots(k)
		if isJaeger && key == "message" {
			ev.Message = otelattr.Truncate(v.Str())
			continue
		}
		b.setLabel(key, v)
	}
	return ev
}

// jaegerErrorEvent is apm-data's convertJaegerErrorSpanEvent.
func jaegerErrorEvent(se ptrace.SpanEvent, ev *collector.Event, b *labels) *collector.Error {
	var isError bool
	var exMessage, exType, logMessage string
	if name := otelattr.Truncate(se.Name()); name == "error" {
		isError = true
	} else {
		logMessage = name
	}
	for k, v := range se.Attributes().All() {
		if v.Type() != pcommon.ValueTypeStr {
			continue
		}
		s := otelattr.Truncate(v.Str())
		switch k {
		case "error", "error.object":
			exMessage, isError = s, true
		case "error.kind":
			exType, isError = s, true
		case "level":
			isError = s == "error"
		case "message":
			logMessage = s
		default:
			if !otelattr.SetDataStream(&ev.DataStream, k, v.Str()) {
				b.setLabel(otelattr.ReplaceDots(k), v)
			}
		}
	}
	if !isError || logMessage == "" && exMessage == "" && exType == "" {
		return nil
	}
	e := &collector.Error{}
	if logMessage != "" {
		e.Log = &collector.ErrorLog{Message: logMessage}
	}
	if exMessage != "" || exType != "" {
		e.Exception = &collector.Exception{Message: exMessage, Type: exType}
		e.ID = newErrorID()
	}
	return e
}

// spanLinks is apm-data's translateSpanLinks: links marked elastic.is_child (or is_child) are child
// ids, the others span links.
func spanLinks(ev *collector.Event, links ptrace.SpanLinkSlice) {
	if links.Len() == 0 {
		return
	}
	if ev.Span == nil {
		ev.Span = &collector.Span{}
	}
	ev.Span.Links = make([]collector.SpanLink, 0, links.Len())
	for i := range links.Len() {
		l := links.At(i)
		ec, ecOK := l.Attributes().Get("elastic.is_child")
		c, cOK := l.Attributes().Get("is_child")
		if ecOK && ec.Bool() || cOK && c.Bool() {
			ev.ChildIDs = append(ev.ChildIDs, spanIDString(l.SpanID()))
			continue
		}
		ev.Span.Links = append(ev.Span.Links, collector.SpanLink{TraceID: traceIDString(l.TraceID()), SpanID: spanIDString(l.SpanID())})
	}
}

func spanIDString(id pcommon.SpanID) string {
	if id.IsEmpty() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

func traceIDString(id pcommon.TraceID) string {
	if id.IsEmpty() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

func spanKind(k ptrace.SpanKind) string {
	switch k {
	case ptrace.SpanKindInternal:
		return "INTERNAL"
	case ptrace.SpanKindServer:
		return "SERVER"
	case ptrace.SpanKindClient:
		return "CLIENT"
	case ptrace.SpanKindProducer:
		return "PRODUCER"
	case ptrace.SpanKindConsumer:
		return "CONSUMER"
	}
	return ""
}

// spanStatus is a span's status as Elastic says it: the event's outcome, and a transaction's result.
func spanStatus(s ptrace.Status) (outcome, result string) {
	switch s.Code() {
	case ptrace.StatusCodeOk:
		return "success", "Success"
	case ptrace.StatusCodeError:
		return "failure", "Error"
	}
	return "unknown", ""
}

// representativeCount is the sampling weight of a span from the ot entry of its tracestate, as Elastic
// reads it: p:N (the p-value of OpenTelemetry's probability sampling) gives 2^N, p > 62 gives 0, and
// no or an invalid p gives 1. Where there is no p, th:T (the threshold of the current OpenTelemetry
// sampling specification, which Elastic ignores) gives 2^56 / (2^56 - T), T being up to 14 hex digits
// padded on the right.
func representativeCount(tracestate string) float64 {
	ot := tracestateValue(tracestate, "ot", ',', '=')
	if ot == "" {
		return 1
	}
	if p := tracestateValue(ot, "p", ';', ':'); p != "" {
		n, _ := strconv.ParseUint(p, 10, 6) // an invalid p counts as 0, as in apm-data
		if n > 62 {
			return 0
		}
		return math.Pow(2, float64(n))
	}
	if th := tracestateValue(ot, "th", ';', ':'); th != "" && len(th) <= 14 {
		t, err := strconv.ParseUint(th+strings.Repeat("0", 14-len(th)), 16, 64)
		if err == nil {
			return float64(uint64(1)<<56) / float64(uint64(1)<<56-t)
		}
	}
	return 1
}

// tracestateValue returns the value of key in a list of key<assign>value entries separated by sep.
func tracestateValue(s, key string, sep, assign byte) string {
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, string(sep))
		kv = strings.TrimSpace(kv)
		if k, v, ok := strings.Cut(kv, string(assign)); ok && k == key {
			return v
		}
	}
	return ""
}

// newErrorID is a random error.id, as APM Server draws one for each error made from an exception.
func newErrorID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(u[:])
}
