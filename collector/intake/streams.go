package intake

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
)

// errStreamLimit is the answer (503) to a stream that found every stream slot busy for StreamWait, or
// its client's share of them (Config.MaxStreamsPerClient) in use. APM Server's message for both:
// agents know it.
var errStreamLimit = errors.New("unable to service request: too many concurrent intake streams")

// errClientStreamLimit is errStreamLimit for a client that held its share of the slots: the same
// message, counted apart (reason client_stream_limit).
var errClientStreamLimit = &clientLimitError{}

type clientLimitError struct{}

func (*clientLimitError) Error() string        { return errStreamLimit.Error() }
func (*clientLimitError) Is(target error) bool { return target == errStreamLimit }

// streamSlots caps the event streams decoded at once, and keeps their decoders. A stream takes a slot
// (a token of slots) and a decoder (with its line buffer of MaxEventSize bytes, its batch and scratch
// space): the most recently used idle one, or a new one. So there are never more decoders than the
// most streams that ran at once, and the cap bounds intake's memory whatever the number of
// connections. A stream that finds no free slot waits up to wait (APM Server waits on its decoder
// semaphore too), then is refused.
//
// One client (a connection's peer address: an IPv4 address, an IPv6 /64) holds at most perClient
// slots at once, so one address that opens many slow streams cannot take every slot from the others;
// its streams past the share wait for one of its own to end (with a share of every slot, for the slots).
type streamSlots struct {
	slots     chan struct{} // holds a token per stream running
	opts      decoder.Options
	wait      time.Duration
	perClient int
	m         *metrics
	budget    *collector.MemoryBudget // charged cost per stream running, if set
	cost      int64

	lastTaken atomic.Int64 // Unix nanoseconds of the last slot taken

	mu    sync.Mutex           // guards idle, held and freed
	idle  []*decoder.Decoder   // most recently released last
	held  map[netip.Prefix]int // slots held per client, for clients holding any
	freed chan struct{}        // closed (and replaced) when a client gives a slot back
}

func newStreamSlots(n, perClient int, wait time.Duration, opts decoder.Options, m *metrics) *streamSlots {
	return &streamSlots{
		slots: make(chan struct{}, n), opts: opts, wait: wait, perClient: perClient, m: m,
		held: make(map[netip.Prefix]int), freed: make(chan struct{}),
	}
}

// charging makes each stream charge cost bytes to budget while it runs (none if cost is 0); a stream
// that finds the budget spent gets errMemoryBudget.
func (s *streamSlots) charging(budget *collector.MemoryBudget, cost int64) *streamSlots {
	if cost > 0 {
		s.budget, s.cost = budget, cost
	}
	return s
}

// clientOf returns the client a request counts against: its connection's peer, never a header (any
// client can write X-Forwarded-For). IPv6 clients are counted by /64, what one host usually has.
func clientOf(r *http.Request) netip.Prefix {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Prefix{} // not TCP (a test's recorder, a pipe): one client
	}
	return clientPrefix(ap.Addr())
}

func clientPrefix(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// acquire takes a slot for client, waiting up to s.wait or until ctx is done, and returns a decoder for
// the stream. On success the caller must release it.
func (s *streamSlots) acquire(ctx context.Context, client netip.Prefix) (*decoder.Decoder, error) {
	if err := s.take(ctx, client); err != nil {
		return nil, err
	}
	if s.budget != nil && !s.budget.TryCharge(collector.BudgetStreamSlots, s.cost) {
		s.release(nil, client)
		return nil, errMemoryBudget
	}
	return s.took(), nil
}

// take takes client's share first, then a slot, within one wait of s.wait.
func (s *streamSlots) take(ctx context.Context, client netip.Prefix) error {
	deadline := time.Now().Add(s.wait)
	if err := s.takeShare(ctx, client, deadline); err != nil {
		return err
	}
	if err := takeSlot(ctx, s.slots, time.Until(deadline), s.m.streamsWaiting, errStreamLimit); err != nil {
		s.giveShare(client)
		return err
	}
	s.m.streams.Inc()
	s.lastTaken.Store(time.Now().UnixNano())
	return nil
}

// takeShare counts a slot against client, waiting until deadline for one of its slots to be given back
// if it holds its share.
func (s *streamSlots) takeShare(ctx context.Context, client netip.Prefix, deadline time.Time) error {
	var t *time.Timer
	for {
		s.mu.Lock()
		if s.held[client] < s.perClient || s.perClient >= cap(s.slots) {
			s.held[client]++
			s.mu.Unlock()
			return nil
		}
		freed := s.freed
		s.mu.Unlock()
		if t == nil {
			s.m.streamsWaiting.Inc()
			defer s.m.streamsWaiting.Dec()
			t = time.NewTimer(time.Until(deadline))
			defer t.Stop()
		}
		select {
		case <-freed:
		case <-t.C:
			return errClientStreamLimit
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *streamSlots) giveShare(client netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[client]--; s.held[client] <= 0 {
		delete(s.held, client)
	}
	close(s.freed)
	s.freed = make(chan struct{})
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

// dropIdle reports whether no slot was taken since quiet ago and none is in use, and if so lets go of
// the decoders kept for later streams: the memory is then the garbage collector's to return, so that a
// collector whose load has ended does not keep a decoder per slot that ran.
func (s *streamSlots) dropIdle(quiet time.Duration) bool {
	if time.Since(time.Unix(0, s.lastTaken.Load())) < quiet || len(s.slots) > 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.idle)
	s.idle = s.idle[:0:0]
	return true
}

func (s *streamSlots) took() *decoder.Decoder {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.idle); n > 0 {
		d := s.idle[n-1]
		s.idle = s.idle[:n-1]
		return d
	}
	return decoder.New(s.opts)
}

// release frees client's slot taken with acquire, keeping d (if not nil) for the next stream.
func (s *streamSlots) release(d *decoder.Decoder, client netip.Prefix) {
	if d != nil {
		s.mu.Lock()
		s.idle = append(s.idle, d)
		s.mu.Unlock()
		if s.budget != nil {
			s.budget.Release(collector.BudgetStreamSlots, s.cost)
		}
	}
	s.m.streams.Dec()
	<-s.slots
	s.giveShare(client)
}
