package main

import (
	"bytes"
	"testing"
)

// TestMemoryPlan: --memory-limit's default and its division; Pebble's share and the Go runtime's limit
// add up to the total, and the shared budget fits in the Go runtime's limit with room to collect.
func TestMemoryPlan(t *testing.T) {
	cfg, err := parseCollectorFlags(nil, envMap(nil), new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.memoryLimit != 384<<20 {
		t.Errorf("default --memory-limit %d", cfg.memoryLimit)
	}
	cfg, err = parseCollectorFlags(nil, envMap(map[string]string{"HOTPATH_MEMORY_LIMIT": "1GiB"}), new(bytes.Buffer))
	if err != nil || cfg.memoryLimit != 1<<30 {
		t.Fatalf("HOTPATH_MEMORY_LIMIT=1GiB: %d %v", cfg.memoryLimit, err)
	}
	for _, total := range []int64{64 << 20, 384 << 20, 1 << 30} {
		p := planMemory(total)
		if p.goLimit+p.cacheBytes+3*p.memTableBytes != total {
			t.Errorf("%d: Go %d + cache %d + 3 memtables of %d is not the total", total, p.goLimit, p.cacheBytes, p.memTableBytes)
		}
		if p.budget*3/2 > p.goLimit {
			t.Errorf("%d: budget %d leaves the Go runtime's limit %d less than half again as much", total, p.budget, p.goLimit)
		}
	}
}

// TestMemoryReturner: memory is returned on the 1st, 2nd, 4th and 8th quiet tick in a row, and on
// another quiet tick only once the heap has grown by the regrowth since it was last returned (one byte
// short does nothing); a tick with load starts the count over.
func TestMemoryReturner(t *testing.T) {
	const mib = 1 << 20
	var held uint64
	frees := 0
	r := memoryReturner{regrowth: 32 * mib, held: func() uint64 { return held }, free: func() { frees++; held = 20 * mib }}
	for i, step := range []struct {
		quiet bool
		held  uint64 // before the tick
		frees int    // after it
	}{
		{false, 300 * mib, 0}, // load
		{true, 300 * mib, 1},  // quiet tick 1: returned, 20 MiB left
		{true, 25 * mib, 2},   // 2: returned again (what the compactions left)
		{true, 51 * mib, 2},   // 3: 31 MiB more is not enough
		{true, 30 * mib, 3},   // 4
		{true, 52*mib - 1, 3}, // 5: one byte short of the regrowth
		{true, 52 * mib, 4},   // 6: the regrowth
		{true, 20 * mib, 4},   // 7
		{true, 20 * mib, 5},   // 8
		{true, 20 * mib, 5},   // 9 to 15: nothing forced
		{true, 20 * mib, 5}, {true, 20 * mib, 5}, {true, 20 * mib, 5}, {true, 20 * mib, 5}, {true, 20 * mib, 5},
		{true, 20 * mib, 5},
		{true, 20 * mib, 6},   // 16
		{false, 200 * mib, 6}, // load again
		{true, 30 * mib, 7},   // quiet tick 1
	} {
		held = step.held
		r.tick(step.quiet)
		if frees != step.frees {
			t.Fatalf("step %d (quiet %v, %d MiB held): %d returns, want %d", i, step.quiet, step.held/mib, frees, step.frees)
		}
	}
}
