package main

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
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
// intake has been quiet for interval, it lets go of its idle decoders and a memoryReturner decides
// whether the heap is collected and returned (debug.FreeOSMemory).
func returnIdleMemory(ctx context.Context, interval time.Duration, releaseIdle func(quiet time.Duration) bool) {
	r := memoryReturner{regrowth: memoryRegrowth, held: heapHeld, free: debug.FreeOSMemory}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.tick(releaseIdle(interval))
		}
	}
}

// memoryRegrowth is how much the heap may grow again while intake is quiet before it is returned once
// more.
const memoryRegrowth = 32 << 20

// memoryReturner returns the heap's memory while intake is quiet: on the 1st, 2nd, 4th, 8th... quiet tick
// in a row (5, 10, 20, 40 s... after a burst, with cmd/hotpath's interval), and on any quiet tick on which
// the heap has grown by regrowth since it was last returned. The store's compactions and the exporter go
// on after a burst, and what they leave is garbage that only a collection finds, which an idle process
// otherwise runs every two minutes (the runtime's forced collection), its pages then returned at the
// background scavenger's pace; doubling the wait keeps the collections forced on an idle collector to
// ten in its first idle hour and one every doubling after.
type memoryReturner struct {
	regrowth uint64
	held     func() uint64 // the heap memory the runtime holds from the system
	free     func()        // collect and return it

	quietTicks int    // quiet ticks in a row
	after      uint64 // held right after the last return
}

// tick is one check: quiet says whether intake was quiet.
func (r *memoryReturner) tick(quiet bool) {
	if !quiet {
		r.quietTicks = 0
		return
	}
	r.quietTicks++
	if r.quietTicks&(r.quietTicks-1) != 0 && r.held() < r.after+r.regrowth {
		return
	}
	r.free()
	r.after = r.held()
}

// heapHeld is the Go heap's memory that the runtime holds from the system: mapped and not returned.
func heapHeld() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64() + s[2].Value.Uint64()
}
