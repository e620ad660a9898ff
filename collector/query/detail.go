package query

import (
	"context"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// detail is what the answers about one of a service's query shapes (/query) or dependencies
// (/dependency) read: the item's figures, a series of one point per interval and its slowest calls,
// and the service's time in all its items over the range, of which the item's share is reckoned (as
// the listing, /queries or /dependencies, says it).
type detail struct {
	service, name string
	from, to      time.Time
	interval      time.Duration
	stats         collector.QueryShapeStats
	points        []collector.QueryShapePoint
	slowest       []collector.QueryShapeExample
	total         time.Duration // at least the item's own time
}

// readDetail reads the item the parameter key names, of the service the parameter service names, with
// one, and the service's listing with all; an item without calls in the range is not found, with the
// message notFound gives.
func readDetail(ctx context.Context, p *params, key string,
	one func(ctx context.Context, service, name string, from, to time.Time, interval time.Duration) (
		collector.QueryShapeStats, []collector.QueryShapePoint, []collector.QueryShapeExample, error),
	all func(ctx context.Context, service string, from, to time.Time) ([]collector.QueryShapeRow, time.Time, time.Time, error),
	notFound func(service, name string) string,
) (detail, error) {
	d := detail{service: p.required("service"), name: p.required(key)}
	d.from, d.to = p.timeRange()
	d.interval = p.interval(d.from, d.to)
	if err := p.done(); err != nil {
		return d, err
	}
	var err error
	d.stats, d.points, d.slowest, err = one(ctx, d.service, d.name, d.from, d.to, d.interval)
	if err != nil {
		return d, err
	}
	if d.stats.Count == 0 {
		return d, errNotFound{notFound(d.service, d.name)}
	}
	rows, _, _, err := all(ctx, d.service, d.from, d.to)
	if err != nil {
		return d, err
	}
	d.total = max(dbTime(rows), d.stats.Sum)
	return d, nil
}

// detailJSON is the head of a detail's answer.
type detailJSON struct {
	rangeJSON
	Service         string `json:"service"`
	IntervalSeconds int64  `json:"interval_seconds"`
}

func (d *detail) head() detailJSON {
	return detailJSON{rangeJSON: rangeJSON{d.from, d.to}, Service: d.service, IntervalSeconds: int64(d.interval / time.Second)}
}
