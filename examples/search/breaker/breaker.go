// Package breaker adapts github.com/sony/gobreaker/v2 to the agent's breaker hook (agent.Breaker): each
// call through the breaker labels the request's transaction with the breaker's name, state and decision,
// and each state change is sent the moment gobreaker makes it, with the counts of the state it leaves
// and, for the end of an open period, the exact time gobreaker's timeout ended it.
//
// It lives here, beside the search service that uses it, rather than in the agent: the agent is a library
// other services import and must not make them download a breaker library they may not use (agent's hook
// knows no library; this adapter is 100 lines any service can copy for its own breaker), and a module of
// its own for one adapter would be one more version to keep in step while hotpath is unpublished.
//
// Use:
//
//	cb := breaker.New[*Answer](gobreaker.Settings{Name: "elasticsearch", Timeout: 5 * time.Second},
//		agent.WithBreakerTracer(tracer))
//	answer, err := cb.Execute(ctx, func() (*Answer, error) { return search(ctx) })
//	if breaker.Rejected(err) { ... the call was short-circuited: fall back ... }
//
// gobreaker changes state lazily: an open breaker whose timeout has passed becomes half-open at the
// next call (or State). The adapter dates that change at the end of the timeout, when the breaker stopped
// refusing calls, so that an open interval is exactly as long as the breaker refused calls.
package breaker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/hotpath-apm/hotpath/agent"
)

// Breaker is a gobreaker.CircuitBreaker reported through an agent.Breaker.
type Breaker[T any] struct {
	cb           *gobreaker.CircuitBreaker[T]
	hook         *agent.Breaker
	timeout      time.Duration
	isSuccessful func(error) bool
	isExcluded   func(error) bool

	mu       sync.Mutex // guards openedAt; taken inside gobreaker's lock (OnStateChange)
	openedAt time.Time
}

// gobreaker's default open timeout, used when Settings.Timeout is not set.
const defaultTimeout = 60 * time.Second

// New returns a breaker with gobreaker's settings st (st.Name is required: it names the breaker in the
// labels), reporting to an agent.Breaker configured by opts. st.OnStateChange, if set, is still called
// after the hook has recorded the change.
func New[T any](st gobreaker.Settings, opts ...agent.BreakerOption) *Breaker[T] {
	b := &Breaker[T]{hook: agent.NewBreaker(st.Name, opts...), timeout: st.Timeout,
		isSuccessful: st.IsSuccessful, isExcluded: st.IsExcluded}
	if b.timeout <= 0 {
		b.timeout = defaultTimeout
	}
	if b.isSuccessful == nil {
		b.isSuccessful = func(err error) bool { return err == nil }
	}
	if b.isExcluded == nil {
		b.isExcluded = func(error) bool { return false }
	}
	user := st.OnStateChange
	st.OnStateChange = func(name string, from, to gobreaker.State) {
		b.changed(from, to, time.Now())
		if user != nil {
			user(name, from, to)
		}
	}
	b.cb = gobreaker.NewCircuitBreaker[T](st)
	return b
}

// changed is gobreaker's OnStateChange, called under gobreaker's lock, so in the order of the changes.
func (b *Breaker[T]) changed(from, to gobreaker.State, now time.Time) {
	b.mu.Lock()
	at := now
	if from == gobreaker.StateOpen && to == gobreaker.StateHalfOpen {
		if end := b.openedAt.Add(b.timeout); end.Before(now) {
			at = end
		}
	}
	if to == gobreaker.StateOpen {
		b.openedAt = now
	}
	b.mu.Unlock()
	b.hook.Changed(State(from), State(to), at)
}

// State converts a gobreaker state to the hook's.
func State(s gobreaker.State) agent.BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return agent.BreakerOpen
	case gobreaker.StateHalfOpen:
		return agent.BreakerHalfOpen
	}
	return agent.BreakerClosed
}

// Hook returns the agent.Breaker the breaker reports to.
func (b *Breaker[T]) Hook() *agent.Breaker { return b.hook }

// State returns the breaker's state (as gobreaker sees it now, which may record a change).
func (b *Breaker[T]) State() agent.BreakerState { return State(b.cb.State()) }

// Execute runs req through the breaker for the request in ctx, and labels the request's transaction
// with the decision: "allowed" or "probe" when req ran, "rejected" when the breaker refused it (err is
// then gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests: see Rejected).
func (b *Breaker[T]) Execute(ctx context.Context, req func() (T, error)) (T, error) {
	ran := false
	v, err := b.cb.Execute(func() (T, error) {
		ran = true
		d := agent.DecisionAllowed
		if s, _ := b.hook.State(); s == agent.BreakerHalfOpen {
			d = agent.DecisionProbe
		}
		b.hook.Decide(ctx, d)
		v, err := req()
		if !b.isExcluded(err) {
			b.hook.Done(b.isSuccessful(err)) // before gobreaker counts it: the change it causes carries it
		}
		return v, err
	})
	if !ran {
		b.hook.Decide(ctx, agent.DecisionRejected)
	}
	return v, err
}

// Rejected reports whether err is gobreaker's refusal of a call: open, or half-open with its probes
// taken.
func Rejected(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}
