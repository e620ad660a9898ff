package intake

import (
	"context"
	"errors"
	"time"

	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
)

// errStreamLimit is the answer (503) to a stream that found every stream slot busy for StreamWait.
var errStreamLimit = errors.New("unable to service request: too many concurrent intake streams")

// streamSlots caps the event streams decoded at once. Each slot is a decoder (with its line buffer of
// MaxEventSize bytes, its batch and its scratch space), made on first use and reused by the streams that
// take the slot after; so the cap bounds intake's memory whatever the number of connections. A stream
// that finds no free slot waits up to wait (APM Server waits on its decoder semaphore too), then is
// refused.
type streamSlots struct {
	slots chan *decoder.Decoder // a free slot holds its decoder, nil until first used
	opts  decoder.Options
	wait  time.Duration
	m     *metrics
}

func newStreamSlots(n int, wait time.Duration, opts decoder.Options, m *metrics) *streamSlots {
	s := &streamSlots{slots: make(chan *decoder.Decoder, n), opts: opts, wait: wait, m: m}
	for range n {
		s.slots <- nil
	}
	return s
}

// acquire takes a slot, waiting up to s.wait or until ctx is done, and returns its decoder. On success
// the caller must release it.
func (s *streamSlots) acquire(ctx context.Context) (*decoder.Decoder, error) {
	select {
	case d := <-s.slots:
		return s.took(d), nil
	default:
	}
	s.m.streamsWaiting.Inc()
	defer s.m.streamsWaiting.Dec()
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case d := <-s.slots:
		return s.took(d), nil
	case <-t.C:
		return nil, errStreamLimit
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *streamSlots) took(d *decoder.Decoder) *decoder.Decoder {
	s.m.streams.Inc()
	if d == nil {
		d = decoder.New(s.opts)
	}
	return d
}

// release frees the slot taken with acquire, keeping d for the next stream.
func (s *streamSlots) release(d *decoder.Decoder) {
	s.m.streams.Dec()
	s.slots <- d
}
