package profiling

import (
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// Option configures New.
type Option func(*config)

type config struct {
	inflight *agent.InFlight // nil: no per-request labels, no slow-request captures
	logger   *zap.Logger     // never nil after newConfig
	clock    clock           // never nil after newConfig
}

func newConfig(opts []Option) config {
	c := config{}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = zap.NewNop()
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	return c
}

// WithInFlight makes the profiler the Listener of f (agent.InFlight.Listen), the registry shared by the
// handlers wrapped with agent.WithInFlight(f): every request they trace then runs with pprof labels
// (route, trace.id, transaction.id), and requests that cross their slow threshold are captured. New fails
// if f already has a listener. Default: none; the profiler then sees no requests.
func WithInFlight(f *agent.InFlight) Option {
	if f == nil {
		panic("profiling: WithInFlight(nil)")
	}
	return func(c *config) { c.inflight = f }
}

// WithLogger logs what the profiler does (captures started and skipped, uploads, failures) to l.
// Default: nothing is logged.
func WithLogger(l *zap.Logger) Option {
	if l == nil {
		panic("profiling: WithLogger(nil)")
	}
	return func(c *config) { c.logger = l }
}
