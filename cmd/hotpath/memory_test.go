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
