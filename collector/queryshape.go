package collector

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// QueryShapeStats is what the store keeps of one query shape of a service over a range: the database
// spans whose statement has that shape (package agent/queryshape for Elasticsearch), counted, with
// histograms of their duration and of Elasticsearch's own took.
type QueryShapeStats struct {
	// Shape is the shape's id; Summary the shape for people; DBType span.db.type ("elasticsearch").
	Shape, Summary, DBType string
	// Truncated reports that the statements were cut (the shape is that of what was there).
	Truncated bool
	// Count is the number of spans, Errors those whose outcome is failure.
	Count, Errors int64
	// Sum is the sum of their durations, at microsecond precision.
	Sum time.Duration
	// Duration is the histogram of the spans' durations in microseconds (1 µs to 1 h, 2 significant
	// digits).
	Duration *hdrhistogram.PackedHistogram
	// TookCount is the number of spans that reported Elasticsearch's took (label es_took_ms), Took
	// their histogram in microseconds; nil when none did.
	TookCount int64
	Took      *hdrhistogram.PackedHistogram
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
