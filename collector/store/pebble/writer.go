package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// maxNamesCached bounds the writer's memory of names written in the current partition; past it, names
// are written again with every batch (harmless, only slower).
const maxNamesCached = 100_000

// ProcessBatch stores b and returns once it is durably committed (fsynced), sharing the fsync with the
// batches of concurrent callers (group commit). It does not retain b. It returns
// collector.ErrQueueFull when the queue stays full for Config.EnqueueTimeout, ErrDiskBudget (which is
// also ErrQueueFull) when the disk budget is reached and a cursor holds the data, ctx's error if ctx
// ends while waiting for room, and collector.ErrShuttingDown once Close has been called. A batch that
// was queued is committed even if ctx ends meanwhile: ProcessBatch waits for that commit.
func (s *Store) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	wait, err := s.EnqueueBatch(ctx, b)
	if err != nil {
		return err
	}
	return wait()
}

// EnqueueBatch is ProcessBatch in two steps, so that one caller can have several batches in flight (the
// intake's pipelining of a stream, intake.BatchEnqueuer): it encodes and queues b and returns at once,
// with the errors of ProcessBatch's refusals; wait, called exactly once, blocks until the batch is
// durable (nil) or its commit failed. Batches are committed in the order they were queued. b may be
// reused as soon as EnqueueBatch returns.
func (s *Store) EnqueueBatch(ctx context.Context, b *collector.Batch) (wait func() error, err error) {
	if s.closing.Load() {
		s.metrics.rejected.WithLabelValues("shutting_down").Inc()
		return nil, collector.ErrShuttingDown
	}
	if err := s.full.Load(); err != nil {
		s.metrics.rejected.WithLabelValues("disk_budget").Inc()
		return nil, *err
	}
	if b == nil || len(*b) == 0 {
		return func() error { return nil }, nil
	}
	r := s.reqPool.Get().(*request)
	r.prepare(*b)
	if err := s.q.push(ctx, r, s.cfg.EnqueueTimeout, s.metrics); err != nil {
		s.reqPool.Put(r)
		switch err {
		case collector.ErrQueueFull:
			s.metrics.rejected.WithLabelValues("queue_full").Inc()
		case collector.ErrShuttingDown:
			s.metrics.rejected.WithLabelValues("shutting_down").Inc()
		}
		return nil, err
	}
	return func() error {
		err := <-r.done
		s.reqPool.Put(r)
		return err
	}, nil
}

// queue is the bounded queue between ProcessBatch and the writer, bounded by the bytes its requests
// hold; a request's bytes count until its commit is done.
type queue struct {
	mu     sync.Mutex
	reqs   []*request    // waiting for the writer; guarded by mu
	bytes  int           // held by queued and committing requests; guarded by mu
	max    int           // bound on bytes
	closed bool          // guarded by mu
	space  chan struct{} // closed and replaced when bytes shrink; guarded by mu
	ready  chan struct{} // wakes the writer (capacity 1)
}

func newQueue(max int) *queue {
	return &queue{max: max, space: make(chan struct{}), ready: make(chan struct{}, 1)}
}

func (q *queue) push(ctx context.Context, r *request, timeout time.Duration, m *metrics) error {
	n := r.size()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return collector.ErrShuttingDown
		}
		if q.bytes == 0 || q.bytes+n <= q.max {
			q.reqs = append(q.reqs, r)
			q.bytes += n
			m.queueRequests.Inc()
			m.queueBytes.Add(float64(n))
			q.mu.Unlock()
			select {
			case q.ready <- struct{}{}:
			default:
			}
			return nil
		}
		space := q.space
		q.mu.Unlock()
		if timeout < 0 {
			return collector.ErrQueueFull
		}
		if timer == nil {
			timer = time.NewTimer(timeout)
		}
		select {
		case <-space:
		case <-timer.C:
			return collector.ErrQueueFull
		case <-ctx.Done():
			return fmt.Errorf("store: waiting for queue space: %w", ctx.Err())
		}
	}
}

// take waits for queued requests and returns those that fit in maxBytes (at least one), or nil once the
// queue is closed and empty.
func (q *queue) take(dst []*request, maxBytes int) []*request {
	for {
		q.mu.Lock()
		if len(q.reqs) > 0 {
			n, size := 0, 0
			for n < len(q.reqs) && (n == 0 || size+q.reqs[n].size() <= maxBytes) {
				size += q.reqs[n].size()
				n++
			}
			dst = append(dst[:0], q.reqs[:n]...)
			rest := copy(q.reqs, q.reqs[n:])
			clear(q.reqs[rest:])
			q.reqs = q.reqs[:rest]
			q.mu.Unlock()
			return dst
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil
		}
		<-q.ready
	}
}

