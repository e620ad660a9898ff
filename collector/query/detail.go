package query

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// listing is what the answers listing a service's query shapes (/queries) or dependencies
// (/dependencies) read: every item's figures over the range, in the order the parameter sort names, and
// the service's time in all of them, of which each item's share is reckoned.
type listing struct {
	service, sort string
	from, to      time.Time // the range the rows cover: widened to whole minutes, or hours
	rows          []collector.QueryShapeRow
	total         time.Duration
}

// readRows reads a service's items over a range, and the range they cover (QueryShapeReader.QueryShapes,
// DependencyReader.Dependencies).
type readRows func(ctx context.Context, service string, from, to time.Time) ([]collector.QueryShapeRow, time.Time, time.Time, error)

// readListing reads the items of the service the parameter service names with all, sorted by the figure
// the parameter sort names (one of sorts, the first by default; rowKey), largest first, then by name.
func readListing(ctx context.Context, p *params, all readRows, sorts ...string) (listing, error) {
	l := listing{service: p.required("service")}
	l.from, l.to = p.timeRange()
	l.sort = p.oneOf("sort", sorts[0], sorts...)
	if err := p.done(); err != nil {
		return l, err
	}
	var err error
	if l.rows, l.from, l.to, err = all(ctx, l.service, l.from, l.to); err != nil {
		return l, err
	}
	l.total = dbTime(l.rows)
	slices.SortFunc(l.rows, func(x, y collector.QueryShapeRow) int {
		return cmp.Or(cmp.Compare(rowKey(l.sort, &y), rowKey(l.sort, &x)), cmp.Compare(x.Shape, y.Shape))
	})
	return l, nil
}

// rowKey is the figure of r that a listing sorted by sort orders its items by.
func rowKey(sort string, r *collector.QueryShapeRow) int64 {
	switch sort {
	case "p99":
		return r.Duration.P99
	case "count", "calls": // /queries's and /dependencies's name for it
		return r.Count
	case "errors":
		return r.Errors
	}
	return int64(r.Sum / time.Microsecond) // total, as total_us says it
}

// listingJSON is the head of a listing's answer.
type listingJSON struct {
	rangeJSON
	Service string `json:"service"`
	Sort    string `json:"sort"`
}

func (l *listing) head() listingJSON {
	return listingJSON{rangeJSON: rangeJSON{l.from, l.to}, Service: l.service, Sort: l.sort}
}

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
	all readRows,
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
