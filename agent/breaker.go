package agent

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"

	"go.elastic.co/apm/v2"
)

// BreakerState is a circuit breaker's state as the hook reports it.
type BreakerState string

// The states of a circuit breaker.
const (
	BreakerClosed   BreakerState = "closed"    // calls go through
	BreakerOpen     BreakerState = "open"      // calls are refused without trying
	BreakerHalfOpen BreakerState = "half-open" // a few calls go through to probe whether the callee recovered
)

// BreakerDecision is what a breaker decided for one call: the label breaker_decision.
type BreakerDecision string

// The decisions, the values of the label breaker_decision.
const (
	DecisionAllowed  BreakerDecision = "allowed"  // closed: the call went through
	DecisionRejected BreakerDecision = "rejected" // open, or half-open with its probes taken: short-circuited
	DecisionProbe    BreakerDecision = "probe"    // half-open: the call went through as a probe
)

// ServedRejected is the served_by value of a request nobody served: refused because its breaker was open
// and no fallback had an answer.
const ServedRejected = "rejected"

// The label keys the breaker hook writes.
const (
	LabelBreaker         = "breaker"          // on a call's transaction (and span): the breaker's name
	LabelBreakerDecision = "breaker_decision" // on a call's transaction (and span): a BreakerDecision
	LabelBreakerState    = "breaker_state"    // on a call's transaction (and span): the state it was decided in
	LabelServedBy        = "served_by"        // on a transaction: who answered the request
)

// BreakerTransactionType is the type of the transaction sent for each state change of a breaker.
const BreakerTransactionType = "breaker"

// BreakerCounts are the calls one breaker saw in one state, counted by the hook from Decide and Done,
// so that every breaker library gets the same numbers: a state change carries the counts of the state it
// leaves (which gobreaker's own OnStateChange cannot give: it clears its counts before calling it).
type BreakerCounts struct {
	Requests             uint32 // calls let through: allowed and probes
	Successes            uint32 // calls let through that Done reported successful
	Failures             uint32 // calls let through that Done reported failed
	Rejected             uint32 // calls short-circuited
	ConsecutiveSuccesses uint32 // successes since the last failure
	ConsecutiveFailures  uint32 // failures since the last success
}

// BreakerChange is one state change of a breaker.
type BreakerChange struct {
	Breaker string
	From    BreakerState
	To      BreakerState
	At      time.Time     // when it changed
	InFrom  time.Duration // how long the breaker was in From
	Counts  BreakerCounts // the calls seen in From
}

// Breaker reports what one circuit breaker does, whatever library implements it: an adapter calls
// Decide when the breaker decides a call, Done when a call it let through returns, and Changed from the
// library's state-change callback. It adds no dependency: the agent knows no breaker library. It is safe
// for concurrent use; Changed calls must come in the order of the changes (breaker libraries call their
// callback under their lock, which gives that order).
type Breaker struct {
	name   string
	tracer *apm.Tracer

	mu     sync.Mutex    // guards the fields below
	state  BreakerState  // as of the last Changed
	since  time.Time     // when it entered state
	counts BreakerCounts // calls seen in state
	rand   *rand.ChaCha8 // trace ids of the state-change transactions
}

// BreakerOption configures NewBreaker.
type BreakerOption func(*Breaker)

// WithBreakerTracer makes the breaker send its state changes to t. Default: apm.DefaultTracer(). The
// labels of calls go to the transaction in the call's context, whichever tracer started it.
func WithBreakerTracer(t *apm.Tracer) BreakerOption {
	if t == nil {
		panic("agent: WithBreakerTracer(nil)")
	}
	return func(b *Breaker) { b.tracer = t }
}

// NewBreaker returns the hook of the breaker called name ("elasticsearch"), closed since now.
func NewBreaker(name string, opts ...BreakerOption) *Breaker {
	if name == "" {
		panic("agent: NewBreaker with no name")
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], rand.Uint64())
	binary.LittleEndian.PutUint64(seed[8:], rand.Uint64())
	b := &Breaker{name: name, state: BreakerClosed, since: time.Now(), rand: rand.NewChaCha8(seed)}
	for _, o := range opts {
		o(b)
	}
	if b.tracer == nil {
		b.tracer = apm.DefaultTracer()
	}
	return b
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// State returns the breaker's state as of the last Changed, and since when.
func (b *Breaker) State() (BreakerState, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.since
}

