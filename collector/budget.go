package collector

import "sync/atomic"

// MemoryBudget is the memory the collector's working data may hold, one budget that its parts share:
// intake's stream slots (each slot's decoder: line buffer, batch and scratch blocks), the decoded
// bytes of batches not yet handed to the store, and the store's queue of batches waiting for a commit.
// Each part charges what it holds and releases it when done; a part that would take the total past
// the limit refuses its work (intake answers 503, which agents retry; nothing acknowledged is lost).
// So under any load these parts together hold at most about the limit. Its methods are safe for
// concurrent use; the zero value is not usable: use NewMemoryBudget.
type MemoryBudget struct {
	limit int64
	inUse [budgetParts]atomic.Int64
	total atomic.Int64
}

// BudgetPart names a part that charges a MemoryBudget.
type BudgetPart int

// The parts charging a MemoryBudget.
const (
	BudgetStreamSlots BudgetPart = iota // intake: a stream slot's decoder, for as long as the stream runs
	BudgetDecoded                       // intake: decoded bytes of a batch not yet handed over
	BudgetStoreQueue                    // the store: batches queued or being committed
	budgetParts
)

// String is the part's name, as in the metric label part="...".
func (p BudgetPart) String() string {
	switch p {
	case BudgetStreamSlots:
		return "stream_slots"
	case BudgetDecoded:
		return "decoded"
	case BudgetStoreQueue:
		return "store_queue"
	}
	return "unknown"
}

// BudgetParts lists the parts, for metrics.
func BudgetParts() []BudgetPart {
	return []BudgetPart{BudgetStreamSlots, BudgetDecoded, BudgetStoreQueue}
}

// NewMemoryBudget returns a budget of limit bytes.
func NewMemoryBudget(limit int64) *MemoryBudget { return &MemoryBudget{limit: limit} }

// Limit is the budget's size in bytes.
func (b *MemoryBudget) Limit() int64 { return b.limit }

// InUse is what part holds now.
func (b *MemoryBudget) InUse(part BudgetPart) int64 { return b.inUse[part].Load() }

// Total is what all parts hold now.
func (b *MemoryBudget) Total() int64 { return b.total.Load() }

// Charge counts n more bytes held by part and reports whether the total is still within the limit.
// The charge stands either way, until Release: a caller that gives up releases it.
func (b *MemoryBudget) Charge(part BudgetPart, n int64) bool {
	b.inUse[part].Add(n)
	return b.total.Add(n) <= b.limit
}

// TryCharge charges n bytes to part only if the total stays within the limit, and reports whether it
// did.
func (b *MemoryBudget) TryCharge(part BudgetPart, n int64) bool {
	for {
		t := b.total.Load()
		if t+n > b.limit {
			return false
		}
		if b.total.CompareAndSwap(t, t+n) {
			b.inUse[part].Add(n)
			return true
		}
	}
}

// Release gives back n bytes part held.
func (b *MemoryBudget) Release(part BudgetPart, n int64) {
	b.inUse[part].Add(-n)
	b.total.Add(-n)
}
