package intake

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	if err := takeSlot(ctx, s.slots, s.wait, s.m.streamsWaiting, errStreamLimit); err != nil {
		return nil, err
	}
	return s.took(), nil
}

// takeSlot puts a token in slots (a semaphore of cap(slots) tokens; receiving one frees it): at once if
// there is room, else waiting up to wait, counted in waiting (if not nil), then failing with full, or
// with ctx's error if ctx is done first.
func takeSlot(ctx context.Context, slots chan<- struct{}, wait time.Duration, waiting prometheus.Gauge, full error) error {
	select {
	case slots <- struct{}{}:
		return nil
	default:
	}
	if waiting != nil {
		waiting.Inc()
		defer waiting.Dec()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return nil
	case <-t.C:
		return full
	case <-ctx.Done():
		return ctx.Err()
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
