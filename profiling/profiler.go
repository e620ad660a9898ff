package profiling

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// uploadQueue is how many finished captures may wait for the Uploader; more are dropped (Stats.Dropped).
const uploadQueue = 8

// Profiler is the process's one owner of CPU profiling and of the execution-trace flight recorder. The
// zero value is not usable; call New.
type Profiler struct {
	cfg config
	log *zap.Logger
	adm *admission
	cpu *cpuSampler
	fr  *flightRecorder // nil without a flight recorder
	tc  *triggerChecker // nil without resource triggers

	closed     atomic.Bool   // set by Shutdown: requests are served without labels
	stopListen func()        // unregisters from the InFlight; nil without one
	quit       chan struct{} // closed by Shutdown: captures stop collecting
	wg         sync.WaitGroup

	mu      sync.Mutex
	closing bool                            // no capture may start; guarded by mu
	slow    map[*agent.Request]*slowCapture // captures waiting for their request's end
	nslow   atomic.Int32                    // len(slow), read without mu on every request

	uploads      chan *Capture
	uploadCtx    context.Context
	uploadCancel context.CancelFunc
	uploadsDone  chan struct{}

	stats struct {
		captures, triggers, uploaded, uploadFailures, dropped atomic.Uint64
		skipCooldown, skipRate, skipConcurrent, skipClose     atomic.Uint64
	}
	shutdownOnce sync.Once
}

// New starts a profiler configured by opts (see the With* functions for each default): the CPU ring
// and the flight recorder if they are on, and the upload goroutine. It fails if the CPU profiler or the
// flight recorder is already in use in the process. Shut it down (Shutdown or Close) when the process
// no longer needs it, to give them back.
func New(opts ...Option) (*Profiler, error) {
	cfg := newConfig(opts)
	if cfg.uploader == nil {
		up, err := newIntakeUploader(cfg.upload)
		if err != nil {
			return nil, err
		}
		cfg.uploader = up
	}
	p := &Profiler{
		cfg:         cfg,
		log:         cfg.logger,
		adm:         newAdmission(cfg.maxConcurrent, cfg.rateN, cfg.ratePer, cfg.routeCooldown),
		cpu:         newCPUSampler(cfg.cpuChunk, cfg.cpuRing),
		quit:        make(chan struct{}),
		slow:        make(map[*agent.Request]*slowCapture),
		uploads:     make(chan *Capture, uploadQueue),
		uploadsDone: make(chan struct{}),
	}
	if err := p.cpu.start(); err != nil {
		return nil, err
	}
	if cfg.flight != nil {
		fr, err := startFlightRecorder(*cfg.flight)
		if err != nil {
			p.cpu.close()
			return nil, err
		}
		p.fr = fr
	}
	p.uploadCtx, p.uploadCancel = context.WithCancel(context.Background())
	go p.runUploads()
	if p.tc = p.newTriggerChecker(); p.tc != nil {
		go p.tc.run()
	}
	if cfg.inflight != nil {
		stop, err := cfg.inflight.Listen(&listener{p: p})
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("profiling: listen to in-flight requests: %w", err)
		}
		p.stopListen = stop
	}
	return p, nil
}

// Shutdown stops the profiler: it stops listening to requests (those that start afterwards are served
// without labels), ends the captures still collecting (with what they have), gives back the CPU
// profiler and the flight recorder, and waits for the captures already finished to be uploaded until ctx
// is done, then cancels the upload in progress and drops the rest. Its goroutines have exited when it
// returns. Calls after the first return at once.
func (p *Profiler) Shutdown(ctx context.Context) error {
	var err error
	p.shutdownOnce.Do(func() {
		p.closed.Store(true)
		if p.stopListen != nil {
			p.stopListen() // RequestSlow is not called after this
		}
		if p.tc != nil {
			p.tc.close()
		}
		p.adm.close()
		p.mu.Lock()
		p.closing = true
		p.mu.Unlock()
		close(p.quit)
		p.wg.Wait()
		p.cpu.close()
		if p.fr != nil {
			p.fr.stop()
		}
		close(p.uploads)
		select {
		case <-p.uploadsDone:
		case <-ctx.Done():
			err = fmt.Errorf("profiling: shutdown: %w", ctx.Err())
			p.uploadCancel()
			<-p.uploadsDone
		}
		p.uploadCancel()
	})
	return err
}

