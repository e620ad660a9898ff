package query

import (
	"context"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// Store is what the API reads: the collector's store (store/pebble implements it, with the read-side
// types of package collector). Every method must be safe for concurrent use and honour ctx. A listing
// answers a page cursor that is not its own with an error that errors.Is collector.ErrBadCursor, which
// the API answers 400 naming the cursor parameter.
type Store interface {
	ServiceLister
	AggregateReader
	TransactionLister
	ErrorLister
	TraceReader
}

// ServiceLister lists the services that sent events.
type ServiceLister interface {
	// Services returns the names of the services with events that may lie in [from, to), sorted.
	Services(ctx context.Context, from, to time.Time) ([]string, error)
}

// AggregateReader reads pre-aggregated transaction figures (per minute, with latency histograms).
type AggregateReader interface {
	// TransactionAggregate returns the figures of a service's transactions, or of one transaction name,
	// over a range widened to whole minutes, with a series when q.Interval > 0.
	TransactionAggregate(ctx context.Context, q collector.AggregateQuery) (collector.AggregateResult, error)
	// EndpointAggregates returns the figures of each transaction name of a service in [from, to).
	EndpointAggregates(ctx context.Context, service string, from, to time.Time) (map[string]collector.Aggregate, error)
	// Breakdown returns the span self-time of a service's transactions (or of those named name) by
	// span type and subtype in [from, to), largest first.
	Breakdown(ctx context.Context, service, name string, from, to time.Time) ([]collector.SpanTypeTime, error)
}

// TransactionLister lists transactions from the store's indexes.
type TransactionLister interface {
	Transactions(ctx context.Context, q collector.TransactionQuery) (collector.TransactionPage, error)
}

// ErrorLister lists errors, newest first.
type ErrorLister interface {
	Errors(ctx context.Context, q collector.ErrorQuery) (collector.ErrorPage, error)
}

// TraceReader reads the stored events of a trace.
type TraceReader interface {
	// GetTrace returns the stored events of the trace (transactions, spans, errors, logs) in the order
	// they were stored, at most limit of them (the store may bound it lower), none when there are none.
	// It reads no more than it returns.
	GetTrace(ctx context.Context, traceID string, limit int) ([]collector.Record, error)
}
