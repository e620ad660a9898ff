package query

import (
	"context"
	"net/http"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// Page sizes of listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

type transactionJSON struct {
	TraceID       string            `json:"trace_id"`
	TransactionID string            `json:"transaction_id"`
	Service       string            `json:"service"`
	Name          string            `json:"name"`
	Type          string            `json:"type"`
	Result        string            `json:"result"`
	Outcome       string            `json:"outcome"`
	Timestamp     time.Time         `json:"timestamp"`
	DurationUS    int64             `json:"duration_us"`
	Sampled       bool              `json:"sampled"`
	Labels        map[string]string `json:"labels,omitempty"`
}

type transactionsJSON struct {
	rangeJSON
	Transactions []transactionJSON `json:"transactions"`
	// Next is the cursor of the next page (pass it as cursor with the same filters), null after the last.
	Next *string `json:"next"`
}

// transactions answers GET /api/v1/transactions?service=: transactions filtered and sorted, a page at
// a time.
func (a *API) transactions(ctx context.Context, _ *http.Request, p *params) (any, error) {
	q := collector.TransactionQuery{Service: p.required("service"), Name: p.str("name"), Result: p.str("result")}
	q.From, q.To = p.timeRange()
	if p.oneOf("sort", "time", "time", "duration") == "duration" {
		q.Order = collector.SlowestFirst
	}
	q.MinDuration = p.duration("min_duration")
	q.Labels = p.labels()
	if p.flag("slow") {
		q.Labels = append(q.Labels, collector.SummaryLabel{Key: "slow", Value: "true"})
	}
	q.Limit = p.intIn("limit", 1, MaxPageSize, DefaultPageSize)
	q.Cursor = p.str("cursor")
	if err := p.done(); err != nil {
		return nil, err
	}
	page, err := a.cfg.Store.Transactions(ctx, q)
	if err != nil {
		return nil, err
	}
	out := transactionsJSON{rangeJSON: rangeJSON{q.From, q.To}, Transactions: make([]transactionJSON, 0, len(page.Transactions))}
	for _, t := range page.Transactions {
		tj := transactionJSON{
			TraceID: t.TraceID, TransactionID: t.TransactionID, Service: t.Service, Name: t.Name, Type: t.Type,
			Result: t.Result, Outcome: t.Outcome, Timestamp: t.Timestamp, DurationUS: int64(t.Duration / time.Microsecond),
			Sampled: t.Sampled,
		}
		if len(t.Labels) > 0 {
			tj.Labels = make(map[string]string, len(t.Labels))
			for _, l := range t.Labels {
				tj.Labels[l.Key] = l.Value
			}
		}
		out.Transactions = append(out.Transactions, tj)
	}
	if page.Next != "" {
		out.Next = &page.Next
	}
	return out, nil
}
