package query

import (
	"context"
	"net/http"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

type pointJSON struct {
	Start time.Time `json:"start"`
	stats
}

type endpointStatsJSON struct {
	rangeJSON
	Service         string `json:"service"`
	Name            string `json:"name,omitempty"`
	Type            string `json:"type,omitempty"`
	IntervalSeconds int64  `json:"interval_seconds"`
	stats
	Series    []pointJSON `json:"series"`
	Histogram []bin       `json:"histogram"`
}

// endpointStats answers GET /api/v1/endpoint?service=&name=: one transaction name's figures (or the whole
// service's, without name) over the range, as a series and as a latency histogram.
func (a *API) endpointStats(ctx context.Context, _ *http.Request, p *params) (any, error) {
	service := p.required("service")
	name := p.str("name")
	from, to := p.timeRange()
	interval := p.interval(from, to)
	if err := p.done(); err != nil {
		return nil, err
	}
	res, err := a.cfg.Store.TransactionAggregate(ctx, collector.AggregateQuery{Service: service, Name: name, From: from, To: to, Interval: interval})
	if err != nil {
		return nil, err
	}
	out := endpointStatsJSON{
		rangeJSON: rangeJSON{from, to}, Service: service, Name: name, Type: res.Total.Type,
		IntervalSeconds: int64(interval / time.Second),
		stats:           statsOf(res.Total, rangeMinutes(from, to)),
		Series:          make([]pointJSON, 0, len(res.Series)),
		Histogram:       histogramBins(res.Total.Latency),
	}
	lo, hi := wholeMinutes(from, to)
	for _, pt := range res.Series {
		// Throughput over the part of the point inside the range.
		start, end := pt.Start, pt.Start.Add(interval)
		if start.Before(lo) {
			start = lo
		}
		if end.After(hi) {
			end = hi
		}
		out.Series = append(out.Series, pointJSON{Start: pt.Start, stats: statsOf(pt.Aggregate, end.Sub(start).Minutes())})
	}
	return out, nil
}

type spanTypeJSON struct {
	Type    string  `json:"type"`
	Subtype string  `json:"subtype"`
	Count   int64   `json:"count"`
	SumUS   int64   `json:"sum_us"`
	Share   float64 `json:"share"` // of the total self time, 0 to 1
}

type breakdownJSON struct {
	rangeJSON
	Service string         `json:"service"`
	Name    string         `json:"name,omitempty"`
	TotalUS int64          `json:"total_us"`
	Types   []spanTypeJSON `json:"types"`
}

// breakdown answers GET /api/v1/breakdown?service=&name=: where the time of a transaction name (or of
// the whole service) went, by span type and subtype.
func (a *API) breakdown(ctx context.Context, _ *http.Request, p *params) (any, error) {
	service := p.required("service")
	name := p.str("name")
	from, to := p.timeRange()
	if err := p.done(); err != nil {
		return nil, err
	}
	types, err := a.cfg.Store.Breakdown(ctx, service, name, from, to)
	if err != nil {
		return nil, err
	}
	out := breakdownJSON{rangeJSON: rangeJSON{from, to}, Service: service, Name: name}
	out.TotalUS, out.Types = spanTypesJSON(types)
	return out, nil
}

// spanTypesJSON returns the total self time of types and each one's JSON, with its share of it.
func spanTypesJSON(types []collector.SpanTypeTime) (totalUS int64, out []spanTypeJSON) {
	for _, t := range types {
		totalUS += int64(t.Sum / time.Microsecond)
	}
	out = make([]spanTypeJSON, 0, len(types))
	for _, t := range types {
		us := int64(t.Sum / time.Microsecond)
		share := 0.0
		if totalUS > 0 {
			share = round6(float64(us) / float64(totalUS))
		}
		out = append(out, spanTypeJSON{Type: t.Type, Subtype: t.Subtype, Count: t.Count, SumUS: us, Share: share})
	}
	return totalUS, out
}