// Close is Shutdown without waiting for uploads: captures not uploaded yet are dropped.
func (p *Profiler) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Shutdown(ctx)
	return nil
}

// Stats counts what the profiler has done since New.
type Stats struct {
	// Captures is the number of captures started; Triggers the number of them started by resource
	// triggers.
	Captures, Triggers uint64
	// SkippedCooldown, SkippedRateLimit and SkippedConcurrency count the captures not started because
	// of WithRouteCooldown, WithRateLimit and WithMaxConcurrentCaptures.
	SkippedCooldown, SkippedRateLimit, SkippedConcurrency uint64
	// Uploaded and UploadFailures count the Uploader's successes and errors; Dropped counts the
	// captures dropped because the upload queue was full or the profiler was shut down.
	Uploaded, UploadFailures, Dropped uint64
	// CPUChunks is the number of CPU-profile chunks recorded. CPUGap is the total time the runtime's
	// CPU profiler was off between chunks (each pprof.StopCPUProfile waits for its profile to be
	// written): samples in it are lost. CPUMaxGap is the longest such gap.
	CPUChunks         uint64
	CPUGap, CPUMaxGap time.Duration
	// CPUBusy counts the times the CPU profiler could not be started because someone else had it.
	CPUBusy uint64
}

// Stats returns the profiler's counters.
func (p *Profiler) Stats() Stats {
	cs := p.cpu.snapshotStats()
	return Stats{
		Captures:           p.stats.captures.Load(),
		Triggers:           p.stats.triggers.Load(),
		SkippedCooldown:    p.stats.skipCooldown.Load(),
		SkippedRateLimit:   p.stats.skipRate.Load(),
		SkippedConcurrency: p.stats.skipConcurrent.Load(),
		Uploaded:           p.stats.uploaded.Load(),
		UploadFailures:     p.stats.uploadFailures.Load(),
		Dropped:            p.stats.dropped.Load(),
		CPUChunks:          cs.chunks,
		CPUGap:             cs.stopTime,
		CPUMaxGap:          cs.maxStop,
		CPUBusy:            cs.failures,
	}
}

// countSkip counts a capture admission refused.
func (p *Profiler) countSkip(r skipReason) {
	switch r {
	case skipCooldown:
		p.stats.skipCooldown.Add(1)
	case skipRate:
		p.stats.skipRate.Add(1)
	case skipConcurrent:
		p.stats.skipConcurrent.Add(1)
	}
}

// forgetSlow removes a slow capture from the map of those waiting for their request's end.
func (p *Profiler) forgetSlow(r *agent.Request) *slowCapture {
	p.mu.Lock()
	defer p.mu.Unlock()
	sc := p.slow[r]
	if sc != nil {
		delete(p.slow, r)
		p.nslow.Add(-1)
	}
	return sc
}

// submit queues a finished capture for upload, dropping it if the queue is full.
func (p *Profiler) submit(c *Capture) {
	select {
	case p.uploads <- c:
	default:
		p.stats.dropped.Add(1)
		p.log.Warn("profiling: capture dropped: upload queue full", zap.String("profile.id", c.ID))
	}
}

// runUploads hands queued captures to the Uploader until Shutdown closes the queue.
func (p *Profiler) runUploads() {
	defer close(p.uploadsDone)
	for c := range p.uploads {
		if p.uploadCtx.Err() != nil {
			p.stats.dropped.Add(1)
			continue
		}
		if err := p.cfg.uploader.Upload(p.uploadCtx, c); err != nil {
			p.stats.uploadFailures.Add(1)
			p.log.Warn("profiling: upload failed", zap.String("profile.id", c.ID), zap.Error(err))
			continue
		}
		p.stats.uploaded.Add(1)
		p.log.Debug("profiling: capture uploaded", zap.String("profile.id", c.ID))
	}
}
