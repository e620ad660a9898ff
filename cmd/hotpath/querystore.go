package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/query"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// queryStore adapts the Pebble store to the query API's interfaces: the two packages do not import each
// other, they meet here.
type queryStore struct{ s *pebble.Store }

var _ query.Store = queryStore{}

func (q queryStore) Services(ctx context.Context, from, to time.Time) ([]string, error) {
	return q.s.Services(ctx, from, to)
}

func aggregateOf(a pebble.Aggregate) query.Aggregate {
	return query.Aggregate{Count: a.Count, Represented: a.Represented, Successes: a.Successes, Failures: a.Failures,
		Sum: a.Sum, Type: a.Type, Latency: a.Latency}
}

func (q queryStore) TransactionAggregate(ctx context.Context, aq query.AggregateQuery) (query.AggregateResult, error) {
	res, err := q.s.TransactionAggregate(ctx, pebble.AggregateQuery{Service: aq.Service, Name: aq.Name, From: aq.From, To: aq.To, Interval: aq.Interval})
	if err != nil {
		return query.AggregateResult{}, err
	}
	out := query.AggregateResult{Total: aggregateOf(res.Total), Series: make([]query.SeriesPoint, len(res.Series))}
	for i, p := range res.Series {
		out.Series[i] = query.SeriesPoint{Start: p.Start, Aggregate: aggregateOf(p.Aggregate)}
	}
	return out, nil
}

func (q queryStore) EndpointAggregates(ctx context.Context, service string, from, to time.Time) (map[string]query.Aggregate, error) {
	aggs, err := q.s.EndpointAggregates(ctx, service, from, to)
	if err != nil {
		return nil, err
	}
	out := make(map[string]query.Aggregate, len(aggs))
	for name, a := range aggs {
		out[name] = aggregateOf(*a)
	}
	return out, nil
}

func (q queryStore) Breakdown(ctx context.Context, service, name string, from, to time.Time) ([]query.SpanTypeTime, error) {
	types, err := q.s.Breakdown(ctx, service, name, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]query.SpanTypeTime, len(types))
	for i, t := range types {
		out[i] = query.SpanTypeTime{Type: t.Type, Subtype: t.Subtype, Count: t.Count, Sum: t.Sum}
	}
	return out, nil
}

// badCursor turns the store's ErrBadCursor into the query API's, which it answers 400.
func badCursor(err error) error {
	if errors.Is(err, pebble.ErrBadCursor) {
		return fmt.Errorf("%w: %w", query.ErrBadCursor, err)
	}
	return err
}

func (q queryStore) Transactions(ctx context.Context, tq query.TransactionQuery) (query.TransactionPage, error) {
	pq := pebble.TransactionQuery{Service: tq.Service, Name: tq.Name, From: tq.From, To: tq.To, MinDuration: tq.MinDuration,
		Result: tq.Result, Limit: tq.Limit, Cursor: tq.Cursor, Order: pebble.NewestFirst}
	if tq.Order == query.SlowestFirst {
		pq.Order = pebble.SlowestFirst
	}
	for _, l := range tq.Labels {
		pq.Labels = append(pq.Labels, pebble.SummaryLabel{Key: l.Key, Value: l.Value})
	}
	page, err := q.s.Transactions(ctx, pq)
	if err != nil {
		return query.TransactionPage{}, badCursor(err)
	}
	out := query.TransactionPage{Next: page.Next, Transactions: make([]query.TransactionSummary, len(page.Transactions))}
	for i, t := range page.Transactions {
		s := query.TransactionSummary{Timestamp: t.Timestamp, Duration: t.Duration, Service: t.Service, Name: t.Name,
			Type: t.Type, Result: t.Result, Outcome: t.Outcome, TraceID: t.TraceID, TransactionID: t.TransactionID, Sampled: t.Sampled}
		for _, l := range t.Labels {
			s.Labels = append(s.Labels, query.Label{Key: l.Key, Value: l.Value})
		}
		out.Transactions[i] = s
	}
	return out, nil
}

func (q queryStore) Errors(ctx context.Context, eq query.ErrorQuery) (query.ErrorPage, error) {
	page, err := q.s.Errors(ctx, pebble.ErrorQuery{Service: eq.Service, From: eq.From, To: eq.To, Limit: eq.Limit, Cursor: eq.Cursor})
	if err != nil {
		return query.ErrorPage{}, badCursor(err)
	}
	out := query.ErrorPage{Next: page.Next, Errors: make([]query.ErrorSummary, len(page.Errors))}
	for i, e := range page.Errors {
		out.Errors[i] = query.ErrorSummary{Timestamp: e.Timestamp, ErrorID: e.ErrorID, GroupingKey: e.GroupingKey,
			Culprit: e.Culprit, Type: e.Type, Message: e.Message, Handled: e.Handled, TraceID: e.TraceID,
			TransactionID: e.TransactionID, TransactionName: e.TransactionName}
	}
	return out, nil
}

func (q queryStore) Trace(ctx context.Context, traceID string) ([]collector.Event, error) {
	recs, err := q.s.GetTrace(ctx, traceID)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	out := make([]collector.Event, len(recs))
	for i := range recs {
		out[i] = recs[i].Event
	}
	return out, nil
}

// queryAPI is the query API over c's store.
func (c *collectorServer) queryAPI() http.Handler {
	api, err := query.New(query.Config{Store: queryStore{c.store}, Profiles: profileStore{c.store}, Logger: c.log.Named("query")})
	if err != nil {
		panic(err) // New fails only without a store, and openCollector has opened one
	}
	return api
}
