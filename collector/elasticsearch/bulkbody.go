package elasticsearch

import (
	"github.com/hotpath-apm/hotpath/collector"
)

// maxIDLength is Elasticsearch's limit on _id (512 bytes); a longer one would fail the document.
const maxIDLength = 512

// bulkBody accumulates the NDJSON of one bulk request, an action line and a source line per document,
// and remembers where each document starts so that a retry can resend only the documents that need
// it. It is reused from one request to the next.
type bulkBody struct {
	buf    []byte
	starts []int // starts[i] is where document i's action line begins in buf
	// scratch holds the index name while it is escaped.
	scratch []byte
}

// reset empties the body, keeping its memory.
func (b *bulkBody) reset() {
	b.buf = b.buf[:0]
	b.starts = b.starts[:0]
}

// len returns the number of documents.
func (b *bulkBody) len() int { return len(b.starts) }

// size returns the body's size in bytes (uncompressed).
func (b *bulkBody) size() int { return len(b.buf) }

// doc returns document i's two lines.
func (b *bulkBody) doc(i int) []byte {
	end := len(b.buf)
	if i+1 < len(b.starts) {
		end = b.starts[i+1]
	}
	return b.buf[b.starts[i]:end]
}

// add appends e's action and source lines; a metrics-only event (collector.Event.MetricsOnly) adds
// nothing. On error (the event cannot be rendered) the body is left
// as it was.
func (b *bulkBody) add(e *collector.Event) error {
	if e.MetricsOnly() {
		return nil // APM Server indexes no document for it (its aggregated metrics count it)
	}
	var err error
	b.scratch, err = AppendIndex(b.scratch[:0], e)
	if err != nil {
		return err
	}
	start := len(b.buf)
	w := jsonWriter{b: append(b.buf, `{"create":{"_index":`...)}
	w.string(string(b.scratch)) // data stream names are ASCII in practice; escaped all the same
	idMark := len(w.b)
	w.b = append(w.b, `,"_id":"`...)
	idStart := len(w.b)
	w.b = AppendDocumentID(w.b, e)
	if n := len(w.b) - idStart; n == 0 || n > maxIDLength {
		w.b = w.b[:idMark] // no id of its own: Elasticsearch generates one
	} else {
		w.b = append(w.b, '"')
	}
	w.b = append(w.b, "}}\n"...)
	buf, err := AppendDocument(w.b, e)
	if err != nil {
		b.buf = buf[:start]
		return err
	}
	b.buf = append(buf, '\n')
	b.starts = append(b.starts, start)
	return nil
}

// appendDocs appends documents idx of src (their action and source lines) to b.
func (b *bulkBody) appendDocs(src *bulkBody, idx []int) {
	for _, i := range idx {
		b.starts = append(b.starts, len(b.buf))
		b.buf = append(b.buf, src.doc(i)...)
	}
}

// AppendDocumentID appends the _id the exporter gives e's document, or nothing when e has none.
// Transactions, spans and errors carry ids that identify them ("<trace.id>-<id>", or the error id
// alone when there is no trace), so a document sent twice (after a timeout, or a restart before the
// cursor was saved) is created once: Elasticsearch answers 409 to the second create. Metricsets and
// logs have no id; Elasticsearch generates one, and a resend duplicates them.
//
// Ids are hexadecimal in every agent, so they need no JSON escaping; an id that would (a hand-written
// one) is left out rather than escaped.
func AppendDocumentID(dst []byte, e *collector.Event) []byte {
	var id string
	switch e.Kind {
	case collector.KindTransaction:
		if e.Transaction != nil {
			id = e.Transaction.ID
		}
	case collector.KindSpan:
		if e.Span != nil {
			id = e.Span.ID
		}
	case collector.KindError:
		if e.Error != nil {
			id = e.Error.ID
		}
	}
	if id == "" || !plainID(id) || !plainID(e.TraceID) {
		return dst
	}
	if e.TraceID != "" {
		dst = append(dst, e.TraceID...)
		dst = append(dst, '-')
	}
	return append(dst, id...)
}

// plainID reports whether s can go into a JSON string as it is.
func plainID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}
