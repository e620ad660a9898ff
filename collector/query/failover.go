package query

import (
	"context"
	"net/http"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// FailoverReader reads the failover aggregates; a Store that implements it serves /api/v1/failover
// (the pebble store does), otherwise that path answers 404.
type FailoverReader interface {
	// Failover returns what service's circuit breakers did in [from, to).
	Failover(ctx context.Context, service string, from, to time.Time) (collector.Failover, error)
}

type failoverJSON struct {
	rangeJSON
	Service  string               `json:"service"`
	Breakers []breakerJSON        `json:"breakers"`
	ServedBy []servedMinuteJSON   `json:"served_by"`
	Decision []decisionMinuteJSON `json:"decisions"`
}

type breakerJSON struct {
	Name          string         `json:"name"`
	OpenIntervals []intervalJSON `json:"open_intervals"`
	Changes       int            `json:"changes"`
}

type intervalJSON struct {
	From time.Time  `json:"from"`
	To   *time.Time `json:"to"` // null while still open
}

type servedMinuteJSON struct {
	Minute         time.Time `json:"minute"`
	Elasticsearch  int64     `json:"elasticsearch"`
	EmergencyCache int64     `json:"emergency_cache"`
	Rejected       int64     `json:"rejected"`
}

type decisionMinuteJSON struct {
	Minute   time.Time `json:"minute"`
	Allowed  int64     `json:"allowed"`
	Rejected int64     `json:"rejected"`
	Probe    int64     `json:"probe"`
}

// failover answers GET /api/v1/failover?service=&from=&to=.
func (a *API) failover(ctx context.Context, _ *http.Request, p *params) (any, error) {
	service := p.required("service")
	from, to := p.timeRange()
	if err := p.done(); err != nil {
		return nil, err
	}
	fr, ok := a.cfg.Store.(FailoverReader)
	if !ok {
		return nil, errNotFound{msg: "this store keeps no failover aggregates"}
	}
	f, err := fr.Failover(ctx, service, from, to)
	if err != nil {
		return nil, err
	}
	out := failoverJSON{rangeJSON: rangeJSON{from, to}, Service: service, Breakers: []breakerJSON{},
		ServedBy: []servedMinuteJSON{}, Decision: []decisionMinuteJSON{}}
	for _, b := range f.Breakers {
		bj := breakerJSON{Name: b.Name, Changes: b.Changes, OpenIntervals: []intervalJSON{}}
		for _, iv := range b.Open {
			ij := intervalJSON{From: iv.From}
			if !iv.To.IsZero() {
				ij.To = &iv.To
			}
			bj.OpenIntervals = append(bj.OpenIntervals, ij)
		}
		out.Breakers = append(out.Breakers, bj)
	}
	for _, m := range f.Minutes {
		out.ServedBy = append(out.ServedBy, servedMinuteJSON{Minute: m.Minute, Elasticsearch: m.Elasticsearch,
			EmergencyCache: m.EmergencyCache, Rejected: m.Rejected})
		out.Decision = append(out.Decision, decisionMinuteJSON{Minute: m.Minute, Allowed: m.Allowed,
			Rejected: m.Refused, Probe: m.Probes})
	}
	return out, nil
}
