package profiling

import (
	"context"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// Label keys the profiler puts on every request's goroutine (pprof.Do), so that CPU samples and goroutine
// stacks can be attributed to one request. Goroutines the handler starts inherit them.
const (
	LabelRoute         = "route"          // the transaction name as known when the request starts
	LabelTraceID       = "trace.id"       // 32 lower-case hex digits
	LabelTransactionID = "transaction.id" // 16 lower-case hex digits
)

// listener is the profiler's agent.Listener. It is a separate type so that Profiler does not export the
// Listener methods.
type listener struct {
	p *Profiler
}

var _ agent.Listener = (*listener)(nil)

// ServeRequest runs the handler under the request's pprof labels (one pprof.Do, keys sorted), then tells
// the request's capture, if it has one, that the request has ended. The label values share the
// agent.Request's memory (TraceIDString, TransactionIDString), and r.Serve does not escape: the labels
// cost pprof.Do's own allocations only.
func (l *listener) ServeRequest(ctx context.Context, r *agent.Request) {
	p := l.p
	if p.closed.Load() {
		r.Serve(ctx)
		return
	}
	defer p.requestEnded(r)
	labels := pprof.Labels(LabelRoute, r.Route, LabelTraceID, r.TraceIDString(), LabelTransactionID, r.TransactionIDString())
	if p.fr == nil || !trace.IsEnabled() {
		pprof.Do(ctx, labels, r.Serve)
		return
	}
	// The execution trace shows the request as a region named by its route on its goroutine, with its
	// transaction.id logged at the start: go tool trace lists regions by name and duration.
	trace.WithRegion(ctx, r.Route, func() {
		trace.Log(ctx, LabelTransactionID, r.TransactionIDString())
		pprof.Do(ctx, labels, r.Serve)
	})
}

// requestEnded tells r's capture, if any, that r has ended. A capture, if there is one, was registered
// by RequestSlow, which returned before r.Serve did (agent.Listener's guarantee).
func (p *Profiler) requestEnded(r *agent.Request) {
	if p.nslow.Load() == 0 {
		return
	}
	if sc := p.forgetSlow(r); sc != nil {
		sc.ended <- time.Now()
	}
}

// RequestSlow starts a capture of r, if admission allows: it keeps the CPU ring's chunks since r
// started, takes the first goroutine snapshot (now, while r's handler is still running), sets the
// transaction's profile_id label, and leaves the rest to a goroutine.
func (l *listener) RequestSlow(r *agent.Request) {
	p := l.p
	if reason := p.adm.admit("route " + r.Route); reason != admitted {
		p.countSkip(reason)
		if p.cfg.slowHook != nil {
			p.cfg.slowHook("")
		}
		return
	}
	// The capture outlives the request: its ids are copies, not r's memory.
	traceID, txID := strings.Clone(r.TraceIDString()), strings.Clone(r.TransactionIDString())
	now := time.Now()
	c := &Capture{
		ID:      newProfileID(),
		Trigger: TriggerSlowRequest,
		Time:    now,
		Request: &CapturedRequest{
			TraceID:       traceID,
			TransactionID: txID,
			Sampled:       r.Sampled,
			Route:         r.Route,
			Start:         r.Start,
			Threshold:     r.Threshold,
		},
	}
	sc := &slowCapture{c: c, ended: make(chan time.Time, 1)}
	if h, err := p.cpu.hold(r.Start); err != nil {
		c.addError("cpu: %v", err)
	} else {
		sc.hold = h
	}
	if g, err := goroutineProfile(); err != nil {
		c.addError("goroutine: %v", err)
	} else {
		sc.goroutines = append(sc.goroutines, g)
	}

	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		if sc.hold != nil {
			p.cpu.release(sc.hold)
		}
		p.adm.done()
		if p.cfg.slowHook != nil {
			p.cfg.slowHook("")
		}
		return
	}
	p.slow[r] = sc
	p.nslow.Add(1)
	p.wg.Add(1)
	p.mu.Unlock()
	p.stats.captures.Add(1)
	r.SetLabel(LabelProfileID, c.ID)
	p.log.Info("profiling: capturing slow request", zap.String("profile.id", c.ID),
		zap.String("transaction.id", txID), zap.String("route", r.Route))
	go p.runSlow(sc, r)
	if p.cfg.slowHook != nil {
		p.cfg.slowHook(c.ID)
	}
}
