package decoder

import "github.com/hotpath-apm/hotpath/collector"

// slab hands out values of T from a block reused batch after batch: the Events of a batch point into
// it, and the BatchProcessor contract (no retention after ProcessBatch returns) lets the next batch
// overwrite them. Values are handed out one at a time (one) or as a contiguous region built element by
// element (begin, add..., end); a pointer from add is valid only until the next add on the same slab.
type slab[T any] struct {
	buf   []T
	start int // first element of the region being built
	gen   int // counts new blocks, so that rollback knows whether buf is still the block it marked
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
		s.gen++
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

// truncate drops everything handed out since the slab held n values of block generation gen (an
// event that turned out invalid). A block started since then holds only that event's values.
func (s *slab[T]) truncate(n, gen int) {
	if gen != s.gen {
		n = 0
	}
	if n <= len(s.buf) {
		s.buf = s.buf[:n]
	}
	s.start = len(s.buf)
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

// poolMark is the fill level (and block generation) of every slab when an event's decoding started.
type poolMark struct {
	n   [29]int
	gen [29]int
}

func (p *pool) mark() (m poolMark) {
	m.n[0], m.gen[0] = len(p.tx.buf), p.tx.gen
	m.n[1], m.gen[1] = len(p.span.buf), p.span.gen
	m.n[2], m.gen[2] = len(p.errs.buf), p.errs.gen
	m.n[3], m.gen[3] = len(p.ms.buf), p.ms.gen
	m.n[4], m.gen[4] = len(p.http.buf), p.http.gen
	m.n[5], m.gen[5] = len(p.log.buf), p.log.gen
	m.n[6], m.gen[6] = len(p.exc.buf), p.exc.gen
	m.n[7], m.gen[7] = len(p.errlog.buf), p.errlog.gen
	m.n[8], m.gen[8] = len(p.msg.buf), p.msg.gen
	m.n[9], m.gen[9] = len(p.db.buf), p.db.gen
	m.n[10], m.gen[10] = len(p.composite.buf), p.composite.gen
	m.n[11], m.gen[11] = len(p.destsvc.buf), p.destsvc.gen
	m.n[12], m.gen[12] = len(p.ux.buf), p.ux.gen
	m.n[13], m.gen[13] = len(p.longtask.buf), p.longtask.gen
	m.n[14], m.gen[14] = len(p.selfTime.buf), p.selfTime.gen
	m.n[15], m.gen[15] = len(p.histogram.buf), p.histogram.gen
	m.n[16], m.gen[16] = len(p.ls.strs.buf), p.ls.strs.gen
	m.n[17], m.gen[17] = len(p.ls.nums.buf), p.ls.nums.gen
	m.n[18], m.gen[18] = len(p.kv.buf), p.kv.gen
	m.n[19], m.gen[19] = len(p.headers.buf), p.headers.gen
	m.n[20], m.gen[20] = len(p.strs.buf), p.strs.gen
	m.n[21], m.gen[21] = len(p.frames.buf), p.frames.gen
	m.n[22], m.gen[22] = len(p.samples.buf), p.samples.gen
	m.n[23], m.gen[23] = len(p.floats.buf), p.floats.gen
	m.n[24], m.gen[24] = len(p.counts.buf), p.counts.gen
	m.n[25], m.gen[25] = len(p.links.buf), p.links.gen
	m.n[26], m.gen[26] = len(p.dropped.buf), p.dropped.gen
	m.n[27], m.gen[27] = len(p.marks.buf), p.marks.gen
	m.n[28], m.gen[28] = len(p.measures.buf), p.measures.gen
	return m
}

// rollback forgets everything handed out since m.
func (p *pool) rollback(m *poolMark) {
	p.tx.truncate(m.n[0], m.gen[0])
	p.span.truncate(m.n[1], m.gen[1])
	p.errs.truncate(m.n[2], m.gen[2])
	p.ms.truncate(m.n[3], m.gen[3])
	p.http.truncate(m.n[4], m.gen[4])
	p.log.truncate(m.n[5], m.gen[5])
	p.exc.truncate(m.n[6], m.gen[6])
	p.errlog.truncate(m.n[7], m.gen[7])
	p.msg.truncate(m.n[8], m.gen[8])
	p.db.truncate(m.n[9], m.gen[9])
	p.composite.truncate(m.n[10], m.gen[10])
	p.destsvc.truncate(m.n[11], m.gen[11])
	p.ux.truncate(m.n[12], m.gen[12])
	p.longtask.truncate(m.n[13], m.gen[13])
	p.selfTime.truncate(m.n[14], m.gen[14])
	p.histogram.truncate(m.n[15], m.gen[15])
	p.ls.strs.truncate(m.n[16], m.gen[16])
	p.ls.nums.truncate(m.n[17], m.gen[17])
	p.kv.truncate(m.n[18], m.gen[18])
	p.headers.truncate(m.n[19], m.gen[19])
	p.strs.truncate(m.n[20], m.gen[20])
	p.frames.truncate(m.n[21], m.gen[21])
	p.samples.truncate(m.n[22], m.gen[22])
	p.floats.truncate(m.n[23], m.gen[23])
	p.counts.truncate(m.n[24], m.gen[24])
	p.links.truncate(m.n[25], m.gen[25])
	p.dropped.truncate(m.n[26], m.gen[26])
	p.marks.truncate(m.n[27], m.gen[27])
	p.measures.truncate(m.n[28], m.gen[28])
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
