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
	events  []bufRange      // one per event, in batch order: its body, without the shared fields if shared has them
	shared  []int32         // one per event: the encoding of its shared fields, an index into blocks (-1: in the body)
	blocks  []sharedBlock   // the distinct encodings of the events' shared fields (encEventShared)
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

	// While prepare runs: the trace-index entry of each trace id in the batch (but the current run of
	// events of one trace's), and for each event the next event of the same trace (-1 for none), so that
	// a trace's events share one index key.
	traces   map[string]traceRef
	next     []int32
	recent   []int32 // the blocks last used, the latest first (at most sharedRecent)
	unshared bool    // whether sharedOf gave up

	// While sealChunks runs: the blocks of the chunk being written, and each block's ref in it (its
	// index in used plus one; 0 when not in it).
	used  []int32
	local []int32
}

// sharedBlock is one encoding of the shared fields: the batch's event it was encoded from, and where.
type sharedBlock struct {
	ev  int32
	enc bufRange
}

// sharedRecent is how many distinct encodings of the shared fields prepare compares an event's with
// before it encodes the event's: the events of a stream differ in them by their service target (a few
// distinct dependencies of a transaction's spans).
const sharedRecent = 8

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
	return cap(r.buf) + cap(r.chunk) + cap(r.chunks)*12 + cap(r.raw) + cap(r.memoKey) + cap(r.events)*8 + cap(r.shared)*4 +
		cap(r.blocks)*12 + cap(r.used)*4 + cap(r.local)*4 + cap(r.entries)*24 + cap(r.aggs)*int(unsafe.Sizeof(aggInput{})) +
		cap(r.shapes)*int(unsafe.Sizeof(shapeInput{})) + cap(r.next)*4 + cap(r.keep) + cap(r.capSlots)*8
}

func (r *pendingWrite) reset() {
	r.buf = r.buf[:0]
	r.chunk, r.chunks = r.chunk[:0], r.chunks[:0]
	r.events, r.shared, r.blocks, r.recent, r.unshared = r.events[:0], r.shared[:0], r.blocks[:0], r.recent[:0], false
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
	var run traceRef // the trace entry of runID, which traces holds only once another trace follows
	runID := ""
	namedSvc := "" // the service of the last service name entry
	for i := range b {
		if i < len(r.keep) && !r.keep[i] {
			continue
		}
		e := &b[i]
		ev := int32(len(r.events))
		bi := r.sharedOf(b, i)
		start := r.mark()
		r.buf = append(r.buf, codecVersion)
		if bi < 0 {
			r.buf = encEventShared(r.buf, e)
		}
		r.buf = encEventOwn(r.buf, e)
		r.events = append(r.events, bufRange{start, r.mark()})
		r.shared = append(r.shared, bi)
		if t := int64(timeKey(e.Timestamp) ^ 1<<63); !e.Timestamp.IsZero() {
			r.minTS, r.maxTS = min(r.minTS, t), max(r.maxTS, t)
		}

		r.next = append(r.next, -1)
		switch {
		case e.TraceID == "":
		case e.TraceID == runID: // the trace of the event before: a transaction's spans follow it
			r.next[run.last] = ev
			run.last = ev
		default:
			if runID != "" {
				r.traces[runID] = run
			}
			if ref, ok := r.traces[e.TraceID]; ok {
				r.next[ref.last] = ev
				run = traceRef{ref.entry, ev}
			} else {
				run = traceRef{int32(len(r.entries)), ev}
				body := r.mark()
				r.buf = appendTraceID(r.buf, e.TraceID)
				r.entries = append(r.entries, entry{ks: ksTrace, ev: ev, body: bufRange{body, r.mark()}})
			}
			runID = e.TraceID
		}
		svc := e.Service.Name
		if svc != "" && svc != namedSvc { // the events of a stream share their service
			namedSvc = svc
			body := r.mark()
			r.buf = appendEscaped(r.buf, svc)
			r.buf = appendEscaped(r.buf, "")
			r.buf = appendEscaped(r.buf, "")
			r.entries = append(r.entries, entry{ks: ksNames, body: bufRange{body, r.mark()}})
		}
		switch {
		case e.Kind == collector.KindTransaction && e.Transaction != nil:
			ts = txSummaryOf(e, ts.Labels) // the labels of the batch's transactions in one array
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

// sharedOf returns the block of b[i]'s shared fields: one of the recent blocks, or a new one; or -1 once
// a quarter of the batch's events so far had a new one (the events do not share those fields in memory:
// each then holds its own encoding of them, and prepare stops comparing).
func (r *pendingWrite) sharedOf(b collector.Batch, i int) int32 {
	if r.unshared {
		return -1
	}
	e := &b[i]
	for k, bi := range r.recent {
		if eqEventShared(&b[r.blocks[bi].ev], e) {
			copy(r.recent[1:k+1], r.recent[:k])
			r.recent[0] = bi
			return bi
		}
	}
	if len(r.blocks) >= sharedRecent && len(r.blocks)*4 > len(r.events) {
		r.unshared = true
		return -1
	}
	off := r.mark()
	r.buf = encEventShared(r.buf, e)
	bi := int32(len(r.blocks))
	r.blocks = append(r.blocks, sharedBlock{ev: int32(i), enc: bufRange{off, r.mark()}})
	if len(r.recent) < sharedRecent {
		r.recent = append(r.recent, 0)
	}
	copy(r.recent[1:], r.recent)
	r.recent[0] = bi
	return bi
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
