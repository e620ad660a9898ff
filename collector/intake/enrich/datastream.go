package enrich

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/hotpath-apm/hotpath/collector"
)

// setDataStream routes e to the data stream APM Server routes it to (apm-data's SetDataStream):
//
//	transactions, spans    traces-apm-<ns>, or traces-apm.rum-<ns> for RUM agents
//	errors                 logs-apm.error-<ns>
//	logs                   logs-apm.app.<service>-<ns>
//	metricsets             metrics-apm.internal-<ns> for breakdown and agent-internal metrics,
//	                       metrics-apm.<name>.<interval>-<ns> for aggregated ones,
//	                       metrics-apm.app.<service>-<ns> for application metrics
//
// A namespace or dataset already on the event is kept, except for RUM agents, which cannot choose
// (they would otherwise be able to create arbitrarily many data streams).
func setDataStream(e *collector.Event, namespace string, names *datasetNames) {
	ds := &e.DataStream
	rum := collector.IsRUMAgent(e.Agent.Name)
	if ds.Namespace == "" || rum {
		ds.Namespace = namespace
	}
	if ds.Type != "" && ds.Dataset != "" {
		return
	}
	switch e.APMType() {
	case collector.KindTransaction, collector.KindSpan:
		ds.Type = "traces"
		if ds.Dataset == "" {
			ds.Dataset = "apm"
		}
		if rum {
			ds.Dataset = "apm.rum"
		}
	case collector.KindError:
		ds.Type = "logs"
		ds.Dataset = "apm.error"
	case collector.KindLog:
		ds.Type = "logs"
		if ds.Dataset == "" || rum {
			ds.Dataset = names.app(e.Service.Name, "unknown")
		}
	case collector.KindMetricset:
		ds.Type = "metrics"
		if ds.Dataset == "" || rum {
			ds.Dataset = metricsetDataset(e, names)
		}
	}
}

// metricsetDataset returns the dataset of a metricset: see setDataStream. Internal metricsets lose
// their samples' type and unit, because the internal data stream is strictly mapped.
func metricsetDataset(e *collector.Event, names *datasetNames) string {
	ms := e.Metricset
	if ms == nil {
		ms = &collector.Metricset{}
	}
	if e.Transaction != nil || e.Span != nil || e.Service.Name == "" || ms.Name == "service_summary" {
		// Breakdown, transaction and span metrics have well-defined fields of their own.
		if ms.Interval != "" {
			return "apm." + ms.Name + "." + ms.Interval
		}
		return "apm.internal"
	}
	internal := true
	for i := range e.Labels {
		if e.Labels[i].Key == "otel_remapped" {
			// The last label with a key wins, as it does in the event's label map.
			remapped, _ := strconv.ParseBool(e.Labels[i].Value)
			internal = !remapped
		}
	}
	if internal {
		for i := range ms.Samples {
			if !isInternalMetric(ms.Samples[i].Name) {
				internal = false
				break
			}
		}
	}
	if internal {
		for i := range ms.Samples {
			ms.Samples[i].Type = collector.MetricUnspecified
			ms.Samples[i].Unit = ""
		}
		return "apm.internal"
	}
	return names.app(e.Service.Name, "")
}

// datasetNames remembers the last application dataset name built, so that the events of one batch
// (which share their service) build it once.
type datasetNames struct{ service, dataset string }

// app returns appDataset(service, fallback), built once per run of the same service.
func (n *datasetNames) app(service, fallback string) string {
	if service == "" {
		service = fallback
	}
	if n.dataset == "" || n.service != service {
		n.service, n.dataset = service, appDataset(service, "")
	}
	return n.dataset
}

