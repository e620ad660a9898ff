package main

import (
	"context"
	"math"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/collector"
)

// defaultMemoryLimit is --memory-limit's default: the collector stays under 512 MiB of resident memory
// at any load (BENCHMARKS.md, "Memory under overload").
const defaultMemoryLimit = 384 << 20

// memoryPlan divides the collector's memory limit (--memory-limit) between what holds memory:
//
//   - budget: the one collector.MemoryBudget that intake's stream slots (a decoder each while its
//     stream runs), the decoded batches not yet handed to the store, and the store's queue of batches
//     waiting for a commit share; what would take it past its size is refused with 503, which agents
//     retry. 7/16 of the limit.
//   - Pebble's block cache (a tenth) and memtables (a twentieth each; usually two exist, one being
//     filled and one being flushed), allocated outside the Go heap.
//   - goLimit: the Go runtime's soft limit (runtime/debug.SetMemoryLimit): the limit less Pebble's
//     cache and three memtables. The garbage collector works harder as the heap nears it instead of
//     letting it double (GOGC), and the runtime returns memory to the system to stay under it.
//
// The budget is less than goLimit by the rest of the collector's heap (aggregates, Pebble's Go-side
// structures, the decoders of idle slots) and room for the collector to collect in.
type memoryPlan struct {
	total, budget, cacheBytes, memTableBytes, goLimit int64
}

func planMemory(total int64) memoryPlan {
	p := memoryPlan{total: total, budget: total * 7 / 16, cacheBytes: total / 10, memTableBytes: total / 20}
	p.goLimit = total - p.cacheBytes - 3*p.memTableBytes
	return p
}

// apply sets the Go runtime's memory limit, unless GOMEMLIMIT already set a lower one. `hotpath
// collector` applies it; the demo, whose process also runs the services and the load, does not.
func (p memoryPlan) apply() {
	if cur := debug.SetMemoryLimit(-1); cur == math.MaxInt64 || cur > p.goLimit {
		debug.SetMemoryLimit(p.goLimit)
	}
}

// registerMemoryMetrics exports the plan and the budget's use: hotpath_memory_limit_bytes{part} (total,
// budget, go_runtime, pebble_cache, pebble_memtable) and hotpath_memory_budget_in_use_bytes{part}
// (stream_slots, decoded, store_queue).
func registerMemoryMetrics(reg prometheus.Registerer, p memoryPlan, b *collector.MemoryBudget) error {
	limits := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "hotpath_memory_limit_bytes",
		Help: "The collector's memory limit (--memory-limit) and its parts: the budget the stream slots, decoded batches and store queue share, the Go runtime's soft limit, Pebble's cache and memtable size.",
	}, []string{"part"})
	for part, v := range map[string]int64{"total": p.total, "budget": p.budget, "go_runtime": p.goLimit, "pebble_cache": p.cacheBytes, "pebble_memtable": p.memTableBytes} {
		limits.WithLabelValues(part).Set(float64(v))
	}
	if err := reg.Register(limits); err != nil {
		return err
	}
	for _, part := range collector.BudgetParts() {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "hotpath_memory_budget_in_use_bytes",
			Help:        "Bytes charged to the shared memory budget (hotpath_memory_limit_bytes{part=\"budget\"}), by part.",
			ConstLabels: prometheus.Labels{"part": part.String()},
		}, func() float64 { return float64(b.InUse(part)) })
		if err := reg.Register(g); err != nil {
			return err
		}
	}
	return nil
}

// returnIdleMemory gives memory back to the system once a burst of load is over: every interval, if
// no intake stream ran for interval, intake lets go of its idle decoders and the heap is collected and
// returned (debug.FreeOSMemory; once per burst, as the decoders are gone afterwards).
func returnIdleMemory(ctx context.Context, interval time.Duration, releaseIdle func(quiet time.Duration) bool) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if releaseIdle(interval) {
				debug.FreeOSMemory()
			}
		}
	}
}
