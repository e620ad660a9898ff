package pebble

import (
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
	counts shapeCounts
	micros []int64 // (duration in µs, count) pairs
	took   []int64 // (took in µs, count) pairs
}

// shapeCandidate is an input that may become an example: kept as a reference until the slowest of its
// key are known, so that only those are copied out of their pending write.
type shapeCandidate struct {
	r  *pendingWrite
	in *shapeInput
}

// slowerCandidate orders candidates as examples are kept (decodeShapeExamples): slowest, then oldest,
// first.
func slowerCandidate(a, b shapeCandidate) int {
	return slowerFirst(a.in.micros, a.in.unixNanos, b.in.micros, b.in.unixNanos)
}

// commitQueryShapes adds the shape and dependency aggregates and examples of reqs' spans to batch, in
// partition p: read, add, write, as commitAggregates does. It copies a string out of a pending write
// only for a key's first input and for the examples kept.
func (s *Store) commitQueryShapes(batch *pebbledb.Batch, p uint32, reqs []*pendingWrite) error {
	deltas := map[string]*shapeDelta{}
	var keys []string
	candidates := map[string]*[]shapeCandidate{}
	var exKeys []string
	var key, esvc, eshape []byte
	for _, r := range reqs {
		for i := range r.shapes {
			in := &r.shapes[i]
			esvc = appendEscaped(esvc[:0], r.bytes(in.svc))
			eshape = appendEscaped(eshape[:0], r.bytes(in.shape))
			minute, hour, exLevel := in.family.levels()
			for _, lv := range [...]struct {
				level  byte
				minute int64
			}{{minute, in.minute}, {hour, hourMinute(in.minute)}} {
				key = s.agg.aggKey(p, esvc, lv.level, eshape, lv.minute)
				d, ok := deltas[string(key)]
				if !ok {
					d = &shapeDelta{counts: shapeCounts{dbType: string(r.bytes(in.dbType)), summary: string(r.bytes(in.summary))}}
					k := string(key)
					deltas[k] = d
					keys = append(keys, k)
				} else if d.counts.summary == "" && in.summary.end > in.summary.off {
					d.counts.dbType, d.counts.summary = string(r.bytes(in.dbType)), string(r.bytes(in.summary))
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
			key = s.agg.aggKey(p, esvc, exLevel, eshape, hourMinute(in.minute))
			cs := candidates[string(key)]
			if cs == nil {
				cs = new([]shapeCandidate)
				k := string(key)
				candidates[k] = cs
				exKeys = append(exKeys, k)
			}
			*cs = append(*cs, shapeCandidate{r, in})
			if len(*cs) >= 4*shapeExamples { // keep the slowest, now and then
				slices.SortStableFunc(*cs, slowerCandidate)
				*cs = (*cs)[:shapeExamples]
			}
		}
	}
	val := s.agg.val[:0]
	for _, k := range keys {
		d := deltas[k]
		v, err := cachedAgg(s, []byte(k), newShapeValue, (*shapeValue).decode)
		if err != nil {
			return err
		}
		v.c.add(&d.counts)
		for i := 0; i < len(d.micros); i += 2 {
			_ = v.dur.RecordValues(clampMicros(d.micros[i]), d.micros[i+1])
		}
		for i := 0; i < len(d.took); i += 2 {
			_ = v.took.RecordValues(clampMicros(d.took[i]), d.took[i+1])
		}
		val = appendShapeAgg(val[:0], &v.c, v.dur, v.took)
		setAgg(batch, []byte(k), val)
	}
	var xs []shapeExample
	for _, k := range exKeys {
		cs := *candidates[k]
		slices.SortStableFunc(cs, slowerCandidate)
		xs = xs[:0]
		for _, c := range cs[:min(len(cs), shapeExamples)] {
			r, in := c.r, c.in
			xs = append(xs, shapeExample{micros: in.micros, unixNanos: in.unixNanos, traceID: string(r.bytes(in.traceID)),
				txID: string(r.bytes(in.txID)), spanID: string(r.bytes(in.spanID)), statement: string(r.bytes(in.statement))})
		}
		kept, err := cachedAgg(s, []byte(k), newExamples, decodeExamplesInto)
		if err != nil {
			return err
		}
		for _, x := range *kept {
			xs = insertExample(xs, x, shapeExamples)
		}
		*kept = append((*kept)[:0], xs...)
		val = appendShapeExamples(val[:0], xs)
		setAgg(batch, []byte(k), val)
	}
	s.agg.val = val
	return nil
}

func newExamples() *[]shapeExample { return new([]shapeExample) }

func decodeExamplesInto(xs *[]shapeExample, v []byte) error {
	return decodeShapeExamples(v, xs, shapeExamples)
}
