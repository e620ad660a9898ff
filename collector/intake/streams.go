package intake

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
)

// errStreamLimit is the answer (503) to a stream that found every stream slot busy for StreamWait.
var errStreamLimit = errors.New("unable to service request: too many concurrent intake streams")

// streamSlots caps the event streams decoded at once, and keeps their decoders. A stream takes a slot
// (a token of slots) and a decoder (with its line buffer of MaxEventSize bytes, its batch and scratch
// space): the most recently used idle one, or a new one. So there are never more decoders than the
// most streams that ran at once, and the cap bounds intake's memory whatever the number of
// connections. A stream that finds no free slot waits up to wait (APM Server waits on its decoder
// semaphore too), then is refused.
type streamSlots struct {
	slots chan struct{} // holds a token per stream running
	opts  decoder.Options
	wait  time.Duration
	m     *metrics

	mu   sync.Mutex         // guards idle
	idle []*decoder.Decoder // most recently released last
}

func newStreamSlots(n int, wait time.Duration, opts decoder.Options, m *metrics) *streamSlots {
	return &streamSlots{slots: make(chan struct{}, n), opts: opts, wait: wait, m: m}
}

// acquire takes a slot, waiting up to s.wait or until ctx is done, and returns a decoder for the
// stream. On success the caller must release it.
func (s *streamSlots) acquire(ctx context.Context) (*decoder.Decoder, error) {
	select {
	case s.slots <- struct{}{}:
		return s.took(), nil
	default:
	}
	s.m.streamsWaiting.Inc()
	defer s.m.streamsWaiting.Dec()
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return s.took(), nil
	case <-t.C:
		return nil, errStreamLimit
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *streamSlots) took() *decoder.Decoder {
	s.m.streams.Inc()
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.idle); n > 0 {
		d := s.idle[n-1]
		s.idle = s.idle[:n-1]
		return d
	}
	return decoder.New(s.opts)
}

// release frees the slot taken with acquire, keeping d for the next stream.
func (s *streamSlots) release(d *decoder.Decoder) {
	s.mu.Lock()
	s.idle = append(s.idle, d)
	s.mu.Unlock()
	s.m.streams.Dec()
	<-s.slots
}
