package query

import (
	"context"
	"net/http"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hotpath-apm/hotpath/collector"
)

// QueryShapeReader reads the query shapes' aggregates (store/pebble implements it).
type QueryShapeReader interface {
	// QueryShapes returns the figures of each query shape of a service in [from, to), and the range
	// they cover (widened to whole minutes, or hours for long ranges).
	QueryShapes(ctx context.Context, service string, from, to time.Time) ([]collector.QueryShapeRow, time.Time, time.Time, error)
	// QueryShape returns one shape's figures, a series of one point per interval and its slowest calls.
	QueryShape(ctx context.Context, service, shape string, from, to time.Time, interval time.Duration) (
		collector.QueryShapeStats, []collector.QueryShapePoint, []collector.QueryShapeExample, error)
	// QueryShapeExamples returns the slowest calls of a shape in the hours [from, to) touches.
	QueryShapeExamples(ctx context.Context, service, shape string, from, to time.Time) ([]collector.QueryShapeExample, error)
}

type percentilesJSON struct {
	P50 int64 `json:"p50"`
	P95 int64 `json:"p95,omitempty"`
	P99 int64 `json:"p99"`
}

type exampleJSON struct {
	TraceID       string    `json:"trace_id"`
	TransactionID string    `json:"transaction_id"`
	SpanID        string    `json:"span_id"`
	Timestamp     time.Time `json:"timestamp"`
	DurationUs    int64     `json:"duration_us"`
	Statement     string    `json:"statement"`
}

type shapeJSON struct {
	Shape      string           `json:"shape"`
	Summary    string           `json:"summary"`
	DBType     string           `json:"db_type"`
	Count      int64            `json:"count"`
	Errors     int64            `json:"errors"`
	TotalUs    int64            `json:"total_us"`
	Share      float64          `json:"share"`
	DurationUs percentilesJSON  `json:"duration_us"`
	TookUs     *percentilesJSON `json:"took_us"`
	OverheadUs *percentilesJSON `json:"overhead_us"`
	Truncated  bool             `json:"truncated"`
	Example    *exampleJSON     `json:"example,omitempty"`
}

type queriesJSON struct {
	listingJSON
	Queries []shapeJSON `json:"queries"`
}

func percentiles(h *hdrhistogram.PackedHistogram) percentilesJSON {
	if h == nil {
		return percentilesJSON{}
	}
	return percentilesJSON(collector.PercentilesOf(h))
}

// dbTime is the time a service spent in the calls of its shapes: what a shape's share is of.
func dbTime(stats []collector.QueryShapeRow) time.Duration {
	var total time.Duration
	for _, st := range stats {
		total += st.Sum
	}
	return total
}

// shapeOf turns a shape's figures into JSON; share is its part of total.
func shapeOf(st collector.QueryShapeRow, total time.Duration) shapeJSON {
	out := shapeJSON{Shape: st.Shape, Summary: st.Summary, DBType: st.DBType, Count: st.Count, Errors: st.Errors,
		TotalUs: int64(st.Sum / time.Microsecond), DurationUs: percentilesJSON(st.Duration), Truncated: st.Truncated}
	if total > 0 {
		out.Share = float64(st.Sum) / float64(total)
	}
	if st.TookCount > 0 {
		took := percentilesJSON(st.Took)
		out.TookUs = &took
		// Overhead: duration minus took, percentile by percentile (the network, the queue, the client);
		// read from the two histograms, so an estimate, never below zero.
		out.OverheadUs = &percentilesJSON{P50: max(out.DurationUs.P50-took.P50, 0), P99: max(out.DurationUs.P99-took.P99, 0)}
	}
	return out
}

// queries answers GET /api/v1/queries?service=&from=&to=&sort=: the service's query shapes over the
// range, sorted by total time (total, the default), p99 or count, largest first.
func (a *API) queries(ctx context.Context, _ *http.Request, p *params) (any, error) {
	l, err := readListing(ctx, p, a.cfg.Queries.QueryShapes, "total", "p99", "count")
	if err != nil {
		return nil, err
	}
	out := queriesJSON{listingJSON: l.head(), Queries: make([]shapeJSON, 0, len(l.rows))}
	for _, st := range l.rows {
		out.Queries = append(out.Queries, shapeOf(st, l.total))
	}
	// The slowest call of each of the first shapes listed, as its example.
	for i := range out.Queries[:min(len(out.Queries), 20)] {
		q := &out.Queries[i]
		if xs, err := a.cfg.Queries.QueryShapeExamples(ctx, l.service, q.Shape, l.from, l.to); err == nil && len(xs) > 0 {
			q.Example = exampleOf(xs[0])
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func exampleOf(x collector.QueryShapeExample) *exampleJSON {
	return &exampleJSON{TraceID: x.TraceID, TransactionID: x.TransactionID, SpanID: x.SpanID, Timestamp: x.Timestamp,
		DurationUs: int64(x.Duration / time.Microsecond), Statement: x.Statement}
}

type shapePointJSON struct {
	Start      time.Time        `json:"start"`
	Count      int64            `json:"count"`
	Errors     int64            `json:"errors"`
	TotalUs    int64            `json:"total_us"`
	DurationUs percentilesJSON  `json:"duration_us"`
	TookUs     *percentilesJSON `json:"took_us"`
}

type queryJSON struct {
	detailJSON
	shapeJSON
	Series    []shapePointJSON `json:"series"`
	Histogram []bin            `json:"histogram"`
	Examples  []exampleJSON    `json:"examples"`
}

// query answers GET /api/v1/query?service=&shape=&from=&to=: one shape's figures, a series (as
// /endpoint's), a duration histogram and its slowest calls.
func (a *API) query(ctx context.Context, _ *http.Request, p *params) (any, error) {
	d, err := readDetail(ctx, p, "shape", a.cfg.Queries.QueryShape, a.cfg.Queries.QueryShapes,
		func(service, shape string) string {
			return "no calls of query shape " + shape + " of service " + service + " in the range"
		})
	if err != nil {
		return nil, err
	}
	st, points, xs := d.stats, d.points, d.slowest
	out := queryJSON{detailJSON: d.head(), shapeJSON: shapeOf(st.Row(), d.total), Series: make([]shapePointJSON, 0, len(points)),
		Histogram: histogramBins(st.Duration), Examples: make([]exampleJSON, 0, len(xs))}
	for _, pt := range points {
		sp := shapePointJSON{Start: pt.Start, Count: pt.Count, Errors: pt.Errors, TotalUs: int64(pt.Sum / time.Microsecond),
			DurationUs: percentiles(pt.Duration)}
		if pt.Took != nil && pt.TookCount > 0 {
			took := percentiles(pt.Took)
			sp.TookUs = &took
		}
		out.Series = append(out.Series, sp)
	}
	for _, x := range xs {
		out.Examples = append(out.Examples, *exampleOf(x))
	}
	return out, nil
}
