package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
)

// BatchEnqueuer is a Processor that can take a batch without waiting for it to be durable. When
// Config.Processor implements it, intake keeps decoding a stream while the stream's earlier batches
// commit, and answers only once every one of them is durable: a single stream (an agent sends one at a
// time) then goes as fast as the store's group commit allows, instead of waiting one commit per batch.
//
// EnqueueBatch must copy what it needs from b before it returns (the caller reuses b, as after
// ProcessBatch), may refuse the batch at once (collector.ErrQueueFull, collector.ErrShuttingDown), and
// otherwise returns wait, which blocks until the batch is durable (nil) or has failed. wait is called
// exactly once.
type BatchEnqueuer interface {
	collector.BatchProcessor
	EnqueueBatch(ctx context.Context, b *collector.Batch) (wait func() error, err error)
}

// pipeline is the BatchProcessor a stream's decoder feeds when the Processor is a BatchEnqueuer: it
// enriches each batch, enqueues it, and keeps at most max batches in flight, waiting for the oldest
// before enqueuing more.
type pipeline struct {
	enq      BatchEnqueuer
	enrich   *enrich.Processor
	max      int
	inflight []inflightBatch // oldest first
	failed   error           // the first wait that failed
	lost     int             // events of batches that were enqueued, then failed
}

type inflightBatch struct {
	wait func() error
	n    int // events in the batch as the decoder counted them (before enrich dropped any)
}

// ProcessBatch enqueues b. After a batch has failed it refuses every later one, so the stream ends as
// it would have with ProcessBatch.
func (p *pipeline) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	n := len(*b)
	for p.failed == nil && len(p.inflight) >= p.max {
		p.reapOldest()
	}
	if p.failed != nil {
		return p.failed
	}
	p.enrich.Process(b)
	wait, err := p.enq.EnqueueBatch(ctx, b)
	if err != nil {
		return err
	}
	p.inflight = append(p.inflight, inflightBatch{wait: wait, n: n})
	return nil
}

func (p *pipeline) reapOldest() {
	ib := p.inflight[0]
	p.inflight = p.inflight[1:]
	if err := ib.wait(); err != nil {
		p.lost += ib.n
		if p.failed == nil {
			p.failed = err
		}
	}
}

// finish waits for every batch in flight. It returns how many events the decoder counted as accepted
// that are not durable, and, if the stream's last batches failed after the decoder finished, the error
// worded as the decoder words a Processor's.
func (p *pipeline) finish(decodeErr error) (lost int, err error) {
	for len(p.inflight) > 0 {
		p.reapOldest()
	}
	if p.failed != nil && !errors.Is(decodeErr, p.failed) {
		err = fmt.Errorf("cannot handle stream: cannot process batch: %w", p.failed)
	}
	return p.lost, err
}
