package pebble

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// queue is the bounded queue between ProcessBatch and the writer, bounded by the bytes its pending writes
// hold; a pending write's bytes count until its commit is done.
type queue struct {
	budget *collector.MemoryBudget // charged with bytes too, if set (Config.Budget)
	mu     sync.Mutex
	reqs   []*pendingWrite // waiting for the writer; guarded by mu
	bytes  int             // held by queued and committing pending writes; guarded by mu
	max    int             // bound on bytes
	closed bool            // guarded by mu
	space  chan struct{}   // closed and replaced when bytes shrink; guarded by mu
	ready  chan struct{}   // wakes the writer (capacity 1)
}

func newQueue(max int, budget *collector.MemoryBudget) *queue {
	return &queue{budget: budget, max: max, space: make(chan struct{}), ready: make(chan struct{}, 1)}
}

// fits reports whether n more bytes may be queued, and if so charges them to the budget. An empty queue
// takes a batch whatever its size and the budget, so that the store always makes progress.
func (q *queue) fits(n int) bool {
	if q.bytes == 0 {
		if q.budget != nil {
			q.budget.Charge(collector.BudgetStoreQueue, int64(n))
		}
		return true
	}
	return q.bytes+n <= q.max && (q.budget == nil || q.budget.TryCharge(collector.BudgetStoreQueue, int64(n)))
}

func (q *queue) push(ctx context.Context, r *pendingWrite, timeout time.Duration, m *metrics) error {
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
		if q.fits(n) {
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

// take waits for queued pending writes and returns those that fit in maxBytes (at least one), or nil once the
// queue is closed and empty.
func (q *queue) take(dst []*pendingWrite, maxBytes int) []*pendingWrite {
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

// release returns the bytes of committed pending writes and wakes waiting pushers.
func (q *queue) release(reqs []*pendingWrite, m *metrics) {
	n := 0
	for _, r := range reqs {
		n += r.size()
	}
	if q.budget != nil {
		q.budget.Release(collector.BudgetStoreQueue, int64(n))
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
