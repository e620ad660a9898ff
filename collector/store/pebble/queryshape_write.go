package pebble

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// shapeInput is what prepare records of a database span for the query shapes, or of an exit span for
// the dependencies (the same aggregates under other levels: family).
type shapeInput struct {
	family                           aggFamily
	svc, shape, summary, dbType      bufRange
	statement, traceID, txID, spanID bufRange
	truncated, failed                bool
	minute                           int64
	unixNanos                        int64
	micros                           int64 // the span's duration (a composite span's: the average)
	count                            int64 // 1, or a composite span's count
	tookMicros                       int64 // -1: not reported
}

// prepareQueryShape records a database span's shape (collector.ShapeOf).
func (r *pendingWrite) prepareQueryShape(e *collector.Event) {
	if e.Kind != collector.KindSpan || e.Span == nil || e.Service.Name == "" || e.Timestamp.IsZero() {
		return
	}
	id, summary, truncated, ok := collector.ShapeOfWith(e, r.shapeOf)
	if !ok {
		return
	}
	db := e.Span.DB
	dbType := "elasticsearch" // a shape the agent sent is of an Elasticsearch request
	if db != nil && db.Type != "" {
		dbType = db.Type
	}
	in := newShapeInput(e, familyQueryShape)
	in.truncated = truncated
	for _, l := range e.NumericLabels {
		if l.Key == "es_took_ms" && l.Value >= 0 && !math.IsInf(l.Value, 0) {
			in.tookMicros = int64(min(l.Value, float64(HistogramHighest/1000)) * 1000)
		}
	}
	in.shape = r.appendToBuf(id)
	in.summary = r.appendToBuf(summary)
	in.dbType = r.appendToBuf(dbType)
	if db != nil {
		stmt := db.Statement
		if len(stmt) > maxExampleStatement {
			stmt = strings.ToValidUTF8(stmt[:maxExampleStatement], "")
		}
		in.statement = r.appendToBuf(stmt)
	}
	r.appendShapeInput(e, in)
}

// newShapeInput is span e's call, for family f: its time, outcome and duration (a composite span's
// count, each at their average duration).
func newShapeInput(e *collector.Event, f aggFamily) shapeInput {
	in := shapeInput{family: f, failed: e.Event.Outcome == "failure", minute: unixMinute(e.Timestamp),
		unixNanos: e.Timestamp.UnixNano(), micros: max(int64(e.Event.Duration/time.Microsecond), 0), count: 1, tookMicros: -1}
	if c := e.Span.Composite; c != nil && c.Count > 1 {
		in.count = int64(c.Count)
		in.micros = max(int64(c.SumMillis*1000)/in.count, 0)
	}
	return in
}

// appendShapeInput records in with e's service and ids.
func (r *pendingWrite) appendShapeInput(e *collector.Event, in shapeInput) {
	in.svc = r.appendToBuf(e.Service.Name)
	in.traceID = r.appendToBuf(e.TraceID)
	if e.Transaction != nil {
		in.txID = r.appendToBuf(e.Transaction.ID)
	}
	in.spanID = r.appendToBuf(e.Span.ID)
	r.shapes = append(r.shapes, in)
}

// prepareDependency records an exit span's call to its dependency (collector.DependencyOf).
func (r *pendingWrite) prepareDependency(e *collector.Event) {
	if e.Kind != collector.KindSpan || e.Span == nil || e.Service.Name == "" || e.Timestamp.IsZero() {
		return
	}
	id, typ, name, ok := collector.DependencyOf(e)
	if !ok {
		return
	}
	in := newShapeInput(e, familyDependency)
	in.shape = r.appendToBuf(id)
	in.summary = r.appendToBuf(name)
	in.dbType = r.appendToBuf(typ)
	name = e.Span.Name
	if len(name) > maxExampleStatement {
		name = strings.ToValidUTF8(name[:maxExampleStatement], "")
	}
	in.statement = r.appendToBuf(name)
	r.appendShapeInput(e, in)
}

// shapeDelta is what a commit adds to one shape key.
type shapeDelta struct {
	key    []byte
	counts shapeCounts // without the names
	micros []int64     // (duration in µs, count) pairs
	took   []int64     // (took in µs, count) pairs
	// The first input with a summary (else the first input): the key's names, copied out of its
	// pending write only if the key's value has none.
	named   *pendingWrite
	namedIn *shapeInput
}

// shapeCandidate is an input that may become an example: kept as a reference until the slowest of its
// key are known, so that only those are copied out of their pending write.
type shapeCandidate struct {
	r  *pendingWrite
	in *shapeInput
}

