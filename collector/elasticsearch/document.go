package elasticsearch

import (
	"errors"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// AppendDocument appends to dst the Elasticsearch _source document of e, the one Elastic APM Server
// (apm-data's modeljson) writes for the same event, and returns the extended slice. Members are written
// in sorted order, so the output is also canonical JSON. e must already have been through intake's
// enrichment (data stream, observer, grouping key...): rendering is a pure function of the event.
//
// The only error is a number JSON cannot hold (NaN or an infinity), for which APM Server refuses the
// document as well; dst is then returned unchanged.
func AppendDocument(dst []byte, e *collector.Event) ([]byte, error) {
	w := jsonWriter{b: dst}
	start := len(dst)
	w.b = append(w.b, '{')

	ts := e.Timestamp
	if ts.IsZero() {
		ts = time.Unix(0, 0)
	}
	w.time("@timestamp", ts)
	if e.Metricset != nil {
		w.int("_doc_count", e.Metricset.DocCount)
	}
	writeAgent(&w, &e.Agent)
	if len(e.ChildIDs) > 0 {
		m := w.open("child")
		w.strings("id", e.ChildIDs)
		w.close(m)
	}
	writeClient(&w, &e.Client)
	writeCloud(&w, &e.Cloud)
	writeContainer(&w, &e.Container)
	writeDataStream(&w, &e.DataStream)
	writeDestination(&w, &e.Destination)
	writeDevice(&w, &e.Device)
	if e.Error != nil {
		writeError(&w, e.Error)
	}
	writeEventInfo(&w, &e.Event)
	writeFaas(&w, &e.Faas)
	writeHost(&w, &e.Host)
	if e.HTTP != nil {
		writeHTTP(&w, e.HTTP)
	}
	writeKubernetes(&w, &e.Kubernetes)
	writeLabels(&w, e.Labels)
	if e.Log != nil {
		writeLog(&w, e.Log)
	}
	w.str("message", e.Message)
	if e.Metricset != nil {
		writeMetricset(&w, e.Metricset)
	}
	writeNetwork(&w, &e.Network)
	writeNumericLabels(&w, e.NumericLabels)
	writeObserver(&w, &e.Observer)
	if e.ParentID != "" {
		m := w.open("parent")
		w.str("id", e.ParentID)
		w.close(m)
	}
	writeProcess(&w, &e.Process)
	writeService(&w, &e.Service)
	writeSession(&w, &e.Session)
	writeSource(&w, &e.Source)
	if e.Span != nil {
		writeSpan(&w, e.Span)
	}
	switch e.APMType() {
	case collector.KindTransaction, collector.KindSpan, collector.KindError:
		// The high-resolution timestamp Kibana sorts by; only for these three types.
		if !e.Timestamp.IsZero() {
			if us := e.Timestamp.UnixNano() / 1000; us != 0 {
				m := w.open("timestamp")
				w.intAlways("us", us)
				w.close(m)
			}
		}
	}
	if e.TraceID != "" {
		m := w.open("trace")
		w.str("id", e.TraceID)
		w.close(m)
	}
	if e.Transaction != nil {
		writeTransaction(&w, e.Transaction, e.Metricset != nil)
	}
	writeURL(&w, &e.URL)
	writeUser(&w, &e.User)
	writeUserAgent(&w, &e.UserAgent)

	w.b = append(w.b, '}')
	if w.err != nil {
		return w.b[:start], w.err
	}
	return w.b, nil
}

// ErrNoDataStream is returned by AppendIndex for an event that has no data stream: it did not go
// through intake's enrichment, so where APM Server would index it is unknown.
var ErrNoDataStream = errors.New("elasticsearch: event has no data stream (not enriched)")

// AppendIndex appends the name of the data stream e belongs in, "<type>-<dataset>-<namespace>" as
// APM Server names it (traces-apm-default, logs-apm.error-default, metrics-apm.app.<service>-default...).
func AppendIndex(dst []byte, e *collector.Event) ([]byte, error) {
	ds := &e.DataStream
	if ds.Type == "" || ds.Dataset == "" || ds.Namespace == "" {
		return dst, ErrNoDataStream
	}
	dst = append(dst, ds.Type...)
	dst = append(dst, '-')
	dst = append(dst, ds.Dataset...)
	dst = append(dst, '-')
	dst = append(dst, ds.Namespace...)
	return dst, nil
}

// Index returns the name of the data stream e belongs in (see AppendIndex).
func Index(e *collector.Event) (string, error) {
	b, err := AppendIndex(nil, e)
	return string(b), err
}

func writeDataStream(w *jsonWriter, ds *collector.DataStream) {
	m := w.open("data_stream")
	w.str("dataset", ds.Dataset)
	w.str("namespace", ds.Namespace)
	w.str("type", ds.Type)
	w.close(m)
}

func writeEventInfo(w *jsonWriter, ev *collector.EventInfo) {
	m := w.openKeep("event", ev.Present)
	w.str("action", ev.Action)
	w.str("category", ev.Category)
	w.str("dataset", ev.Dataset)
	if ev.Duration > 0 {
		w.intAlways("duration", int64(ev.Duration))
	}
	w.str("kind", ev.Kind)
	w.str("module", ev.Module)
	w.str("outcome", ev.Outcome)
	if ev.Severity.Valid && ev.Severity.V != 0 {
		w.intAlways("severity", ev.Severity.V)
	}
	w.str("type", ev.Type)
	w.close(m)
}

func writeObserver(w *jsonWriter, o *collector.Observer) {
	// modeljson writes neither observer.ephemeral_id nor observer.id.
	m := w.open("observer")
	w.str("hostname", o.Hostname)
	w.str("name", o.Name)
	w.str("type", o.Type)
	w.str("version", o.Version)
	w.close(m)
}

// writeLabels writes labels.* (string and boolean labels; booleans are strings in Elasticsearch, as
// APM Server writes them). Keys are sanitized; when two labels end up with the same key (an event label
// overriding a metadata one, or "a.b" next to "a_b") the later one wins, so the document never has a
// duplicate key, which Elasticsearch refuses.
func writeLabels(w *jsonWriter, labels []collector.Label) {
	writeLabelObject(w, "labels", labels, func(i int) string { return labels[i].Key }, func(i int) {
		if l := &labels[i]; l.Values != nil {
			w.stringArray(l.Values)
		} else {
			w.string(l.Value)
		}
	})
}

// writeNumericLabels writes numeric_labels.*, with writeLabels' rules for keys.
func writeNumericLabels(w *jsonWriter, labels []collector.NumericLabel) {
	writeLabelObject(w, "numeric_labels", labels, func(i int) string { return labels[i].Key }, func(i int) {
		l := &labels[i]
		if l.Values == nil {
			w.floatValue("numeric_labels", l.Value)
			return
		}
		w.b = append(w.b, '[')
		for k, v := range l.Values {
			w.next(k)
			w.floatValue("numeric_labels", v)
		}
		w.b = append(w.b, ']')
	})
}

// writeLabelObject writes the object name with a member per label, key(i) and value(i) giving label i's
// key and writing its value; a label overridden by a later one (labelOverridden) is left out.
func writeLabelObject[L any](w *jsonWriter, name string, labels []L, key func(int) string, value func(int)) {
	if len(labels) == 0 {
		return
	}
	m := w.open(name)
	for i := range labels {
		if labelOverridden(labels, i, key) {
			continue
		}
		w.comma()
		w.labelKey(key(i))
		w.b = append(w.b, ':')
		value(i)
	}
	w.close(m)
}

// labelOverridden reports whether a label after index i has the same (sanitized) key as label i.
// Label sets are small, so a quadratic scan without allocation beats building a set.
func labelOverridden[L any](labels []L, i int, key func(int) string) bool {
	k := key(i)
	sk := ""
	for j := i + 1; j < len(labels); j++ {
		kj := key(j)
		if kj == k {
			return true
		}
		if len(kj) == len(k) {
			if sk == "" {
				sk = sanitizeKey(k)
			}
			if sanitizeKey(kj) == sk {
				return true
			}
		}
	}
	return false
}
