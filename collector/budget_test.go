package collector

import "testing"

// TestMemoryBudget at its boundary: TryCharge takes exactly up to the limit and not a byte more;
// Charge always counts and says whether the total is within the limit; Release gives back per part.
func TestMemoryBudget(t *testing.T) {
	b := NewMemoryBudget(100)
	if !b.TryCharge(BudgetStreamSlots, 60) || !b.TryCharge(BudgetStoreQueue, 40) {
		t.Fatal("charges up to the limit refused")
	}
	if b.TryCharge(BudgetDecoded, 1) {
		t.Fatal("a byte past the limit taken")
	}
	if b.Charge(BudgetDecoded, 1) {
		t.Error("Charge past the limit reported within it")
	}
	if b.Total() != 101 || b.InUse(BudgetDecoded) != 1 {
		t.Errorf("total %d, decoded %d", b.Total(), b.InUse(BudgetDecoded))
	}
	b.Release(BudgetDecoded, 1)
	b.Release(BudgetStreamSlots, 60)
	if b.Total() != 40 || b.InUse(BudgetStreamSlots) != 0 || b.InUse(BudgetStoreQueue) != 40 {
		t.Errorf("after release: total %d, slots %d, queue %d", b.Total(), b.InUse(BudgetStreamSlots), b.InUse(BudgetStoreQueue))
	}
	if !b.Charge(BudgetDecoded, 60) {
		t.Error("Charge to exactly the limit reported past it")
	}
	for _, p := range BudgetParts() {
		if p.String() == "unknown" {
			t.Errorf("part %d has no name", p)
		}
	}
}
