package query

import (
	"context"
	"net/http"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// DependencyReader reads the dependencies' aggregates (store/pebble implements it).
type DependencyReader interface {
	// Dependencies returns the figures of each dependency a service called in [from, to), and the
	// range they cover (widened to whole minutes, or hours for long ranges).
	Dependencies(ctx context.Context, service string, from, to time.Time) ([]collector.DependencyRow, time.Time, time.Time, error)
	// Dependency returns one dependency's figures, a series of one point per interval and its slowest
	// calls.
	Dependency(ctx context.Context, service, target string, from, to time.Time, interval time.Duration) (
		collector.DependencyStats, []collector.DependencyPoint, []collector.DependencyExample, error)
}

// dependencyJSON is a dependency's figures over a range.
type dependencyJSON struct {
	Target         string          `json:"target"`
	Type           string          `json:"type"`
	Name           string          `json:"name"`
	Calls          int64           `json:"calls"`
	CallsPerMinute float64         `json:"calls_per_minute"`
	Errors         int64           `json:"errors"`
	ErrorRate      float64         `json:"error_rate"`
	TotalUs        int64           `json:"total_us"`
	MeanUs         int64           `json:"mean_us"`
	Share          float64         `json:"share"`
	DurationUs     percentilesJSON `json:"duration_us"`
}

type dependenciesJSON struct {
	listingJSON
	Dependencies []dependencyJSON `json:"dependencies"`
}

// dependencyOf turns a dependency's figures into JSON: calls per minute over [from, to), share of total.
func dependencyOf(st collector.DependencyRow, from, to time.Time, total time.Duration) dependencyJSON {
	out := dependencyJSON{Target: st.Shape, Type: st.DBType, Name: st.Summary, Calls: st.Count, Errors: st.Errors,
		TotalUs: int64(st.Sum / time.Microsecond), DurationUs: percentilesJSON(st.Duration)}
	if minutes := to.Sub(from).Minutes(); minutes > 0 {
		out.CallsPerMinute = float64(st.Count) / minutes
	}
	if st.Count > 0 {
		out.ErrorRate = float64(st.Errors) / float64(st.Count)
		out.MeanUs = out.TotalUs / st.Count
	}
	if total > 0 {
		out.Share = float64(st.Sum) / float64(total)
	}
	return out
}

// dependencies answers GET /api/v1/dependencies?service=&from=&to=&sort=: what the service called over
// the range, sorted by total time (total, the default), p99, calls or errors, largest first.
func (a *API) dependencies(ctx context.Context, _ *http.Request, p *params) (any, error) {
	l, err := readListing(ctx, p, a.cfg.Dependencies.Dependencies, "total", "p99", "calls", "errors")
	if err != nil {
		return nil, err
	}
	out := dependenciesJSON{listingJSON: l.head(), Dependencies: make([]dependencyJSON, 0, len(l.rows))}
	for _, st := range l.rows {
		out.Dependencies = append(out.Dependencies, dependencyOf(st, l.from, l.to, l.total))
	}
	return out, nil
}

type dependencyPointJSON struct {
	Start      time.Time       `json:"start"`
	Calls      int64           `json:"calls"`
	Errors     int64           `json:"errors"`
	TotalUs    int64           `json:"total_us"`
	DurationUs percentilesJSON `json:"duration_us"`
}

type dependencyCallJSON struct {
	TraceID       string    `json:"trace_id"`
	TransactionID string    `json:"transaction_id"`
	SpanID        string    `json:"span_id"`
	Timestamp     time.Time `json:"timestamp"`
	DurationUs    int64     `json:"duration_us"`
	Name          string    `json:"name"`
}

type dependencyDetailJSON struct {
	detailJSON
	dependencyJSON
	Series    []dependencyPointJSON `json:"series"`
	Histogram []bin                 `json:"histogram"`
	Slowest   []dependencyCallJSON  `json:"slowest"`
}

// dependency answers GET /api/v1/dependency?service=&target=&from=&to=&interval=: one dependency's
// figures, its series, a duration histogram and its slowest calls.
func (a *API) dependency(ctx context.Context, _ *http.Request, p *params) (any, error) {
	d, err := readDetail(ctx, p, "target", a.cfg.Dependencies.Dependency, a.cfg.Dependencies.Dependencies,
		func(service, target string) string {
			return "no calls from service " + service + " to " + target + " in the range"
		})
	if err != nil {
		return nil, err
	}
	st, points, xs := d.stats, d.points, d.slowest
	out := dependencyDetailJSON{detailJSON: d.head(), dependencyJSON: dependencyOf(st.Row(), d.from, d.to, d.total),
		Series: make([]dependencyPointJSON, 0, len(points)), Histogram: histogramBins(st.Duration),
		Slowest: make([]dependencyCallJSON, 0, len(xs))}
	for _, pt := range points {
		out.Series = append(out.Series, dependencyPointJSON{Start: pt.Start, Calls: pt.Count, Errors: pt.Errors,
			TotalUs: int64(pt.Sum / time.Microsecond), DurationUs: percentiles(pt.Duration)})
	}
	for _, x := range xs {
		out.Slowest = append(out.Slowest, dependencyCallJSON{TraceID: x.TraceID, TransactionID: x.TransactionID, SpanID: x.SpanID,
			Timestamp: x.Timestamp, DurationUs: int64(x.Duration / time.Microsecond), Name: x.Statement})
	}
	return out, nil
}
