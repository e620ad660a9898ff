package profiling

import (
	"math"
	"runtime"
	"runtime/metrics"
	"time"
)

// Resource names a process resource a trigger watches.
type Resource string

// The resources, and the unit of their values (Rule thresholds, ResourceEvent values).
const (
	// ResourceCPU is the process's CPU use over the last check interval, in percent of GOMAXPROCS
	// CPUs (100 = every P busy), from getrusage (runtime/metrics' /cpu/classes are only updated at GC).
	ResourceCPU Resource = "cpu"
	// ResourceHeap is the heap marked live by the last GC, in bytes (/gc/heap/live:bytes).
	ResourceHeap Resource = "heap"
	// ResourceGoroutines is the number of live goroutines (/sched/goroutines:goroutines).
	ResourceGoroutines Resource = "goroutines"
	// ResourceSchedLatency is the 99th percentile of the time goroutines waited to run after becoming
	// runnable, over the last check interval, in seconds (/sched/latencies:seconds).
	ResourceSchedLatency Resource = "sched_latency"
)

// resources lists the resources in the order they are checked.
var resources = [...]Resource{ResourceCPU, ResourceHeap, ResourceGoroutines, ResourceSchedLatency}

// resourceValues is one reading of every resource; NaN when unknown (the first CPU and latency
// readings, which need a previous one; CPU where getrusage does not exist).
type resourceValues [len(resources)]float64

// resourceReader reads the resources: runtime/metrics into preallocated samples, and getrusage. It
// never blocks, and does not allocate after the first reading.
type resourceReader struct {
	samples   []metrics.Sample
	prevHist  []uint64 // /sched/latencies counts at the previous reading
	prevCPU   time.Duration
	prevWall  time.Time
	haveFirst bool
}

const (
	metricHeapLive   = "/gc/heap/live:bytes"
	metricGoroutines = "/sched/goroutines:goroutines"
	metricLatencies  = "/sched/latencies:seconds"
)

func newResourceReader() *resourceReader {
	return &resourceReader{samples: []metrics.Sample{
		{Name: metricHeapLive}, {Name: metricGoroutines}, {Name: metricLatencies},
	}}
}

// read returns the resources now.
func (rr *resourceReader) read() resourceValues {
	var v resourceValues
	for i := range v {
		v[i] = math.NaN()
	}
	now := time.Now()
	metrics.Read(rr.samples)
	if s := rr.samples[0]; s.Value.Kind() == metrics.KindUint64 {
		v[1] = float64(s.Value.Uint64())
	}
	if s := rr.samples[1]; s.Value.Kind() == metrics.KindUint64 {
		v[2] = float64(s.Value.Uint64())
	}
	var hist *metrics.Float64Histogram
	if s := rr.samples[2]; s.Value.Kind() == metrics.KindFloat64Histogram {
		hist = s.Value.Float64Histogram()
	}
	cpu, cpuOK := processCPUTime()
	if rr.haveFirst {
		if wall := now.Sub(rr.prevWall); cpuOK && wall > 0 {
			v[0] = 100 * float64(cpu-rr.prevCPU) / (float64(wall) * float64(runtime.GOMAXPROCS(0)))
		}
		if hist != nil && len(hist.Counts) == len(rr.prevHist) {
			v[3] = histogramQuantile(hist, rr.prevHist, 0.99)
		}
	}
	if hist != nil {
		rr.prevHist = append(rr.prevHist[:0], hist.Counts...)
	}
	rr.prevCPU, rr.prevWall, rr.haveFirst = cpu, now, true
	return v
}

// histogramQuantile returns the q quantile of the observations h has gained since prev (its counts
// then), as the upper bound of the bucket it falls in (the lower bound for the last, unbounded bucket);
// 0 when there is none.
func histogramQuantile(h *metrics.Float64Histogram, prev []uint64, q float64) float64 {
	var total uint64
	for i, c := range h.Counts {
		total += c - prev[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range h.Counts {
		seen += c - prev[i]
		if seen >= rank {
			if hi := h.Buckets[i+1]; !math.IsInf(hi, 1) {
				return hi
			}
			return h.Buckets[i]
		}
	}
	return h.Buckets[len(h.Buckets)-1]
}
