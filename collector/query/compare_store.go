package query

import (
	"context"
	"net/http"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// CompareReader is what comparisons (/api/v1/compare, /api/v1/versions) read beyond Store: the
// per-version aggregates, and one pass over a service's transactions for label comparisons.
type CompareReader interface {
	// Versions returns the service.versions of a service's transactions in [from, to), the first
	// seen first.
	Versions(ctx context.Context, service string, from, to time.Time) ([]collector.VersionSeen, error)
	// VersionAggregates returns the figures of each transaction name of one version of a service in
	// [from, to).
	VersionAggregates(ctx context.Context, service, version string, from, to time.Time) (map[string]collector.Aggregate, error)
	// VersionBreakdown is AggregateReader.Breakdown for one version.
	VersionBreakdown(ctx context.Context, service, version, name string, from, to time.Time) ([]collector.SpanTypeTime, error)
	// ScanLabel reads every transaction of a service in [from, to), with the value of its label key,
	// in any order, until a call returns false or an error. It may read from several goroutines:
	// worker is called once for each (not concurrently), and each calls only the function returned
	// for it; the transaction passed is valid only during the call.
	ScanLabel(ctx context.Context, service, key string, from, to time.Time, worker func() func(*collector.LabelledTransaction) (bool, error)) error
}

func (a *API) handleCompare() {
	a.handle("versions", func(ctx context.Context, r *http.Request, p *params) (any, error) {
		if a.cfg.Compare == nil {
			return nil, errNoCompare
		}
		return a.versions(ctx, r, p)
	})
	a.handle("compare", a.compareEndpoints)
}

var errNoCompare = errNotFound{msg: "this collector's store keeps no per-version aggregates"}