// appDataset returns "apm.app.<service>" with the service name made valid in a data stream name.
func appDataset(service, fallback string) string {
	if service == "" {
		service = fallback
	}
	var b strings.Builder
	b.Grow(len("apm.app.") + len(service))
	b.WriteString("apm.app.")
	for _, r := range service {
		switch r {
		case '\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':', '-':
			// Forbidden in data stream names, or (the hyphen) the separator of their parts.
			r = '_'
		default:
			r = unicode.ToLower(r) // as strings.ToLower, without its copy
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isInternalMetric reports whether name is one of the agent and runtime metrics that APM Server
// stores in the strictly mapped metrics-apm.internal data stream rather than the service's own
// (apm-data's IsInternalMetricName, v1.22). A metricset goes there only if all of its samples do.
func isInternalMetric(name string) bool {
	switch name {
	case "agent.background.cpu.overhead.pct",
		"agent.background.cpu.total.pct",
		"agent.background.memory.allocation.bytes",
		"agent.events.dropped",
		"agent.events.queue.max_size.pct",
		"agent.events.queue.min_size.pct",
		"agent.events.requests.bytes",
		"agent.events.requests.count",
		"agent.events.total":
		return true
	case "clr.gc.count",
		"clr.gc.gen0size",
		"clr.gc.gen1size",
		"clr.gc.gen2size",
		"clr.gc.gen3size",
		"clr.gc.time":
		return true
	case "faas.billed_duration",
		"faas.coldstart_duration",
		"faas.duration",
		"faas.timeout":
		return true
	case "golang.goroutines",
		"golang.heap.allocations.active",
		"golang.heap.allocations.allocated",
		"golang.heap.allocations.frees",
		"golang.heap.allocations.idle",
		"golang.heap.allocations.mallocs",
		"golang.heap.allocations.objects",
		"golang.heap.allocations.total",
		"golang.heap.gc.cpu_fraction",
		"golang.heap.gc.next_gc_limit",
		"golang.heap.gc.total_count",
		"golang.heap.gc.total_pause.ns",
		"golang.heap.system.obtained",
		"golang.heap.system.released",
		"golang.heap.system.stack",
		"golang.heap.system.total":
		return true
	case "jvm.gc.alloc",
		"jvm.gc.count",
		"jvm.gc.time",
		"jvm.memory.heap.committed",
		"jvm.memory.heap.max",
		"jvm.memory.heap.pool.committed",
		"jvm.memory.heap.pool.max",
		"jvm.memory.heap.pool.used",
		"jvm.memory.heap.used",
		"jvm.memory.non_heap.committed",
		"jvm.memory.non_heap.max",
		"jvm.memory.non_heap.used",
		"jvm.thread.count",
		"jvm.memory.non_heap.pool.used",
		"jvm.memory.non_heap.pool.committed",
		"jvm.memory.non_heap.pool.max",
		"jvm.fd.used",
		"jvm.fd.max":
		return true
	case "nodejs.eventloop.delay.avg.ms",
		"nodejs.handles.active",
		"nodejs.memory.arrayBuffers.bytes",
		"nodejs.memory.external.bytes",
		"nodejs.memory.heap.allocated.bytes",
		"nodejs.memory.heap.used.bytes",
		"nodejs.requests.active":
		return true
	case "ruby.gc.count",
		"ruby.gc.time",
		"ruby.heap.allocations.total",
		"ruby.heap.slots.free",
		"ruby.heap.slots.live",
		"ruby.threads":
		return true
	case "system.cpu.total.norm.pct",
		"system.memory.actual.free",
		"system.memory.total",
		"system.process.cgroup.cpu.cfs.period.us",
		"system.process.cgroup.cpu.cfs.quota.us",
		"system.process.cgroup.cpu.stats.periods",
		"system.process.cgroup.cpu.stats.throttled.ns",
		"system.process.cgroup.cpu.stats.throttled.periods",
		"system.process.cgroup.cpuacct.total.ns",
		"system.process.cgroup.memory.mem.limit.bytes",
		"system.process.cgroup.memory.mem.usage.bytes",
		"system.process.cgroup.memory.stats.inactive_file.bytes",
		"system.process.cpu.system.norm.pct",
		"system.process.cpu.total.norm.pct",
		"system.process.cpu.user.norm.pct",
		"system.process.memory.rss.bytes",
		"system.process.memory.size":
		return true
	}
	return false
}
