package intake

import (
	"context"
	"errors"

	"github.com/hotpath-apm/hotpath/collector"
)

// errMemoryBudget ends a stream (503) that would take intake's decoded bytes past Config.MemoryBudget.
var errMemoryBudget = errors.New("unable to service request: intake memory budget exceeded, retry later")

// memoryBudget bounds the memory that decoded events waiting for the Processor hold, across all
// streams. A decoder's batch holds BatchSize events, and an event may be MaxEventSize bytes: without a
// bound across streams, MaxConcurrentStreams × BatchSize × MaxEventSize bytes could be held at once
// under a flood of large events.
//
// Each stream counts the decompressed bytes it reads between two batches handed over (ProcessBatch or
// EnqueueBatch returned: the Processor has copied the batch). The first `free` of them (the decoder's
// line buffer, MaxEventSize, a fixed cost of each stream slot) are not charged: they may be read ahead
// rather than held by the batch. The rest are charged to the budget until the batch is handed over; a
// read that takes the total past the limit ends its stream with a 503, which agents retry. So the
// batches of all streams hold at most the budget plus a line buffer or two per stream.
//
// The budget is a collector.MemoryBudget (part BudgetDecoded) that the stream slots (BudgetStreamSlots)
// and the store's queue may share: Config.Budget.
type memoryBudget struct {
	shared *collector.MemoryBudget
	free   int64 // bytes per stream and batch not charged
	m      *metrics
}

// streamBudget is one stream's share of the memory budget.
type streamBudget struct {
	b    *memoryBudget
	read int64 // since the last batch was handed over
	held int64 // charged to the budget
}

// take counts n more bytes read by the stream; past the limit it returns errMemoryBudget (what is
// charged stays charged until release).
func (s *streamBudget) take(n int) error {
	s.read += int64(n)
	charge := s.read - s.b.free - s.held
	if charge <= 0 {
		return nil
	}
	s.held += charge
	ok := s.b.shared.Charge(collector.BudgetDecoded, charge)
	s.b.m.memoryInUse.Set(float64(s.b.shared.InUse(collector.BudgetDecoded)))
	if !ok {
		return errMemoryBudget
	}
	return nil
}

// release gives back everything the stream holds: its batch was handed over.
func (s *streamBudget) release() {
	s.read = 0
	if s.held == 0 {
		return
	}
	s.b.shared.Release(collector.BudgetDecoded, s.held)
	s.b.m.memoryInUse.Set(float64(s.b.shared.InUse(collector.BudgetDecoded)))
	s.held = 0
}

// releasing wraps a stream's Processor so that the stream's bytes are given back once each batch is
// handed over.
func (s *streamBudget) releasing(p collector.BatchProcessor) collector.BatchProcessor {
	return collector.ProcessBatchFunc(func(ctx context.Context, b *collector.Batch) error {
		err := p.ProcessBatch(ctx, b)
		s.release()
		return err
	})
}
