package pebble

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"github.com/hotpath-apm/hotpath/collector"
)

// A pendingWrite is one ProcessBatch call on its way to the writer: its events already encoded (by the
// calling goroutine, so encoding runs in parallel and the caller may reuse its Batch as soon as
// ProcessBatch returns) and its index entries prepared, lacking only the partition and sequence number
// the writer gives them.
type pendingWrite struct {
	buf     []byte          // encoded events, index key bodies and index values
	chunk   []byte          // the stored chunks of the events (chunk.go), compressed
	chunks  []storedChunk   // where each chunk is in chunk
	raw     []byte          // a chunk before compression
	events  []bufRange      // one per event, in batch order
	entries []entry         // index entries
	aggs    []aggInput      // contributions to the pre-aggregated series (aggregate.go)
	shapes  []shapeInput    // contributions to the query shapes' and dependencies' aggregates (queryshape.go)
	fo      []failoverInput // contributions to the failover aggregates (failover.go)
	minTS   int64           // Unix nanoseconds of the earliest and latest event timestamps (saturated)
	maxTS   int64
	done    chan error
	state   atomic.Int32 // writeQueued, writeWritten, ... (stall.go)
	memo    *shapeMemo   // the store's (shapememo.go)
	memoKey []byte

	// Set before prepare when the store caps traces (tracecap.go): whether each event of the batch is
	// kept (prepare skips the others), and the counters of the kept events that have a trace id.
	keep     []bool
	capSlots []traceSlot

	// While prepare runs: the trace-index entry of each trace id in the batch, and for each event the
	// next event of the same trace (-1 for none), so that a trace's events share one index key.
	traces map[string]traceRef
	next   []int32
}

// traceRef is a trace's index entry in a pending write being prepared and the last event linked to it.
type traceRef struct{ entry, last int32 }

// bufRange is the bytes [off, end) of a pendingWrite's buf: an encoded event, an index key's body or
// value, a name.
type bufRange struct{ off, end int32 }

// entry is one index key: keyspace, the body between partition and sequence number, and a value.
type entry struct {
	ks    byte
	ev    int32 // index into events, whose sequence number ends the key (not for ksNames)
	body  bufRange
	value bufRange
}

func (r *pendingWrite) bytes(s bufRange) []byte { return r.buf[s.off:s.end] }

// size is what the pending write holds in memory, counted against Config.QueueBytes.
func (r *pendingWrite) size() int {
	return cap(r.buf) + cap(r.chunk) + cap(r.chunks)*12 + cap(r.raw) + cap(r.memoKey) + cap(r.events)*8 + cap(r.entries)*24 + cap(r.aggs)*int(unsafe.Sizeof(aggInput{})) +
		cap(r.shapes)*int(unsafe.Sizeof(shapeInput{})) + cap(r.next)*4 + cap(r.keep) + cap(r.capSlots)*8
}

func (r *pendingWrite) reset() {
	r.buf = r.buf[:0]
	r.chunk, r.chunks = r.chunk[:0], r.chunks[:0]
	r.events = r.events[:0]
	r.entries = r.entries[:0]
	r.aggs = r.aggs[:0]
	r.shapes = r.shapes[:0]
	r.fo = r.fo[:0]
	r.next = r.next[:0]
}

func (r *pendingWrite) mark() int32 { return int32(len(r.buf)) }