// shapeExampleKey is an examples key's slowest inputs of a commit, slowest (then oldest) first.
type shapeExampleKey struct {
	key []byte
	top [shapeExamples]shapeCandidate
	n   int
}

// offer keeps c if it is among the slowest: after those as slow (equally slow: as old), as a stable
// sort of all the key's inputs in the order offered would put it.
func (x *shapeExampleKey) offer(c shapeCandidate) {
	at := slowerAt(x.n, c.in.micros, c.in.unixNanos, func(i int) (int64, int64) { return x.top[i].in.micros, x.top[i].in.unixNanos })
	if at >= shapeExamples {
		return
	}
	x.n = min(x.n+1, shapeExamples)
	copy(x.top[at+1:x.n], x.top[at:x.n-1])
	x.top[at] = c
}

// exampleRef is an example of a merge (shapeExampleKey.merge): i < shapeExamples is the commit's
// candidate top[i], else the kept example kept[i-shapeExamples].
type exampleRef struct {
	micros, nanos int64
	i             int
}

// merge returns, in refs, the slowest examples of the commit's and the kept ones together, as a
// stable sort of the commit's followed by the kept ones would order them (decodeShapeExamples' order),
// without copying any of them.
func (x *shapeExampleKey) merge(kept []shapeExample, refs []exampleRef) []exampleRef {
	for i, c := range x.top[:x.n] {
		refs = append(refs, exampleRef{c.in.micros, c.in.unixNanos, i})
	}
	for j, k := range kept {
		at := slowerAt(len(refs), k.micros, k.unixNanos, func(i int) (int64, int64) { return refs[i].micros, refs[i].nanos })
		if at >= shapeExamples {
			continue
		}
		refs = insertBounded(refs, at, exampleRef{k.micros, k.unixNanos, shapeExamples + j}, shapeExamples)
	}
	return refs
}

// shapeWriter is the writer goroutine's state for the query shapes, reused from commit to commit.
type shapeWriter struct {
	index    map[string]int // key -> index in deltas or examples (the key's level tells which)
	deltas   []shapeDelta
	examples []shapeExampleKey
	esvc     []byte // an input's escaped service and shape
	eshape   []byte
	xs       []shapeExample
	refs     []exampleRef
	recent   [shapeRecent]shapeSlot // where the latest inputs' deltas are, tried before building keys
	nrecent  int                    // slots taken, counted: the next one replaces the oldest
}

// shapeRecent is how many (service, shape, family, minute) the writer remembers the deltas of within a
// commit: a commit's spans have a few shapes and dependencies, repeated in every trace.
const shapeRecent = 16

// shapeSlot remembers the deltas of one service, shape or dependency, family and minute in the commit.
type shapeSlot struct {
	svc, shape []byte // views of a pending write's buffer, for the commit
	family     aggFamily
	minute     int64
	deltas     [2]int // in shapeWriter.deltas: the minute's, the hour's
	examples   int    // in shapeWriter.examples
}

// slot returns the slot of svc, shape, family and minute, or nil.
func (w *shapeWriter) slot(svc, shape []byte, f aggFamily, minute int64) *shapeSlot {
	for i := range min(w.nrecent, shapeRecent) {
		sl := &w.recent[i]
		if sl.minute == minute && sl.family == f && bytes.Equal(sl.shape, shape) && bytes.Equal(sl.svc, svc) {
			return sl
		}
	}
	return nil
}

// remember takes a slot for svc, shape, family and minute, replacing the oldest when all are taken.
func (w *shapeWriter) remember(svc, shape []byte, f aggFamily, minute int64) *shapeSlot {
	sl := &w.recent[w.nrecent%shapeRecent]
	w.nrecent++
	*sl = shapeSlot{svc: svc, shape: shape, family: f, minute: minute}
	return sl
}

func (d *shapeDelta) reuse(key []byte) {
	d.counts, d.micros, d.took, d.named, d.namedIn = shapeCounts{}, d.micros[:0], d.took[:0], nil, nil
	d.key = append(d.key[:0], key...)
}

func (x *shapeExampleKey) reuse(key []byte) { x.key, x.n = append(x.key[:0], key...), 0 }