// release returns the bytes of committed requests and wakes waiting pushers.
func (q *queue) release(reqs []*request, m *metrics) {
	n := 0
	for _, r := range reqs {
		n += r.size()
	}
	q.mu.Lock()
	q.bytes -= n
	close(q.space)
	q.space = make(chan struct{})
	q.mu.Unlock()
	m.queueRequests.Sub(float64(len(reqs)))
	m.queueBytes.Sub(float64(n))
}

func (q *queue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.space)
		q.space = make(chan struct{})
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// writeLoop is the single writer: it commits queued requests in groups, one fsync per group, until the
// queue is closed and drained. Sequence numbers are assigned here, so they are committed in order and
// a reader never sees a gap that a slower commit fills later.
func (s *Store) writeLoop() {
	defer s.wg.Done()
	var reqs []*request
	for {
		reqs = s.q.take(reqs, s.cfg.MaxCommitBytes)
		if reqs == nil {
			return
		}
		// Release the queue bytes before answering: a caller that gets its answer may push again at once.
		err := s.commit(reqs)
		s.q.release(reqs, s.metrics)
		for _, r := range reqs {
			r.done <- err
		}
		clear(reqs)
	}
}

// commit writes reqs in one Pebble batch and fsyncs it.
func (s *Store) commit(reqs []*request) error {
	start := time.Now()
	p := partitionOf(s.cfg.Now())
	cur, ok := s.parts.last()
	if ok && p < cur.P {
		p = cur.P // the clock went back: stay in the newest partition, sequence numbers must stay ordered
	}
	if !ok || cur.P != p {
		cur = partition{P: p, FirstSeq: s.seq + 1, MinTS: 1<<63 - 1, MaxTS: -1 << 63}
	}
	if s.namesPart != p {
		clear(s.names)
		s.namesPart = p
	}

	committed := false
	defer func() {
		if !committed {
			clear(s.names) // some of them were not written
		}
	}()
	batch := s.db.NewBatch()
	defer batch.Close()
	var key [1 + 4 + 8]byte
	seq := s.seq
	nbytes := 0
	for _, r := range reqs {
		base := seq
		for _, ev := range r.events {
			seq++
			v := r.bytes(ev)
			nbytes += len(v)
			if err := batch.Set(eventKey(key[:0], seq), v, nil); err != nil {
				return fmt.Errorf("store: write batch: %w", err)
			}
		}
		for i := range r.entries {
			en := &r.entries[i]
			body := r.bytes(en.body)
			if en.ks == ksNames {
				if _, ok := s.names[string(body)]; ok {
					continue
				}
				if len(s.names) < maxNamesCached {
					s.names[string(body)] = struct{}{}
				}
			}
			part := p
			if en.ks == ksTrace {
				part = p / partitionsPerDay
			}
			withSeq := en.ks != ksNames
			klen := 5 + len(body)
			if withSeq {
				klen += 8
			}
			op := batch.SetDeferred(klen, int(en.value.end-en.value.off))
			k := op.Key[:0]
			k = partKey(k, en.ks, part)
			k = append(k, body...)
			if withSeq {
				binary.BigEndian.AppendUint64(k, base+uint64(en.ev)+1)
			}
			copy(op.Value, r.bytes(en.value))
			op.Finish()
		}
		cur.MinTS = min(cur.MinTS, r.minTS)
		cur.MaxTS = max(cur.MaxTS, r.maxTS)
		cur.Events += uint64(len(r.events))
	}
	if err := s.commitAggregates(batch, p, reqs); err != nil {
		return err
	}
	cur.LastSeq = seq
	cur.Bytes += uint64(nbytes)
	var meta [partitionMetaSize]byte
	if err := batch.Set(partKey(key[:0], ksPartition, p), cur.marshal(meta[:0]), nil); err != nil {
		return fmt.Errorf("store: write batch: %w", err)
	}
	if err := batch.Set(metaKey("seq"), binary.BigEndian.AppendUint64(nil, seq), nil); err != nil {
		return fmt.Errorf("store: write batch: %w", err)
	}
	if err := batch.Commit(pebbledb.Sync); err != nil {
		return fmt.Errorf("store: commit %d events: %w", seq-s.seq, err)
	}
	committed = true
	events := seq - s.seq
	s.seq = seq
	s.parts.put(cur)
	s.publish(seq)
	s.metrics.commitSeconds.Observe(time.Since(start).Seconds())
	s.metrics.commitEvents.Observe(float64(events))
	s.metrics.events.Add(float64(events))
	s.metrics.retainedEvents.Add(float64(events))
	if s.cfg.MaxDisk > 0 {
		s.sinceKick += nbytes
		if int64(s.sinceKick) > s.cfg.MaxDisk/50 {
			s.sinceKick = 0
			s.kickRetention()
		}
	}
	return nil
}

func (s *Store) kickRetention() {
	select {
	case s.retention <- struct{}{}:
	default:
	}
}