// Decide records the breaker's decision d for the call made for the request in ctx: it labels the
// request's transaction (and the span in ctx, if any) breaker=<name>, breaker_decision=<d> and
// breaker_state=<the state it was decided in>, and counts the call. Call it on the request's goroutine
// (an apm.Transaction is not safe for concurrent changes). A request that goes through several breakers
// keeps the labels of the last.
func (b *Breaker) Decide(ctx context.Context, d BreakerDecision) {
	b.mu.Lock()
	state := b.state
	if d == DecisionRejected {
		b.counts.Rejected++
	} else {
		b.counts.Requests++
	}
	b.mu.Unlock()
	if tx := apm.TransactionFromContext(ctx); tx != nil {
		tx.Context.SetLabel(LabelBreaker, b.name)
		tx.Context.SetLabel(LabelBreakerDecision, string(d))
		tx.Context.SetLabel(LabelBreakerState, string(state))
	}
	if span := apm.SpanFromContext(ctx); span != nil {
		span.Context.SetLabel(LabelBreaker, b.name)
		span.Context.SetLabel(LabelBreakerDecision, string(d))
		span.Context.SetLabel(LabelBreakerState, string(state))
	}
}

// Done records the outcome of a call the breaker let through. An adapter calls it before it tells the
// library, so that the call that trips the breaker is in the counts its state change carries.
func (b *Breaker) Done(success bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if success {
		b.counts.Successes++
		b.counts.ConsecutiveSuccesses++
		b.counts.ConsecutiveFailures = 0
	} else {
		b.counts.Failures++
		b.counts.ConsecutiveFailures++
		b.counts.ConsecutiveSuccesses = 0
	}
}

// Changed records that the breaker went from one state to another at at (a zero at means now), and
// sends the change at once: a transaction of type "breaker" named "<name>: <from> -> <to>", timestamped
// at, of no duration, whose result is the new state and whose labels are breaker, breaker_from,
// breaker_to, breaker_from_ms (the time spent in from) and the counts of from (breaker_requests,
// breaker_successes, breaker_failures, breaker_rejected, breaker_consecutive_successes,
// breaker_consecutive_failures). It is always sampled, whatever the tracer's sample rate: a lost state
// change would make a wrong interval. An at before the previous change is taken as that change's time;
// a change to the state the breaker is already in is ignored. It returns what it recorded.
func (b *Breaker) Changed(from, to BreakerState, at time.Time) BreakerChange {
	if at.IsZero() {
		at = time.Now()
	}
	b.mu.Lock()
	if to == b.state {
		b.mu.Unlock()
		return BreakerChange{}
	}
	if at.Before(b.since) {
		at = b.since
	}
	c := BreakerChange{Breaker: b.name, From: from, To: to, At: at, InFrom: at.Sub(b.since), Counts: b.counts}
	b.state, b.since, b.counts = to, at, BreakerCounts{}
	var trace apm.TraceID
	binary.LittleEndian.PutUint64(trace[:8], b.rand.Uint64())
	binary.LittleEndian.PutUint64(trace[8:], b.rand.Uint64()|1) // never all zeros
	b.send(c, trace)
	b.mu.Unlock()
	return c
}

// send sends c as a transaction, under b.mu so that changes are sent in order. The transaction is given
// a trace id and the recorded flag with no parent: the agent then honours the flag instead of asking its
// sampler.
func (b *Breaker) send(c BreakerChange, trace apm.TraceID) {
	tx := b.tracer.StartTransactionOptions(b.name+": "+string(c.From)+" -> "+string(c.To), BreakerTransactionType,
		apm.TransactionOptions{
			Start:        c.At,
			TraceContext: apm.TraceContext{Trace: trace, Options: apm.TraceOptions(0).WithRecorded(true)},
		})
	tx.Result = string(c.To)
	tx.Outcome = "success"
	tx.Context.SetLabel(LabelBreaker, b.name)
	tx.Context.SetLabel("breaker_from", string(c.From))
	tx.Context.SetLabel("breaker_to", string(c.To))
	tx.Context.SetLabel("breaker_from_ms", float64(c.InFrom)/float64(time.Millisecond))
	tx.Context.SetLabel("breaker_requests", c.Counts.Requests)
	tx.Context.SetLabel("breaker_successes", c.Counts.Successes)
	tx.Context.SetLabel("breaker_failures", c.Counts.Failures)
	tx.Context.SetLabel("breaker_rejected", c.Counts.Rejected)
	tx.Context.SetLabel("breaker_consecutive_successes", c.Counts.ConsecutiveSuccesses)
	tx.Context.SetLabel("breaker_consecutive_failures", c.Counts.ConsecutiveFailures)
	tx.Duration = 0
	tx.End()
}

// ServedBy labels the request's transaction in ctx served_by=<who>: who answered it, "elasticsearch",
// a fallback such as "emergency_cache", or ServedRejected when nobody did. Call it on the request's
// goroutine.
func ServedBy(ctx context.Context, who string) {
	if tx := apm.TransactionFromContext(ctx); tx != nil {
		tx.Context.SetLabel(LabelServedBy, who)
	}
}
