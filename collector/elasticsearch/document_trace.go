package elasticsearch

import (
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The transaction.*, span.* and metricset.* groups.

func writeTransaction(w *jsonWriter, t *collector.Transaction, metricset bool) {
	m := w.open("transaction")
	w.keyValues("custom", t.Custom, true)
	if metricset && len(t.DroppedSpansStats) > 0 {
		// Only metric documents carry dropped_spans_stats, never transaction events.
		w.beginArray("dropped_spans_stats")
		for i := range t.DroppedSpansStats {
			d := &t.DroppedSpansStats[i]
			w.beginItem(i)
			w.str("destination_service_resource", d.DestinationServiceResource)
			if d.Count != 0 {
				w.begin("duration")
				w.intAlways("count", d.Count)
				w.intAlways("sum.us", d.SumMicros)
				w.end()
			}
			w.str("outcome", d.Outcome)
			w.str("service_target_name", d.ServiceTargetName)
			w.str("service_target_type", d.ServiceTargetType)
			w.end()
		}
		w.b = append(w.b, ']')
	}
	if h := t.DurationHistogram; h != nil && len(h.Counts) > 0 {
		writeHistogram(w, "duration.histogram", h)
	}
	if s := t.DurationSummary; s != nil && s.Count != 0 {
		w.begin("duration.summary")
		w.floatAlways("sum", s.Sum)
		w.intAlways("value_count", s.Count)
		w.end()
	}
	if x := t.Experience; x != nil {
		w.begin("experience")
		writeNonNegative(w, "cls", x.CLS)
		writeNonNegative(w, "fid", x.FID)
		// longtask is always written, zero when the agent sent none, as modeljson does.
		var lt collector.LongTask
		if x.LongTask != nil {
			lt = *x.LongTask
		}
		w.begin("longtask")
		w.intAlways("count", lt.Count)
		w.floatAlways("max", lt.Max)
		w.floatAlways("sum", lt.Sum)
		w.end()
		writeNonNegative(w, "tbt", x.TBT)
		w.end()
	}
	w.str("id", t.ID)
	writeMarks(w, t.Marks)
	if t.Message != nil {
		writeMessage(w, t.Message)
	}
	w.str("name", t.Name)
	if t.ProfilerStackTraces != nil {
		w.key("profiler_stack_trace_ids")
		w.stringArray(t.ProfilerStackTraces)
	}
	w.float("representative_count", t.RepresentativeCount)
	w.str("result", t.Result)
	w.trueOnly("root", t.Root)
	w.trueOnly("sampled", t.Sampled)
	if t.SpanCount.Dropped.Valid || t.SpanCount.Started.Valid {
		w.begin("span_count")
		if v := t.SpanCount.Dropped; v.Valid {
			w.intAlways("dropped", int64(v.V))
		}
		if v := t.SpanCount.Started; v.Valid {
			w.intAlways("started", int64(v.V))
		}
		w.end()
	}
	w.str("type", t.Type)
	w.close(m)
}

// writeNonNegative writes a web-vital: modeljson writes it when it is >= 0 (absent ones are -1 there).
func writeNonNegative(w *jsonWriter, name string, v collector.Optional[float64]) {
	if v.Valid && v.V >= 0 {
		w.floatAlways(name, v.V)
	}
}

// writeMarks writes transaction.marks.<group>.<mark>, keys sanitized at both levels. A group with no
// marks is left out (Elasticsearch would index nothing for it).
func writeMarks(w *jsonWriter, marks []collector.Mark) {
	if len(marks) == 0 {
		return
	}
	m := w.open("marks")
	for i := range marks {
		g := &marks[i]
		if len(g.Measurements) == 0 {
			continue
		}
		w.comma()
		w.labelKey(g.Group)
		w.b = append(w.b, ':', '{')
		for j, ms := range g.Measurements {
			w.next(j)
			w.labelKey(ms.Name)
			w.b = append(w.b, ':')
			w.floatValue("transaction.marks", ms.Value)
		}
		w.b = append(w.b, '}')
	}
	w.close(m)
}

func writeMessage(w *jsonWriter, msg *collector.Message) {
	w.begin("message")
	if msg.AgeMillis.Valid {
		w.begin("age")
		w.intAlways("ms", msg.AgeMillis.V)
		w.end()
	}
	w.str("body", msg.Body)
	if len(msg.Headers) > 0 {
		w.headers("headers", msg.Headers)
	}
	if msg.QueueName != "" {
		w.begin("queue")
		w.strAlways("name", msg.QueueName)
		w.end()
	}
	w.str("routing_key", msg.RoutingKey)
	w.end()
}

func writeSpan(w *jsonWriter, s *collector.Span) {
	m := w.open("span")
	w.str("action", s.Action)
	if c := s.Composite; c != nil {
		w.begin("composite")
		w.strAlways("compression_strategy", c.CompressionStrategy)
		w.intAlways("count", int64(c.Count))
		w.begin("sum")
		sum := time.Duration(c.SumMillis * float64(time.Millisecond))
		w.intAlways("us", sum.Microseconds())
		w.end()
		w.end()
	}
	if db := s.DB; db != nil {
		w.begin("db")
		w.str("instance", db.Instance)
		w.str("link", db.Link)
		w.optInt("rows_affected", db.RowsAffected)
		w.str("statement", db.Statement)
		w.str("type", db.Type)
		n := w.open("user")
		w.str("name", db.UserName)
		w.close(n)
		w.end()
	}
	if d := s.DestinationService; d != nil {
		w.begin("destination")
		w.begin("service")
		w.str("name", d.Name)
		w.str("resource", d.Resource)
		w.str("type", d.Type)
		w.end()
		w.end()
	}
	w.str("id", s.ID)
	w.str("kind", s.Kind)
	if len(s.Links) > 0 {
		w.beginArray("links")
		for i, l := range s.Links {
			w.beginItem(i)
			if l.SpanID != "" {
				w.begin("span")
				w.strAlways("id", l.SpanID)
				w.end()
			}
			if l.TraceID != "" {
				w.begin("trace")
				w.strAlways("id", l.TraceID)
				w.end()
			}
			w.end()
		}
		w.b = append(w.b, ']')
	}
	if s.Message != nil {
		writeMessage(w, s.Message)
	}
	w.str("name", s.Name)
	w.float("representative_count", s.RepresentativeCount)
	if st := s.SelfTime; st != nil && st.Count != 0 {
		w.begin("self_time")
		w.intAlways("count", st.Count)
		w.intAlways("sum.us", st.Sum.Microseconds())
		w.end()
	}
	writeStacktrace(w, "stacktrace", s.Stacktrace)
	w.str("subtype", s.Subtype)
	w.optBool("sync", s.Sync)
	w.str("type", s.Type)
	w.close(m)
}

func writeMetricset(w *jsonWriter, ms *collector.Metricset) {
	m := w.open("metricset")
	w.str("interval", ms.Interval)
	w.str("name", ms.Name)
	if len(ms.Samples) > 0 {
		w.beginArray("samples")
		for i := range ms.Samples {
			s := &ms.Samples[i]
			w.beginItem(i)
			switch s.Type {
			case collector.MetricHistogram:
				var h collector.Histogram
				if s.Histogram != nil {
					h = *s.Histogram
				}
				writeUints(w, "counts", h.Counts)
				w.strAlways("name", s.Name)
				w.strAlways("type", "histogram")
				w.str("unit", s.Unit)
				writeFloats(w, "values", h.Values)
			case collector.MetricSummary:
				var sum collector.SummaryMetric
				if s.Summary != nil {
					sum = *s.Summary
				}
				w.strAlways("name", s.Name)
				w.floatAlways("sum", sum.Sum)
				w.strAlways("type", "summary")
				w.str("unit", s.Unit)
				w.intAlways("value_count", sum.Count)
			default:
				w.strAlways("name", s.Name)
				w.str("type", s.Type.String())
				w.str("unit", s.Unit)
				w.floatAlways("value", s.Value)
			}
			w.end()
		}
		w.b = append(w.b, ']')
	}
	w.close(m)
}

// writeHistogram writes the member name: {"counts":[...],"values":[...]}.
func writeHistogram(w *jsonWriter, name string, h *collector.Histogram) {
	w.begin(name)
	writeUints(w, "counts", h.Counts)
	writeFloats(w, "values", h.Values)
	w.end()
}

// writeUints writes the member name: [us...].
func writeUints(w *jsonWriter, name string, us []uint64) {
	w.beginArray(name)
	for i, u := range us {
		w.next(i)
		w.b = appendUint(w.b, u)
	}
	w.b = append(w.b, ']')
}

// writeFloats writes the member name: [fs...].
func writeFloats(w *jsonWriter, name string, fs []float64) {
	w.beginArray(name)
	for i, f := range fs {
		w.next(i)
		w.floatValue("histogram", f)
	}
	w.b = append(w.b, ']')
}
