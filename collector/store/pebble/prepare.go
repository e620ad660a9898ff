package pebble

import (
	"encoding/binary"
	"unsafe"

	"github.com/hotpath-apm/hotpath/collector"
)

// A request is one ProcessBatch call on its way to the writer: its events already encoded (by the
// calling goroutine, so encoding runs in parallel and the caller may reuse its Batch as soon as
// ProcessBatch returns) and its index entries prepared, lacking only the partition and sequence number
// the writer gives them.
type request struct {
	buf     []byte     // encoded events, index key bodies and index values
	events  []span     // one per event, in batch order
	entries []entry    // index entries
	aggs    []aggInput // contributions to the pre-aggregated series (aggregate.go)
	minTS   int64      // Unix nanoseconds of the earliest and latest event timestamps (saturated)
	maxTS   int64
	done    chan error
}

type span struct{ off, end int32 }

// entry is one index key: keyspace, the body between partition and sequence number, and a value.
type entry struct {
	ks    byte
	ev    int32 // index into events, whose sequence number ends the key (not for ksNames)
	body  span
	value span
}

func (r *request) bytes(s span) []byte { return r.buf[s.off:s.end] }

// size is what the request holds in memory, counted against Config.QueueBytes.
func (r *request) size() int {
	return cap(r.buf) + cap(r.events)*8 + cap(r.entries)*24 + cap(r.aggs)*int(unsafe.Sizeof(aggInput{}))
}

func (r *request) reset() {
	r.buf = r.buf[:0]
	r.events = r.events[:0]
	r.entries = r.entries[:0]
	r.aggs = r.aggs[:0]
}

func (r *request) mark() int32 { return int32(len(r.buf)) }

// prepare encodes b into r.
func (r *request) prepare(b collector.Batch) {
	r.reset()
	r.minTS, r.maxTS = 1<<63-1, -1<<63
	var ts TransactionSummary
	var es ErrorSummary
	for i := range b {
		e := &b[i]
		ev := int32(len(r.events))
		start := r.mark()
		r.buf = appendEvent(r.buf, e)
		r.events = append(r.events, span{start, r.mark()})
		if t := int64(timeKey(e.Timestamp) ^ 1<<63); !e.Timestamp.IsZero() {
			r.minTS, r.maxTS = min(r.minTS, t), max(r.maxTS, t)
		}

		if e.TraceID != "" {
			body := r.mark()
			r.buf = appendTraceID(r.buf, e.TraceID)
			r.entries = append(r.entries, entry{ks: ksTrace, ev: ev, body: span{body, r.mark()}})
		}
		svc := e.Service.Name
		if svc != "" {
			body := r.mark()
			r.buf = appendEscaped(r.buf, svc)
			r.buf = appendEscaped(r.buf, "")
			r.buf = appendEscaped(r.buf, "")
			r.entries = append(r.entries, entry{ks: ksNames, body: span{body, r.mark()}})
		}
		switch {
		case e.Kind == collector.KindTransaction && e.Transaction != nil:
			ts = txSummaryOf(e)
			val := r.mark()
			r.buf = appendTxSummary(r.buf, &ts)
			value := span{val, r.mark()}

			body := r.mark()
			r.buf = appendEscaped(r.buf, svc)
			r.buf = appendEscaped(r.buf, ts.Name)
			nameEnd := r.mark()
			r.buf = binary.BigEndian.AppendUint64(r.buf, timeKey(e.Timestamp))
			r.entries = append(r.entries, entry{ks: ksTxTime, ev: ev, body: span{body, r.mark()}, value: value})

			body2 := r.mark()
			r.buf = append(r.buf, r.buf[body:nameEnd]...)
			r.buf = binary.BigEndian.AppendUint64(r.buf, durKey(ts.Duration))
			r.buf = binary.BigEndian.AppendUint64(r.buf, timeKey(e.Timestamp))
			r.entries = append(r.entries, entry{ks: ksTxDur, ev: ev, body: span{body2, r.mark()}, value: value})

			if svc != "" {
				body3 := r.mark()
				r.buf = appendEscaped(r.buf, svc)
				r.buf = appendEscaped(r.buf, ts.Type)
				r.buf = appendEscaped(r.buf, ts.Name)
				r.entries = append(r.entries, entry{ks: ksNames, body: span{body3, r.mark()}})
			}
		case e.Kind == collector.KindError && e.Error != nil:
			es = errSummaryOf(e)
			val := r.mark()
			r.buf = appendErrSummary(r.buf, &es)
			value := span{val, r.mark()}
			body := r.mark()
			r.buf = appendEscaped(r.buf, svc)
			r.buf = binary.BigEndian.AppendUint64(r.buf, timeKey(e.Timestamp))
			r.entries = append(r.entries, entry{ks: ksError, ev: ev, body: span{body, r.mark()}, value: value})
		}
		r.prepareAggregate(e)
	}
}