// commitQueryShapes adds the shape and dependency aggregates and examples of reqs' spans to batch, in
// partition p: add, write, as commitAggregates does. It copies a string out of a pending write only to
// name a key that has no name yet and for the examples kept.
func (s *Store) commitQueryShapes(batch *pebbledb.Batch, p uint32, reqs []*pendingWrite) error {
	w := &s.shapeW
	if w.index == nil {
		w.index = map[string]int{}
	}
	clear(w.index)
	w.deltas, w.examples = w.deltas[:0], w.examples[:0]
	w.nrecent = 0
	defer func() { // the candidates and slots refer to pending writes, which go back to their pool
		w.recent = [shapeRecent]shapeSlot{}
		for i := range w.examples {
			w.examples[i].top = [shapeExamples]shapeCandidate{}
		}
		for i := range w.deltas {
			w.deltas[i].named, w.deltas[i].namedIn = nil, nil
		}
	}()
	for _, r := range reqs {
		for i := range r.shapes {
			in := &r.shapes[i]
			svc, shape := r.bytes(in.svc), r.bytes(in.shape)
			sl := w.slot(svc, shape, in.family, in.minute)
			if sl == nil {
				sl = w.remember(svc, shape, in.family, in.minute)
				w.esvc = appendEscaped(w.esvc[:0], svc)
				w.eshape = appendEscaped(w.eshape[:0], shape)
				minute, hour, exLevel := in.family.levels()
				sl.deltas[0] = deltaAt(w.index, &w.deltas, s.agg.aggKey(p, w.esvc, minute, w.eshape, in.minute))
				sl.deltas[1] = deltaAt(w.index, &w.deltas, s.agg.aggKey(p, w.esvc, hour, w.eshape, hourMinute(in.minute)))
				sl.examples = deltaAt(w.index, &w.examples, s.agg.aggKey(p, w.esvc, exLevel, w.eshape, hourMinute(in.minute)))
			}
			for _, at := range sl.deltas {
				d := &w.deltas[at]
				if d.named == nil || d.namedIn.summary.end == d.namedIn.summary.off && in.summary.end > in.summary.off {
					d.named, d.namedIn = r, in
				}
				d.counts.count += in.count
				d.counts.sumMicros += in.micros * in.count
				d.counts.truncated = d.counts.truncated || in.truncated
				if in.failed {
					d.counts.errors += in.count
				}
				d.micros = append(d.micros, in.micros, in.count)
				if in.tookMicros >= 0 {
					d.counts.tookCount += in.count
					d.took = append(d.took, in.tookMicros, in.count)
				}
			}
			w.examples[sl.examples].offer(shapeCandidate{r, in})
		}
	}
	val := s.agg.val[:0]
	for i := range w.deltas {
		d := &w.deltas[i]
		v, err := cachedAgg(s, d.key, newShapeValue, (*shapeValue).decode)
		if err != nil {
			return err
		}
		if v.c.summary == "" && d.named != nil {
			v.c.dbType, v.c.summary = string(d.named.bytes(d.namedIn.dbType)), string(d.named.bytes(d.namedIn.summary))
		}
		v.c.add(&d.counts)
		for i := 0; i < len(d.micros); i += 2 {
			_ = v.dur.RecordValues(clampMicros(d.micros[i]), d.micros[i+1])
		}
		for i := 0; i < len(d.took); i += 2 {
			_ = v.took.RecordValues(clampMicros(d.took[i]), d.took[i+1])
		}
		val = appendShapeAgg(val[:0], &v.c, v.dur, v.took)
		s.setAgg(batch, d.key, val)
	}
	for i := range w.examples {
		x := &w.examples[i]
		kept, err := cachedAgg(s, x.key, newExamples, decodeExamplesInto)
		if err != nil {
			return err
		}
		refs := x.merge(*kept, w.refs[:0])
		w.refs = refs
		if !slices.ContainsFunc(refs, func(rf exampleRef) bool { return rf.i < shapeExamples }) {
			continue // none of the commit's calls is among the slowest: the value stays as it is
		}
		xs := w.xs[:0]
		for _, rf := range refs {
			if rf.i >= shapeExamples {
				xs = append(xs, (*kept)[rf.i-shapeExamples])
				continue
			}
			r, in := x.top[rf.i].r, x.top[rf.i].in
			xs = append(xs, shapeExample{micros: in.micros, unixNanos: in.unixNanos, traceID: string(r.bytes(in.traceID)),
				txID: string(r.bytes(in.txID)), spanID: string(r.bytes(in.spanID)), statement: string(r.bytes(in.statement))})
		}
		*kept = append((*kept)[:0], xs...)
		val = appendShapeExamples(val[:0], xs)
		s.setAgg(batch, x.key, val)
		w.xs = xs
	}
	s.agg.val = val
	return nil
}

func newExamples() *[]shapeExample { return new([]shapeExample) }

func decodeExamplesInto(xs *[]shapeExample, v []byte) error {
	return decodeShapeExamples(v, xs, shapeExamples)
}
