package collector

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
	"github.com/hotpath-apm/hotpath/collector/sqlshape"
)

// ShapeOf returns the query shape of a span: the one its agent sent (the labels es_query_shape,
// es_query_summary and es_query_truncated, which hotpath's agent sets), else that of its db.statement,
// computed here (ShapeStatement), so that the spans of every Elastic agent have one. ok is false for
// other events and for statements that hold no search or no SQL.
func ShapeOf(e *Event) (id, summary string, truncated, ok bool) {
	return ShapeOfWith(e, ShapeStatement)
}

// ShapeStatement returns the shape of a database statement of type dbType: an Elasticsearch request
// body ("elasticsearch", where the request's URL path: queryshape.Request), or a SQL statement ("sql",
// where the span's subtype, which names the dialect: sqlshape.Statement). ok is false for other types.
func ShapeStatement(dbType, where, statement string) (queryshape.Shape, bool) {
	switch dbType {
	case "elasticsearch":
		return queryshape.Request(where, []byte(statement))
	case "sql":
		return sqlshape.Statement(where, statement)
	}
	return queryshape.Shape{}, false
}

// ShapeOfWith is ShapeOf with the function that shapes a statement (ShapeStatement, or one that
// remembers the shapes of recent statements: the store's, which sees the same statements again and
// again).
func ShapeOfWith(e *Event, shape func(dbType, where, statement string) (queryshape.Shape, bool)) (id, summary string, truncated, ok bool) {
	if e.Kind != KindSpan || e.Span == nil {
		return "", "", false, false
	}
	for _, l := range e.Labels {
		switch l.Key {
		case "es_query_shape":
			id = l.Value
		case "es_query_summary":
			summary = l.Value
		case "es_query_truncated":
			truncated = l.Bool || l.Value == "true"
		}
	}
	if id != "" {
		return id, summary, truncated, true
	}
	db := e.Span.DB
	if db == nil || db.Statement == "" {
		return "", "", false, false
	}
	var where string
	switch db.Type {
	case "elasticsearch":
		where = e.URL.Path
	case "sql":
		where = e.Span.Subtype
	default:
		return "", "", false, false
	}
	s, ok := shape(db.Type, where, db.Statement)
	if !ok {
		return "", "", false, false
	}
	return s.ID, s.Summary, s.Truncated, true
}

// QueryShapeCounts is what the store counts of one query shape of a service over a range: the
// database spans whose statement has that shape (package agent/queryshape for Elasticsearch).
type QueryShapeCounts struct {
	// Shape is the shape's id; Summary the shape for people; DBType span.db.type ("elasticsearch").
	Shape, Summary, DBType string
	// Truncated reports that the statements were cut (the shape is that of what was there).
	Truncated bool
	// Count is the number of spans, Errors those whose outcome is failure.
	Count, Errors int64
	// Sum is the sum of their durations, at microsecond precision.
	Sum time.Duration
	// TookCount is the number of spans that reported Elasticsearch's took (label es_took_ms).
	TookCount int64
}

// QueryShapeStats is a query shape's counts over a range, with histograms of the spans' duration and
// of Elasticsearch's own took.
type QueryShapeStats struct {
	QueryShapeCounts
	// Duration is the histogram of the spans' durations in microseconds (1 µs to 1 h, 2 significant
	// digits).
	Duration *hdrhistogram.PackedHistogram
	// Took is the histogram of the took the spans reported, in microseconds; nil when none did.
	Took *hdrhistogram.PackedHistogram
}

// Row returns s as a listing has it: its counts, and its histograms' percentiles.
func (s *QueryShapeStats) Row() QueryShapeRow {
	r := QueryShapeRow{QueryShapeCounts: s.QueryShapeCounts, Duration: PercentilesOf(s.Duration)}
	if s.Took != nil && s.TookCount > 0 {
		r.Took = PercentilesOf(s.Took)
	}
	return r
}

// QueryShapeRow is a query shape in a listing of a service's shapes: its counts, and the percentiles of
// its histograms instead of the histograms (a day's listing of 1,000 shapes would build 2,000 of them
// for three values each).
type QueryShapeRow struct {
	QueryShapeCounts
	// Duration is the percentiles of the spans' durations in microseconds, read from their histogram
	// (QueryShapeStats.Duration).
	Duration Percentiles
	// Took is the percentiles of the took the spans reported, in microseconds; zero when TookCount is 0.
	Took Percentiles
}

// Percentiles are the 50th, 95th and 99th percentiles of a histogram, in its unit.
type Percentiles struct{ P50, P95, P99 int64 }

// PercentileReader is an HDR histogram, dense (*hdrhistogram.Histogram) or packed.
type PercentileReader interface {
	TotalCount() int64
	ValueAtPercentilesSlice(percentiles []float64) []int64
}

// PercentilesOf returns h's percentiles, in one pass over its buckets; zero for an empty histogram.
func PercentilesOf(h PercentileReader) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	v := h.ValueAtPercentilesSlice([]float64{50, 95, 99})
	return Percentiles{P50: v[0], P95: v[1], P99: v[2]}
}

// QueryShapePoint is one interval of a shape's series.
type QueryShapePoint struct {
	Start time.Time
	QueryShapeStats
}

// QueryShapeExample is one of the slowest calls of a shape in an hour.
type QueryShapeExample struct {
	TraceID, TransactionID, SpanID string
	Timestamp                      time.Time
	Duration                       time.Duration
	Statement                      string
}
