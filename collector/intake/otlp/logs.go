package otlp

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

// logs appends the events of ld to out: a log event per record, or an error for a record of an
// exception (or a device crash), as apm-data's convertLogRecord.
func (t *translator) logs(ld plog.Logs, received time.Time, out collector.Batch) collector.Batch {
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		base := resourceEvent(rl.Resource())
		delta := exportTimeDelta(rl.Resource(), received)
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			recs := sl.LogRecords()
			for k := range recs.Len() {
				out = append(out, logRecord(recs.At(k), sl.Scope(), &base, delta))
			}
		}
	}
	return out
}

func logRecord(rec plog.LogRecord, scope pcommon.InstrumentationScope, base *collector.Event, delta time.Duration) collector.Event {
	ev := *base
	ev.Kind = collector.KindLog
	b := newLabels(&ev)
	scopeMetadata(scope, &ev)
	ts := rec.Timestamp()
	if ts == 0 {
		ts = rec.ObservedTimestamp()
	}
	ev.Timestamp = ts.AsTime().Add(delta)
	ev.Event.Severity = collector.Some(int64(rec.SeverityNumber()))
	ev.Log = &collector.Log{Level: rec.SeverityText(), Present: true}
	if body := rec.Body(); body.Type() != pcommon.ValueTypeEmpty {
		ev.Message = body.AsString()
		if body.Type() == pcommon.ValueTypeMap {
			for k, v := range body.Map().All() {
				b.setLabel(otelattr.ReplaceDots(k), v)
			}
		}
	}
	ev.TraceID = traceIDString(rec.TraceID())
	if id := rec.SpanID(); !id.IsEmpty() {
		ev.Span = &collector.Span{ID: spanIDString(id)}
	}
	var x exceptionAttrs
	var eventName, eventDomain string
	for k, v := range rec.Attributes().All() {
		if x.take(k, v) || otelattr.SetDataStream(&ev.DataStream, k, v.Str()) {
			continue
		}
		switch k {
		case "event.name":
			eventName = v.Str()
		case "event.domain":
			eventDomain = v.Str()
		case "session.id":
			ev.Session.ID = v.Str()
		case "network.connection.type":
			ev.Network.ConnectionType = v.Str()
		default:
			b.setLabel(otelattr.ReplaceDots(k), v)
		}
	}
	ev.Error = x.error(ev.Service.Language.Name)
	if eventDomain == "device" && eventName != "" || strings.HasPrefix(eventName, "device.") {
		ev.Event.Category = "device"
		if action := strings.TrimPrefix(eventName, "device."); action == "crash" {
			if ev.Error == nil {
				ev.Error = &collector.Error{}
			}
			ev.Error.Type = "crash"
		} else {
			ev.Event.Kind = "event"
			ev.Event.Action = action
		}
	}
	if ev.Error != nil {
		ev.Kind = collector.KindError
		ev.Event.Kind = "event"
		ev.Event.Type = "error"
	}
	return ev
}
