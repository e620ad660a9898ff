package profiling

import (
	"fmt"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// Profiler is the process's one owner of CPU profiling and of the execution-trace flight recorder. The
// zero value is not usable; call New.
type Profiler struct {
	cfg config
	log *zap.Logger

	closed     atomic.Bool // set by Close: requests are served without labels
	stopListen func()      // unregisters from the InFlight; nil without one
	closeOnce  sync.Once
}

// New starts a profiler configured by opts (see the With* functions for each default). Close it when
// the process no longer needs it, to release the CPU profiler and the flight recorder.
func New(opts ...Option) (*Profiler, error) {
	cfg := newConfig(opts)
	p := &Profiler{cfg: cfg, log: cfg.logger}
	if cfg.inflight != nil {
		stop, err := cfg.inflight.Listen(&listener{p: p})
		if err != nil {
			return nil, fmt.Errorf("profiling: listen to in-flight requests: %w", err)
		}
		p.stopListen = stop
	}
	return p, nil
}

// Close stops the profiler: requests that start afterwards are served without labels, and its
// goroutines have exited when Close returns. It may be called more than once.
func (p *Profiler) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		if p.stopListen != nil {
			p.stopListen()
		}
	})
	return nil
}
