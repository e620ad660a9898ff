package query

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// MaxTraceItems bounds the transactions and spans one trace answer lists (in waterfall order); the
// answer says truncated past it.
const MaxTraceItems = 10_000

// maxTraceEvents is how many of a trace's events the API reads from the store: MaxTraceItems and as
// many again for its errors and logs. A trace of more is read no further (the answer says truncated).
const maxTraceEvents = 2 * MaxTraceItems

// itemJSON is one bar of a waterfall: a transaction or a span.
type itemJSON struct {
	Kind          string `json:"kind"` // "transaction" or "span"
	ID            string `json:"id"`
	ParentID      string `json:"parent_id,omitempty"`
	TransactionID string `json:"transaction_id,omitempty"`
	// Depth is the nesting level in the waterfall: 0 for the root (and for orphans), a child one more
	// than its parent.
	Depth int `json:"depth"`
	// Orphan is true when the parent is not in the trace (not sent, not sampled, or deleted).
	Orphan     bool      `json:"orphan,omitempty"`
	OffsetUS   int64     `json:"offset_us"` // start, from the trace's start
	DurationUS int64     `json:"duration_us"`
	Timestamp  time.Time `json:"timestamp"`
	Name       string    `json:"name"`
	Service    string    `json:"service"`
	Type       string    `json:"type,omitempty"`
	Subtype    string    `json:"subtype,omitempty"`
	Action     string    `json:"action,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Result     string    `json:"result,omitempty"` // transactions
	Sync       *bool     `json:"sync,omitempty"`
	// Labels are the event's own labels with their types (es_took_ms on Elasticsearch spans is a
	// number: the server-side time Elasticsearch reported).
	Labels map[string]any `json:"labels,omitempty"`
	DB     *dbJSON        `json:"db,omitempty"`
	// QueryShape is a database span's query shape (collector.ShapeOf): /api/v1/query?shape= has its
	// figures.
	QueryShape  *queryShapeJSON  `json:"query_shape,omitempty"`
	HTTP        *httpJSON        `json:"http,omitempty"`
	Destination *destinationJSON `json:"destination,omitempty"`
	Composite   *compositeJSON   `json:"composite,omitempty"`
	ErrorCount  int              `json:"error_count,omitempty"`
}

type dbJSON struct {
	Type         string `json:"type,omitempty"`
	Instance     string `json:"instance,omitempty"`
	Statement    string `json:"statement,omitempty"`
	User         string `json:"user,omitempty"`
	RowsAffected *int64 `json:"rows_affected,omitempty"`
}

type queryShapeJSON struct {
	Shape     string `json:"shape"`
	Summary   string `json:"summary"`
	Truncated bool   `json:"truncated,omitempty"`
}

type httpJSON struct {
	Method     string `json:"method,omitempty"`
	URL        string `json:"url,omitempty"`
	StatusCode int32  `json:"status_code,omitempty"`
}

type destinationJSON struct {
	Address     string `json:"address,omitempty"`
	Port        uint16 `json:"port,omitempty"`
	ServiceType string `json:"service_type,omitempty"` // service.target.type
	ServiceName string `json:"service_name,omitempty"` // service.target.name
}

type compositeJSON struct {
	Count    int32   `json:"count"`
	SumUS    float64 `json:"sum_us"`
	Strategy string  `json:"compression_strategy"`
}

type traceErrorJSON struct {
	ID            string    `json:"id"`
	ParentID      string    `json:"parent_id,omitempty"`
	TransactionID string    `json:"transaction_id,omitempty"`
	OffsetUS      int64     `json:"offset_us"`
	Timestamp     time.Time `json:"timestamp"`
	Service       string    `json:"service"`
	GroupingKey   string    `json:"grouping_key,omitempty"`
	Culprit       string    `json:"culprit,omitempty"`
	Type          string    `json:"type,omitempty"`
	Message       string    `json:"message,omitempty"`
	Handled       *bool     `json:"handled,omitempty"`
}

type traceJSON struct {
	TraceID    string    `json:"trace_id"`
	Start      time.Time `json:"start"`
	DurationUS int64     `json:"duration_us"`
	Services   []string  `json:"services"`
	// Items are the transactions and spans in waterfall order: depth first from the roots, children by
	// start time.
	Items     []itemJSON       `json:"items"`
	Errors    []traceErrorJSON `json:"errors"`
	Truncated bool             `json:"truncated"`
}

// trace answers GET /api/v1/traces/{trace_id}: the waterfall of a trace.
func (a *API) trace(ctx context.Context, r *http.Request, p *params) (any, error) {
	id := r.PathValue("trace_id")
	if err := checkTraceID(id); err != nil {
		return nil, badParam("trace_id", "%q: %v", id, err)
	}
	if err := p.done(); err != nil {
		return nil, err
	}
	recs, err := a.cfg.Store.GetTrace(ctx, id, maxTraceEvents)
	if err != nil {
		return nil, err
	}
	t := buildTrace(id, recs)
	if len(t.Items) == 0 && len(t.Errors) == 0 {
		return nil, errNotFound{"no trace " + id + " in the store (not received yet, or deleted by retention)"}
	}
	return t, nil
}

// buildTrace arranges a trace's events for a waterfall.
func buildTrace(id string, recs []collector.Record) traceJSON {
	t := traceJSON{TraceID: id, Services: []string{}, Items: []itemJSON{}, Errors: []traceErrorJSON{}}
	var items []itemJSON
	var start time.Time
	first := true
	note := func(ts time.Time) {
		if first || ts.Before(start) {
			start, first = ts, false
		}
	}
	for i := range recs {
		e := &recs[i].Event
		switch {
		case e.Kind == collector.KindTransaction && e.Transaction != nil:
			items = append(items, transactionItem(e))
		case e.Kind == collector.KindSpan && e.Span != nil:
			items = append(items, spanItem(e))
		case e.Kind == collector.KindError && e.Error != nil:
			t.Errors = append(t.Errors, errorItem(e))
		default:
			continue
		}
		note(e.Timestamp)
		if !slices.Contains(t.Services, e.Service.Name) {
			t.Services = append(t.Services, e.Service.Name)
		}
	}
	if first {
		return t
	}
	slices.Sort(t.Services)
	t.Start = start
	var end time.Time
	for i := range items {
		it := &items[i]
		it.OffsetUS = int64(it.Timestamp.Sub(start) / time.Microsecond)
		if e := it.Timestamp.Add(time.Duration(it.DurationUS) * time.Microsecond); e.After(end) {
			end = e
		}
	}
	for i := range t.Errors {
		t.Errors[i].OffsetUS = int64(t.Errors[i].Timestamp.Sub(start) / time.Microsecond)
		if t.Errors[i].Timestamp.After(end) {
			end = t.Errors[i].Timestamp
		}
	}
	t.DurationUS = int64(end.Sub(start) / time.Microsecond)
	errCount := map[string]int{}
	for _, e := range t.Errors {
		if e.ParentID != "" {
			errCount[e.ParentID]++
		}
	}
	for i := range items {
		items[i].ErrorCount = errCount[items[i].ID]
	}
	slices.SortStableFunc(t.Errors, func(x, y traceErrorJSON) int { return x.Timestamp.Compare(y.Timestamp) })
	t.Items, t.Truncated = waterfall(items)
	t.Truncated = t.Truncated || len(recs) >= maxTraceEvents
	return t
}

// waterfall orders items depth first from the roots (items without a parent in the trace), children
// by start time, and sets their depths. Items in a parent cycle, which no root reaches, come last as
// orphans. It never recurses, so a deep trace cannot exhaust the stack.
func waterfall(items []itemJSON) ([]itemJSON, bool) {
	slices.SortStableFunc(items, func(x, y itemJSON) int {
		if c := x.Timestamp.Compare(y.Timestamp); c != 0 {
			return c
		}
		if x.Kind != y.Kind { // a transaction before the spans that start with it
			return cmp.Compare(kindRank(x.Kind), kindRank(y.Kind))
		}
		return cmp.Compare(x.ID, y.ID)
	})
	index := make(map[string]int, len(items))
	for i, it := range items {
		if _, dup := index[it.ID]; !dup && it.ID != "" {
			index[it.ID] = i
		}
	}
	children := make([][]int, len(items))
	var roots []int
	for i, it := range items {
		p, ok := index[it.ParentID]
		switch {
		case it.ParentID == "":
			roots = append(roots, i)
		case !ok || p == i:
			items[i].Orphan = true
			roots = append(roots, i)
		default:
			children[p] = append(children[p], i) // in start order, as items are
		}
	}
	out := make([]itemJSON, 0, min(len(items), MaxTraceItems))
	visited := make([]bool, len(items))
	var stack []int
	visit := func(root, depth int) {
		stack = append(stack[:0], root)
		items[root].Depth = depth
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if visited[i] {
				continue
			}
			visited[i] = true
			if len(out) < MaxTraceItems {
				out = append(out, items[i])
			}
			cs := children[i]
			for k := len(cs) - 1; k >= 0; k-- { // pushed in reverse: popped in start order
				if c := cs[k]; !visited[c] {
					items[c].Depth = items[i].Depth + 1
					stack = append(stack, c)
				}
			}
		}
	}
	for _, r := range roots {
		visit(r, 0)
	}
	for i := range items {
		if !visited[i] {
			items[i].Orphan = true
			visit(i, 0)
		}
	}
	return out, len(items) > MaxTraceItems
}

func kindRank(k string) int {
	if k == "transaction" {
		return 0
	}
	return 1
}

func transactionItem(e *collector.Event) itemJSON {
	t := e.Transaction
	it := itemJSON{Kind: "transaction", ID: t.ID, ParentID: e.ParentID, TransactionID: t.ID, Timestamp: e.Timestamp,
		DurationUS: e.Event.Duration.Microseconds(), Name: t.Name, Service: e.Service.Name, Type: t.Type,
		Outcome: e.Event.Outcome, Result: t.Result, Labels: labelsOf(e)}
	it.HTTP = httpOf(e, cmp.Or(e.URL.Full, e.URL.Original))
	return it
}

func spanItem(e *collector.Event) itemJSON {
	s := e.Span
	it := itemJSON{Kind: "span", ID: s.ID, ParentID: e.ParentID, Timestamp: e.Timestamp,
		DurationUS: e.Event.Duration.Microseconds(), Name: s.Name, Service: e.Service.Name, Type: s.Type,
		Subtype: s.Subtype, Action: s.Action, Outcome: e.Event.Outcome, Labels: labelsOf(e)}
	if e.Transaction != nil {
		it.TransactionID = e.Transaction.ID
	}
	if s.Sync.Valid {
		v := s.Sync.V
		it.Sync = &v
	}
	if db := s.DB; db != nil {
		it.DB = &dbJSON{Type: db.Type, Instance: db.Instance, Statement: db.Statement, User: db.UserName}
		if db.RowsAffected.Valid {
			n := db.RowsAffected.V
			it.DB.RowsAffected = &n
		}
	}
	if id, summary, truncated, ok := collector.ShapeOf(e); ok {
		it.QueryShape = &queryShapeJSON{Shape: id, Summary: summary, Truncated: truncated}
	}
	it.HTTP = httpOf(e, cmp.Or(e.URL.Original, e.URL.Full))
	if e.Destination.Address != "" || e.Service.Target.Type != "" || e.Service.Target.Name != "" {
		it.Destination = &destinationJSON{Address: e.Destination.Address, Port: e.Destination.Port,
			ServiceType: e.Service.Target.Type, ServiceName: e.Service.Target.Name}
	}
	if c := s.Composite; c != nil {
		it.Composite = &compositeJSON{Count: c.Count, SumUS: c.SumMillis * 1000, Strategy: c.CompressionStrategy}
	}
	return it
}

// httpOf is the event's HTTP request and response, showing url (nil when it has neither).
func httpOf(e *collector.Event, url string) *httpJSON {
	if e.HTTP == nil && url == "" {
		return nil
	}
	h := &httpJSON{URL: url}
	if e.HTTP != nil {
		h.Method, h.StatusCode = e.HTTP.Request.Method, e.HTTP.Response.StatusCode
	}
	return h
}

func errorItem(e *collector.Event) traceErrorJSON {
	er := e.Error
	out := traceErrorJSON{ID: er.ID, ParentID: e.ParentID, Timestamp: e.Timestamp, Service: e.Service.Name,
		GroupingKey: er.GroupingKey, Culprit: er.Culprit, Type: er.Type, Message: cmp.Or(er.Message, e.Message)}
	if e.Transaction != nil {
		out.TransactionID = e.Transaction.ID
	}
	switch {
	case er.Exception != nil:
		out.Type = cmp.Or(er.Exception.Type, out.Type)
		out.Message = cmp.Or(er.Exception.Message, out.Message)
		if er.Exception.Handled.Valid {
			h := er.Exception.Handled.V
			out.Handled = &h
		}
	case er.Log != nil:
		out.Message = cmp.Or(er.Log.Message, out.Message)
	}
	return out
}

// labelsOf returns the event's own labels (not the agent's global ones) with their JSON types.
func labelsOf(e *collector.Event) map[string]any {
	var m map[string]any
	set := func(k string, v any) {
		if m == nil {
			m = map[string]any{}
		}
		m[k] = v
	}
	for _, l := range e.Labels {
		switch {
		case l.Global:
		case l.Values != nil:
			set(l.Key, l.Values)
		case l.Bool:
			set(l.Key, l.Value == "true")
		default:
			set(l.Key, l.Value)
		}
	}
	for _, l := range e.NumericLabels {
		switch {
		case l.Global:
		case l.Values != nil:
			vs := make([]any, len(l.Values))
			for i, v := range l.Values {
				vs[i] = number(v)
			}
			set(l.Key, vs)
		default:
			set(l.Key, number(l.Value))
		}
	}
	return m
}

// number is f, or nil (JSON null) for the values JSON has no number for.
func number(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}
