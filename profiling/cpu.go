package profiling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"
	"time"
)

// ErrCPUBusy is returned (wrapped) when the runtime's CPU profiler is in use by code other than this
// Profiler, such as a net/http/pprof handler or a test run with -cpuprofile: runtime/pprof allows one CPU
// profile at a time in a process.
var ErrCPUBusy = errors.New("the CPU profiler is in use outside this Profiler")

// errClosed is returned by the parts of a Profiler that has been closed.
var errClosed = errors.New("profiling: profiler closed")

// maxChunks bounds the chunks a sampler keeps, whatever holds ask for: at the default chunk length it
// is ten minutes, far more than the longest capture.
const maxChunks = 600

// cpuChunk is one CPU profile as runtime/pprof wrote it (gzipped protobuf) and the period it covers.
type cpuChunk struct {
	start, end time.Time
	data       []byte
}

// cpuSampler is the one user of pprof.StartCPUProfile in the process. It records the CPU profile as a
// sequence of chunks of chunkLen each (a new profile is started as soon as the previous one is stopped),
// and keeps the chunks that ended less than span ago: the ring. With span > 0 it records all the time;
// with span == 0 it records only while someone holds it (a capture, an on-demand request).
//
// Consumers never start or stop the runtime's profiler themselves: they take a hold from a time (so the
// chunks after it are kept), and ask for the chunks covering a window; a window ending now makes the
// sampler cut the current chunk short, so nobody waits for a chunk to end.
type cpuSampler struct {
	chunkLen time.Duration
	span     time.Duration

	mu         sync.Mutex
	running    bool          // our profile is on (or being cut: see cutting)
	cutting    bool          // run is stopping the current chunk, without mu
	cutAsked   bool          // a consumer wants the current chunk cut now
	cur        *bytes.Buffer // the current chunk's output
	curStart   time.Time
	chunks     []*cpuChunk // oldest first
	holds      map[*cpuHold]struct{}
	err        error         // why the last start failed; nil once one succeeds
	changed    chan struct{} // closed and replaced whenever chunks, running or err change
	closed     bool
	stats      cpuStats
	lastLength int // size of the last chunk, to size the next buffer

	wake chan struct{} // capacity 1: re-read the state
	quit chan struct{}
	done chan struct{}
}

// cpuStats counts what the sampler did; guarded by cpuSampler.mu.
type cpuStats struct {
	chunks   uint64
	stopTime time.Duration // total time spent in StopCPUProfile: samples are lost while it runs
	maxStop  time.Duration
	failures uint64
}

// cpuHold keeps the chunks that end after from.
type cpuHold struct {
	from time.Time
}

func newCPUSampler(chunkLen, span time.Duration) *cpuSampler {
	return &cpuSampler{
		chunkLen: chunkLen,
		span:     span,
		holds:    make(map[*cpuHold]struct{}),
		changed:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// start starts the sampler's goroutine; with a ring it first starts profiling, and fails if the CPU
// profiler is busy (the sampler is then closed).
func (s *cpuSampler) start() error {
	if s.span > 0 {
		s.mu.Lock()
		s.startLocked()
		err := s.err
		if err != nil {
			s.closed = true
			close(s.done)
		}
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
	go s.run()
	return nil
}

// demandLocked tells whether the sampler should be recording.
func (s *cpuSampler) demandLocked() bool {
	return !s.closed && (s.span > 0 || len(s.holds) > 0)
}

// startLocked starts a chunk; on failure it records why in s.err.
func (s *cpuSampler) startLocked() {
	buf := bytes.NewBuffer(make([]byte, 0, s.lastLength+s.lastLength/4))
	if err := pprof.StartCPUProfile(buf); err != nil {
		s.err = fmt.Errorf("profiling: %w: %v", ErrCPUBusy, err)
		s.stats.failures++
		s.broadcastLocked()
		return
	}
	s.running = true
	s.err = nil
	s.cur = buf
	s.curStart = time.Now()
	s.broadcastLocked()
}

func (s *cpuSampler) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *cpuSampler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run cuts chunks every chunkLen (or when a consumer asks), restarts profiling while there is demand,
// and retries every chunkLen when the CPU profiler is busy.
func (s *cpuSampler) run() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if !s.running && s.err == nil && s.demandLocked() {
			s.startLocked()
		}
		wait := time.Duration(-1)
		switch {
		case s.running && s.cutAsked:
			wait = 0
		case s.running:
			wait = max(s.chunkLen-time.Since(s.curStart), 0)
		case s.err != nil && s.demandLocked():
			wait = s.chunkLen // retry
		}
		s.mu.Unlock()

		if wait == 0 {
			select {
			case <-s.quit:
				s.stop()
				return
			default:
			}
			s.cut()
			continue
		}
		if wait > 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
		select {
		case <-s.quit:
			s.stop()
			return
		case <-s.wake:
		case <-timer.C:
			s.mu.Lock()
			running := s.running
			if !running {
				s.err = nil // retry a start that failed
			}
			s.mu.Unlock()
			if running {
				s.cut()
			}
		}
	}
}

// cut stops the current chunk, keeps it, and starts the next one if there is demand.
func (s *cpuSampler) cut() {
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return
	}
	s.cutting = true
	buf, start := s.cur, s.curStart
	s.mu.Unlock()

	stopStart := time.Now()
	pprof.StopCPUProfile()
	end := time.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutting, s.cutAsked, s.running, s.cur = false, false, false, nil
	s.chunks = append(s.chunks, &cpuChunk{start: start, end: end, data: buf.Bytes()})
	s.lastLength = buf.Len()
	s.stats.chunks++
	stop := end.Sub(stopStart)
	s.stats.stopTime += stop
	s.stats.maxStop = max(s.stats.maxStop, stop)
	s.evictLocked(end)
	if s.demandLocked() {
		s.startLocked()
	}
	s.broadcastLocked()
}

