package decoder

import (
	"unsafe"

	"github.com/hotpath-apm/hotpath/collector"
)

// slab hands out values of T from a block reused batch after batch: the Events of a batch point into
// it, and the BatchProcessor contract (no retention after ProcessBatch returns) lets the next batch
// overwrite them. Values are handed out one at a time (one) or as a contiguous region built element by
// element (begin, add..., end); a pointer from add is valid only until the next add on the same slab.
type slab[T any] struct {
	buf   []T
	start int // first element of the region being built
}

func (s *slab[T]) begin() { s.start = len(s.buf) }

// add appends a zero T to the current region and returns it.
func (s *slab[T]) add() *T {
	if len(s.buf) == cap(s.buf) {
		// Never grow in place: earlier regions stay where events point to them. Only the region in
		// progress moves.
		n := len(s.buf) - s.start
		nb := make([]T, n, max(2*cap(s.buf), 16))
		copy(nb, s.buf[s.start:])
		s.buf, s.start = nb, 0
	}
	s.buf = s.buf[:len(s.buf)+1]
	p := &s.buf[len(s.buf)-1]
	var zero T
	*p = zero
	return p
}

// pop removes the last element of the region in progress.
func (s *slab[T]) pop() {
	if len(s.buf) > s.start {
		s.buf = s.buf[:len(s.buf)-1]
	}
}

// put sets the element of the region in progress keyed key (k indexes the region by keyOf) to v: in
// place of the one with that key, else added.
func (s *slab[T]) put(k *keyIndex, v T, key string, keyOf func(*T) string) {
	if i := find(k, s.region(), key, keyOf); i >= 0 {
		s.buf[s.start+i] = v
		return
	}
	*s.add() = v
}

// region returns the region in progress.
func (s *slab[T]) region() []T { return s.buf[s.start:len(s.buf):len(s.buf)] }

// end returns the finished region, nil if it is empty.
func (s *slab[T]) end() []T {
	if len(s.buf) == s.start {
		return nil
	}
	r := s.buf[s.start:len(s.buf):len(s.buf)]
	s.start = len(s.buf)
	return r
}

// one returns a single zeroed T.
func (s *slab[T]) one() *T {
	s.begin()
	p := s.add()
	s.start = len(s.buf)
	return p
}

func (s *slab[T]) reset() { s.buf, s.start = s.buf[:0], 0 }

// bytes is the memory the values handed out since the last reset take.
func (s *slab[T]) bytes() int {
	var zero T
	return len(s.buf) * int(unsafe.Sizeof(zero))
}

// pool is the storage of one batch's events besides the Event values themselves.
type pool struct {
	tx        slab[collector.Transaction]
	span      slab[collector.Span]
	errs      slab[collector.Error]
	ms        slab[collector.Metricset]
	http      slab[collector.HTTP]
	log       slab[collector.Log]
	exc       slab[collector.Exception]
	errlog    slab[collector.ErrorLog]
	msg       slab[collector.Message]
	db        slab[collector.DB]
	composite slab[collector.Composite]
	destsvc   slab[collector.DestinationService]
	ux        slab[collector.UserExperience]
	longtask  slab[collector.LongTask]
	selfTime  slab[collector.AggregatedDuration]
	histogram slab[collector.Histogram]

	ls       labelSet // the labels and numeric_labels of events
	kv       slab[collector.KeyValue]
	headers  slab[collector.Header]
	strs     slab[string]
	frames   slab[collector.StackFrame]
	samples  slab[collector.MetricSample]
	floats   slab[float64]
	counts   slab[uint64]
	links    slab[collector.SpanLink]
	dropped  slab[collector.DroppedSpanStats]
	marks    slab[collector.Mark]
	measures slab[collector.Measurement]
}

// size estimates the bytes the pool holds.
func (p *pool) size() int {
	return p.tx.bytes() +
		p.span.bytes() +
		p.errs.bytes() +
		p.ms.bytes() +
		p.http.bytes() +
		p.log.bytes() +
		p.exc.bytes() +
		p.errlog.bytes() +
		p.msg.bytes() +
		p.db.bytes() +
		p.composite.bytes() +
		p.destsvc.bytes() +
		p.ux.bytes() +
		p.longtask.bytes() +
		p.selfTime.bytes() +
		p.histogram.bytes() +
		p.ls.strs.bytes() +
		p.ls.nums.bytes() +
		p.kv.bytes() +
		p.headers.bytes() +
		p.strs.bytes() +
		p.frames.bytes() +
		p.samples.bytes() +
		p.floats.bytes() +
		p.counts.bytes() +
		p.links.bytes() +
		p.dropped.bytes() +
		p.marks.bytes() +
		p.measures.bytes()
}

func (p *pool) reset() {
	p.tx.reset()
	p.span.reset()
	p.errs.reset()
	p.ms.reset()
	p.http.reset()
	p.log.reset()
	p.exc.reset()
	p.errlog.reset()
	p.msg.reset()
	p.db.reset()
	p.composite.reset()
	p.destsvc.reset()
	p.ux.reset()
	p.longtask.reset()
	p.selfTime.reset()
	p.histogram.reset()
	p.ls.strs.reset()
	p.ls.nums.reset()
	p.kv.reset()
	p.headers.reset()
	p.strs.reset()
	p.frames.reset()
	p.samples.reset()
	p.floats.reset()
	p.counts.reset()
	p.links.reset()
	p.dropped.reset()
	p.marks.reset()
	p.measures.reset()
}