// prepare encodes b into r, but for the events r.keep says to drop.
func (r *pendingWrite) prepare(b collector.Batch) {
	r.reset()
	if r.traces == nil {
		r.traces = make(map[string]traceRef)
	}
	defer clear(r.traces) // its keys are the batch's strings, which the caller may reuse
	r.minTS, r.maxTS = 1<<63-1, -1<<63
	var ts collector.TransactionSummary
	var es collector.ErrorSummary
	for i := range b {
		if i < len(r.keep) && !r.keep[i] {
			continue
		}
		e := &b[i]
		ev := int32(len(r.events))
		start := r.mark()
		r.buf = appendEvent(r.buf, e)
		r.events = append(r.events, bufRange{start, r.mark()})
		if t := int64(timeKey(e.Timestamp) ^ 1<<63); !e.Timestamp.IsZero() {
			r.minTS, r.maxTS = min(r.minTS, t), max(r.maxTS, t)
		}

		r.next = append(r.next, -1)
		if e.TraceID != "" {
			if ref, ok := r.traces[e.TraceID]; ok {
				r.next[ref.last] = ev
				r.traces[e.TraceID] = traceRef{ref.entry, ev}
			} else {
				r.traces[e.TraceID] = traceRef{int32(len(r.entries)), ev}
				body := r.mark()
				r.buf = appendTraceID(r.buf, e.TraceID)
				r.entries = append(r.entries, entry{ks: ksTrace, ev: ev, body: bufRange{body, r.mark()}})
			}
		}
		svc := e.Service.Name
		if svc != "" {
			body := r.mark()
			r.buf = appendEscaped(r.buf, svc)
			r.buf = appendEscaped(r.buf, "")
			r.buf = appendEscaped(r.buf, "")
			r.entries = append(r.entries, entry{ks: ksNames, body: bufRange{body, r.mark()}})
		}
		switch {
		case e.Kind == collector.KindTransaction && e.Transaction != nil:
			ts = txSummaryOf(e)
			val := r.mark()
			r.buf = appendTxSummary(r.buf, &ts)
			value := bufRange{val, r.mark()}

			body := r.mark()
			r.buf = appendEscaped(r.buf, svc)
			r.buf = appendEscaped(r.buf, ts.Name)
			nameEnd := r.mark()
			r.buf = binary.BigEndian.AppendUint64(r.buf, timeKey(e.Timestamp))
			r.entries = append(r.entries, entry{ks: ksTxTime, ev: ev, body: bufRange{body, r.mark()}, value: value})

			body2 := r.mark()
			r.buf = append(r.buf, r.buf[body:nameEnd]...)
			r.buf = binary.BigEndian.AppendUint64(r.buf, durKey(ts.Duration))
			r.buf = binary.BigEndian.AppendUint64(r.buf, timeKey(e.Timestamp))
			r.entries = append(r.entries, entry{ks: ksTxDur, ev: ev, body: bufRange{body2, r.mark()}}) // the summary is the time index's

			if svc != "" {
				body3 := r.mark()
				r.buf = appendEscaped(r.buf, svc)
				r.buf = appendEscaped(r.buf, ts.Type)
				r.buf = appendEscaped(r.buf, ts.Name)
				r.entries = append(r.entries, entry{ks: ksNames, body: bufRange{body3, r.mark()}})
			}
		case e.Kind == collector.KindError && e.Error != nil:
			es = errSummaryOf(e)
			val := r.mark()
			r.buf = appendErrSummary(r.buf, &es)
			value := bufRange{val, r.mark()}
			body := r.mark()
			r.buf = appendEscaped(r.buf, svc)
			r.buf = binary.BigEndian.AppendUint64(r.buf, timeKey(e.Timestamp))
			r.entries = append(r.entries, entry{ks: ksError, ev: ev, body: bufRange{body, r.mark()}, value: value})
		}
		r.prepareAggregate(e)
		r.prepareQueryShape(e)
		r.prepareDependency(e)
		r.prepareFailover(e)
	}
	r.linkTraces()
	r.sealChunks()
}

// linkTraces gives each trace-index entry the rest of its trace's events in the batch, as the uvarint
// gaps between their positions (which are the gaps between their sequence numbers: a batch's events
// get consecutive ones). The key ends with the first event's sequence number: a trace costs the index
// one key per batch instead of one per event, which is most of what compactions would rewrite.
func (r *pendingWrite) linkTraces() {
	for i := range r.entries {
		en := &r.entries[i]
		if en.ks != ksTrace || r.next[en.ev] < 0 {
			continue
		}
		val := r.mark()
		for prev, ev := en.ev, r.next[en.ev]; ev >= 0; prev, ev = ev, r.next[ev] {
			r.buf = binary.AppendUvarint(r.buf, uint64(ev-prev))
		}
		en.value = bufRange{val, r.mark()}
	}
}