// evictLocked drops the chunks no one needs: those that ended more than span before now and before
// every hold's start.
func (s *cpuSampler) evictLocked(now time.Time) {
	keepAfter := now.Add(-s.span)
	for h := range s.holds {
		if h.from.Before(keepAfter) {
			keepAfter = h.from
		}
	}
	i := 0
	for i < len(s.chunks) && (!s.chunks[i].end.After(keepAfter) || len(s.chunks)-i > maxChunks) {
		s.chunks[i] = nil
		i++
	}
	if i > 0 {
		s.chunks = append(s.chunks[:0], s.chunks[i:]...)
	}
}

// stop ends profiling for good; called by run on quit.
func (s *cpuSampler) stop() {
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if running {
		pprof.StopCPUProfile()
	}
	s.mu.Lock()
	s.running, s.cur = false, nil
	s.broadcastLocked()
	s.mu.Unlock()
}

// close stops the sampler and waits for its goroutine; consumers waiting for chunks get what there is.
func (s *cpuSampler) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	<-s.done
}

// hold makes the sampler keep every chunk that ends after from, and record until release is called; it
// starts profiling if the sampler was idle, and fails (ErrCPUBusy) if that is not possible.
func (s *cpuSampler) hold(from time.Time) (*cpuHold, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if !s.running {
		s.startLocked()
		if !s.running {
			return nil, s.err
		}
		s.poke()
	}
	h := &cpuHold{from: from}
	s.holds[h] = struct{}{}
	return h, nil
}

// release drops a hold; without a ring, the sampler stops once nobody holds it.
func (s *cpuSampler) release(h *cpuHold) {
	s.mu.Lock()
	delete(s.holds, h)
	if !s.demandLocked() && s.running {
		s.cutAsked = true
		s.poke()
	}
	s.mu.Unlock()
}

// window returns the chunks that overlap [from, to] (to is clamped to now), cutting the current chunk if
// it started before to, so that the result covers up to to. It returns ErrCPUBusy (wrapped) if the
// sampler has nothing for the window because the CPU profiler was busy.
func (s *cpuSampler) window(ctx context.Context, from, to time.Time) ([]*cpuChunk, error) {
	if now := time.Now(); to.After(now) {
		to = now
	}
	for {
		s.mu.Lock()
		var lastEnd time.Time
		if n := len(s.chunks); n > 0 {
			lastEnd = s.chunks[n-1].end
		}
		if !lastEnd.Before(to) || !s.running || s.closed {
			var out []*cpuChunk
			for _, c := range s.chunks {
				if c.end.After(from) && c.start.Before(to) {
					out = append(out, c)
				}
			}
			err := s.err
			s.mu.Unlock()
			if len(out) == 0 {
				if err == nil {
					err = errors.New("profiling: no CPU profile covers the window")
				}
				return nil, err
			}
			return out, nil
		}
		if !s.cutAsked {
			s.cutAsked = true
			s.poke()
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// snapshotStats returns the sampler's counters.
func (s *cpuSampler) snapshotStats() cpuStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}
