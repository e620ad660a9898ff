package collector

import (
	"errors"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The read side: what the store answers and the query API asks. The store (store/<engine>) implements
// the query API's small interfaces (query.Store, query.ProfileReader) with these types directly.

// Record is a stored event and the sequence number the store gave it: events are numbered in the order
// they were made durable, and the Elasticsearch exporter reads them in that order.
type Record struct {
	Seq   uint64
	Event Event
}

// ErrBadCursor is what a listing returns (wrapped) for a page cursor that does not belong to the query:
// one of another listing, order or store, or not a cursor at all. The query API answers it 400, naming
// the cursor parameter.
var ErrBadCursor = errors.New("bad page cursor")

// Order is the order of a transaction listing.
type Order uint8

// Orders of TransactionQuery.
const (
	NewestFirst  Order = iota // by timestamp, newest first
	SlowestFirst              // by duration, longest first (equal durations: oldest first)
	OldestFirst               // by timestamp, oldest first
)

// SummaryLabel is a label a transaction carries (a Label or a NumericLabel), as TransactionSummary keeps
// it so that listings can filter by it (TransactionQuery.Labels) without reading the events. Boolean
// labels have the value "true" or "false", numeric ones their shortest decimal form ("42", "0.5").
type SummaryLabel struct {
	Key   string
	Value string
}

// TransactionQuery selects transactions of one service.
type TransactionQuery struct {
	Service string // required
	Name    string // transaction name; "" for every name of the service
	// From and To bound the transactions' timestamps: From <= @timestamp < To. Zero means unbounded.
	From, To    time.Time
	Order       Order
	MinDuration time.Duration  // only transactions at least this long
	Result      string         // only transactions with this result ("HTTP 5xx"...); "" for any
	Labels      []SummaryLabel // only transactions with all of these labels (SummaryLabel says how values read)
	Limit       int            // page size; 0 for the store's default; the store caps it
	Cursor      string         // a previous page's Next, to continue it; "" for the first page
}

// TransactionSummary is what a transaction listing keeps of a transaction: enough to list it, sort it
// and filter it without reading the whole event (the store's Get(Seq) returns that).
type TransactionSummary struct {
	Seq           uint64 // the event's sequence number in the store
	Timestamp     time.Time
	Duration      time.Duration
	Service       string
	Name          string
	Type          string
	Result        string
	Outcome       string // event.outcome
	TraceID       string
	TransactionID string
	Sampled       bool
	// Labels are the transaction's own labels (not the agent's global ones, which every event of the
	// service repeats), the first 16 in the order the agent sent them, values cut at 256 bytes (a cut
	// value matches no filter), array labels left out.
	Labels []SummaryLabel
}

// LabelledTransaction is what a label comparison reads of one stored transaction: its name, duration
// and outcome, and the value of the one label asked for. Its strings are views of the store's memory,
// valid only during the call that passes it: a caller clones what it keeps.
type LabelledTransaction struct {
	Name     string
	Duration time.Duration
	Outcome  string // event.outcome
	// Label is the value of the label asked for, when Labelled (the transaction has it).
	Label    string
	Labelled bool
}

// TransactionPage is one page of a transaction listing. Next is "" after the last page.
type TransactionPage struct {
	Transactions []TransactionSummary
	Next         string
}

// ErrorQuery selects errors of one service, newest first.
type ErrorQuery struct {
	Service string // required
	// From and To bound the errors' timestamps: From <= @timestamp < To. Zero means unbounded.
	From, To time.Time
	Limit    int    // page size; 0 for the store's default; the store caps it
	Cursor   string // a previous page's Next, to continue it; "" for the first page
}

// ErrorSummary is what an error listing keeps of an error.
type ErrorSummary struct {
	Seq             uint64 // the event's sequence number in the store
	Timestamp       time.Time
	Service         string
	ErrorID         string
	GroupingKey     string
	Culprit         string
	Type            string // exception type, or error.type
	Message         string // exception message, log message or error.message; at most 1 KiB
	Handled         Optional[bool]
	TraceID         string
	TransactionID   string
	TransactionName string
}

// ErrorPage is one page of an error listing. Next is "" after the last page.
type ErrorPage struct {
	Errors []ErrorSummary
	Next   string
}

// AggregateQuery selects the pre-aggregated transactions of a service, or of one transaction name.
type AggregateQuery struct {
	Service string // required
	Name    string // a transaction name; "" for every transaction of the service
	// From and To bound the transactions' timestamps, widened to whole minutes (the aggregates'
	// resolution): From is rounded down, To up. A zero From is unbounded; a zero To is now.
	From, To time.Time
	// Interval, when positive, also asks for a series: one point per Interval from From (rounded down
	// to a multiple of Interval since the Unix epoch) to To. It must be a whole number of minutes, and
	// the series at most 10,000 points; From must then be set.
	Interval time.Duration
}

// Aggregate is what the store pre-aggregates of a group of transactions: counts by outcome and a
// latency histogram.
type Aggregate struct {
	// Count is the number of transactions stored.
	Count int64
	// Represented is the number of transactions they stand for: the sum of their representative counts
	// (1 / sample rate; 1 when the agent sent none). It is Count unless agents sample.
	Represented float64
	// Successes and Failures count event.outcome "success" and "failure" (the rest is "unknown").
	Successes, Failures int64
	// Sum is the sum of the durations, at microsecond precision.
	Sum time.Duration
	// Type is the transaction type ("request"...), for the aggregates of one transaction name.
	Type string
	// Latency is the histogram of durations in microseconds (1 µs to 1 h, 2 significant digits):
	// percentiles read from it are within 1% of the exact ones. The store always sets it; readers take
	// nil as empty.
	Latency *hdrhistogram.PackedHistogram
}

// SeriesPoint is the aggregate of one interval of a series, [Start, Start+interval).
type SeriesPoint struct {
	Start time.Time
	Aggregate
}

// AggregateResult is the answer to an AggregateQuery.
type AggregateResult struct {
	Total  Aggregate
	Series []SeriesPoint // with AggregateQuery.Interval; every point present, empty ones with Count 0
}

// SpanTypeTime is the time spent in spans of one type and subtype (with "app" and no subtype for the
// transactions' own code between spans), as the agents' breakdown metrics report it: self time, so
// nested spans are not counted twice.
type SpanTypeTime struct {
	Type    string
	Subtype string
	Count   int64         // spans (or transactions, for "app")
	Sum     time.Duration // their self time, at microsecond precision
}

// ProfileQuery selects profiles, newest first (by Profile.Timestamp).
type ProfileQuery struct {
	// Service, when set, selects one service's profiles.
	Service string
	// TransactionID, when set, selects the captures of that slow transaction; TraceID those of the
	// requests of a trace. The one given first of TransactionID, TraceID and Service picks the index
	// read; the others filter.
	TransactionID string
	TraceID       string
	// From and To bound Profile.Timestamp to [From, To); zero bounds are open.
	From, To time.Time
	// Limit is the page size: 1 to 1,000, default 50.
	Limit int
	// Cursor is a previous page's Next.
	Cursor string
}

// ProfilePage is a page of profiles, their parts without data; Next continues it ("" after the last).
type ProfilePage struct {
	Profiles []Profile
	Next     string
}
