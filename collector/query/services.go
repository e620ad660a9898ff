package query

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// rangeJSON is the time range an answer covers, as asked (the aggregates widen it to whole minutes).
type rangeJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

type serviceJSON struct {
	Name string `json:"name"`
	stats
}

type servicesJSON struct {
	rangeJSON
	Services []serviceJSON `json:"services"`
}

// services answers GET /api/v1/services: every service with events in the range, with the figures of
// all its transactions.
func (a *API) services(ctx context.Context, _ *http.Request, p *params) (any, error) {
	from, to := p.timeRange()
	if err := p.done(); err != nil {
		return nil, err
	}
	names, err := a.cfg.Store.Services(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := servicesJSON{rangeJSON: rangeJSON{from, to}, Services: make([]serviceJSON, 0, len(names))}
	minutes := rangeMinutes(from, to)
	for _, name := range names {
		res, err := a.cfg.Store.TransactionAggregate(ctx, collector.AggregateQuery{Service: name, From: from, To: to})
		if err != nil {
			return nil, err
		}
		out.Services = append(out.Services, serviceJSON{Name: name, stats: statsOf(res.Total, minutes)})
	}
	return out, nil
}

type endpointJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
	stats
}

type endpointsJSON struct {
	rangeJSON
	Service   string         `json:"service"`
	Endpoints []endpointJSON `json:"endpoints"`
}

// endpoints answers GET /api/v1/endpoints?service=: the transaction names of a service with
// transactions in the range and their figures, the slowest p99 first.
func (a *API) endpoints(ctx context.Context, _ *http.Request, p *params) (any, error) {
	service := p.required("service")
	from, to := p.timeRange()
	sort := p.oneOf("sort", "p99", "p99", "throughput", "error_rate", "name")
	if err := p.done(); err != nil {
		return nil, err
	}
	aggs, err := a.cfg.Store.EndpointAggregates(ctx, service, from, to)
	if err != nil {
		return nil, err
	}
	minutes := rangeMinutes(from, to)
	out := endpointsJSON{rangeJSON: rangeJSON{from, to}, Service: service, Endpoints: make([]endpointJSON, 0, len(aggs))}
	for name, agg := range aggs {
		out.Endpoints = append(out.Endpoints, endpointJSON{Name: name, Type: agg.Type, stats: statsOf(agg, minutes)})
	}
	slices.SortFunc(out.Endpoints, func(x, y endpointJSON) int {
		var c int
		switch sort {
		case "p99":
			c = cmp.Compare(p99(y.stats), p99(x.stats))
		case "throughput":
			c = cmp.Compare(y.ThroughputPerMinute, x.ThroughputPerMinute)
		case "error_rate":
			c = cmp.Compare(rate(y.stats), rate(x.stats))
		}
		return cmp.Or(c, cmp.Compare(x.Name, y.Name))
	})
	return out, nil
}

func p99(s stats) int64 {
	if s.Latency == nil {
		return -1
	}
	return s.Latency.P99
}

func rate(s stats) float64 {
	if s.ErrorRate == nil {
		return -1
	}
	return *s.ErrorRate
}
