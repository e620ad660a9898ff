package query

import (
	"context"
	"errors"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hotpath-apm/hotpath/collector"
)

// Store is what the API reads: the collector's store, adapted to these small interfaces where the
// collector is wired (cmd/hotpath). Every method must be safe for concurrent use and honour ctx.
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
	TransactionAggregate(ctx context.Context, q AggregateQuery) (AggregateResult, error)
	// EndpointAggregates returns the figures of each transaction name of a service in [from, to).
	EndpointAggregates(ctx context.Context, service string, from, to time.Time) (map[string]Aggregate, error)
	// Breakdown returns the span self-time of a service's transactions (or of those named name) by
	// span type and subtype in [from, to), largest first.
	Breakdown(ctx context.Context, service, name string, from, to time.Time) ([]SpanTypeTime, error)
}

// TransactionLister lists transactions from the store's indexes.
type TransactionLister interface {
	Transactions(ctx context.Context, q TransactionQuery) (TransactionPage, error)
}

// ErrorLister lists errors, newest first.
type ErrorLister interface {
	Errors(ctx context.Context, q ErrorQuery) (ErrorPage, error)
}

// TraceReader reads every stored event of a trace.
type TraceReader interface {
	// Trace returns the events of the trace (transactions, spans, errors, logs), nil when there are
	// none.
	Trace(ctx context.Context, traceID string) ([]collector.Event, error)
}

// ErrBadCursor is what a TransactionLister or ErrorLister returns (wrapped or not) for a page cursor
// that does not belong to the query; the API answers 400 naming the cursor parameter.
var ErrBadCursor = errors.New("bad page cursor")

// AggregateQuery selects pre-aggregated transactions.
type AggregateQuery struct {
	Service  string
	Name     string // "" for every transaction of the service
	From, To time.Time
	Interval time.Duration // > 0: a series with points this wide (whole minutes)
}

// Aggregate is the pre-aggregated figures of a group of transactions.
type Aggregate struct {
	Count               int64   // transactions stored
	Represented         float64 // transactions they stand for (sum of representative counts)
	Successes, Failures int64   // by event.outcome
	Sum                 time.Duration
	Type                string                        // transaction type, for one transaction name
	Latency             *hdrhistogram.PackedHistogram // durations in microseconds; nil means empty
}

// SeriesPoint is the aggregate of [Start, Start+Interval).
type SeriesPoint struct {
	Start time.Time
	Aggregate
}

// AggregateResult answers an AggregateQuery.
type AggregateResult struct {
	Total  Aggregate
	Series []SeriesPoint
}

// SpanTypeTime is the self time of the spans of one type and subtype.
type SpanTypeTime struct {
	Type, Subtype string
	Count         int64
	Sum           time.Duration
}

// Order is the order of a transaction listing.
type Order uint8

// Orders of TransactionQuery.
const (
	NewestFirst Order = iota
	SlowestFirst
)

// Label is a label's key and value, as text.
type Label struct {
	Key, Value string
}

// TransactionQuery selects transactions of one service.
type TransactionQuery struct {
	Service     string
	Name        string // "" for every name
	From, To    time.Time
	Order       Order
	MinDuration time.Duration
	Result      string
	Labels      []Label // every one must be present
	Limit       int
	Cursor      string
}

// TransactionSummary is a listed transaction.
type TransactionSummary struct {
	Timestamp     time.Time
	Duration      time.Duration
	Service       string
	Name          string
	Type          string
	Result        string
	Outcome       string
	TraceID       string
	TransactionID string
	Sampled       bool
	Labels        []Label
}

// TransactionPage is a page of transactions; Next continues it ("" after the last).
type TransactionPage struct {
	Transactions []TransactionSummary
	Next         string
}

// ErrorQuery selects errors of one service, newest first.
type ErrorQuery struct {
	Service  string
	From, To time.Time
	Limit    int
	Cursor   string
}

// ErrorSummary is a listed error.
type ErrorSummary struct {
	Timestamp       time.Time
	ErrorID         string
	GroupingKey     string
	Culprit         string
	Type            string
	Message         string
	Handled         collector.Optional[bool]
	TraceID         string
	TransactionID   string
	TransactionName string
}

// ErrorPage is a page of errors; Next continues it ("" after the last).
type ErrorPage struct {
	Errors []ErrorSummary
	Next   string
}
