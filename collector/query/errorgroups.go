package query

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// MaxErrorsScanned bounds the errors one request to /api/v1/errors reads to group them: the newest
// ones in the range. Past it, the answer says truncated and counts only those.
const MaxErrorsScanned = 50_000

type errorSampleJSON struct {
	ErrorID         string    `json:"error_id"`
	TraceID         string    `json:"trace_id,omitempty"`
	TransactionID   string    `json:"transaction_id,omitempty"`
	TransactionName string    `json:"transaction_name,omitempty"`
	Timestamp       time.Time `json:"timestamp"`
}

type errorGroupJSON struct {
	GroupingKey string    `json:"grouping_key"`
	Culprit     string    `json:"culprit"`
	Type        string    `json:"type"`
	Message     string    `json:"message"`
	Handled     *bool     `json:"handled"`
	Count       int64     `json:"count"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	// Latest is the newest occurrence: its trace shows where it happened.
	Latest errorSampleJSON `json:"latest"`
}

type errorsJSON struct {
	rangeJSON
	Service string           `json:"service"`
	Name    string           `json:"name,omitempty"`
	Total   int64            `json:"total"`
	Groups  []errorGroupJSON `json:"groups"`
	// Truncated is true when the range holds more than MaxErrorsScanned errors: the groups then count
	// the newest MaxErrorsScanned.
	Truncated bool `json:"truncated"`
}

// errorGroups answers GET /api/v1/errors?service=: the errors of a service (or of the transactions named
// name) in the range, grouped by grouping key (the agent's: exception type and stack trace, or the
// log message's), the most frequent first.
func (a *API) errorGroups(ctx context.Context, _ *http.Request, p *params) (any, error) {
	service := p.required("service")
	name := p.str("name")
	from, to := p.timeRange()
	limit := p.intIn("limit", 1, MaxPageSize, DefaultPageSize)
	if err := p.done(); err != nil {
		return nil, err
	}
	out := errorsJSON{rangeJSON: rangeJSON{from, to}, Service: service, Name: name, Groups: []errorGroupJSON{}}
	groups := map[string]*errorGroupJSON{}
	q := collector.ErrorQuery{Service: service, From: from, To: to, Limit: 10_000}
	scanned := 0
	for {
		page, err := a.cfg.Store.Errors(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Errors {
			if scanned == MaxErrorsScanned {
				out.Truncated = true
				break
			}
			scanned++
			if name != "" && e.TransactionName != name {
				continue
			}
			out.Total++
			key := e.GroupingKey
			if key == "" {
				key = "\x00" + e.Culprit + "\x00" + e.Type + "\x00" + e.Message
			}
			g := groups[key]
			if g == nil { // the newest of its group: errors come newest first
				g = &errorGroupJSON{GroupingKey: e.GroupingKey, Culprit: e.Culprit, Type: e.Type, Message: e.Message,
					LastSeen: e.Timestamp, Latest: errorSampleJSON{ErrorID: e.ErrorID, TraceID: e.TraceID,
						TransactionID: e.TransactionID, TransactionName: e.TransactionName, Timestamp: e.Timestamp}}
				if e.Handled.Valid {
					h := e.Handled.V
					g.Handled = &h
				}
				groups[key] = g
			}
			g.Count++
			g.FirstSeen = e.Timestamp
		}
		if out.Truncated || page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	for _, g := range groups {
		out.Groups = append(out.Groups, *g)
	}
	slices.SortFunc(out.Groups, func(x, y errorGroupJSON) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), y.LastSeen.Compare(x.LastSeen), cmp.Compare(x.GroupingKey, y.GroupingKey))
	})
	if len(out.Groups) > limit {
		out.Groups = out.Groups[:limit]
	}
	return out, nil
}
