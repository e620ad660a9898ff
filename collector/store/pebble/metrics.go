package pebble

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/internal/selfmetrics"
)

// metrics are the store's Prometheus series, all prefixed hotpath_store_.
type metrics struct {
	commitSeconds  prometheus.Histogram
	commitEvents   prometheus.Histogram
	events         prometheus.Counter
	rejected       *prometheus.CounterVec // reason: queue_full, disk_budget, shutting_down, write_failed, disk_floor
	queueRequests  prometheus.Gauge
	queueBytes     prometheus.Gauge
	diskBytes      prometheus.Gauge
	retainedEvents prometheus.Gauge
	deleted        *prometheus.CounterVec // reason: age, disk
	deletedParts   *prometheus.CounterVec
	writeStalls    prometheus.Counter
	traceDropped   prometheus.Counter
	checkpoints    prometheus.Counter // journal.go
	replayed       prometheus.Counter

	// Health (health.go).
	writable        prometheus.Gauge
	writeFailures   prometheus.Counter
	recoveries      prometheus.Counter
	diskStalls      prometheus.Counter
	reserveReleases prometheus.Counter
	diskFree        prometheus.Gauge
	diskFloor       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commitSeconds: selfmetrics.Histogram("hotpath_store_commit_seconds",
			"Time from the start of a group commit to the end of its fsync.", prometheus.ExponentialBuckets(0.0002, 2, 16)),
		commitEvents: selfmetrics.Histogram("hotpath_store_commit_events",
			"Events per group commit (one fsync).", prometheus.ExponentialBuckets(1, 4, 10)),
		events:         selfmetrics.Counter("hotpath_store_events_total", "Events durably committed."),
		rejected:       selfmetrics.CounterVec("hotpath_store_rejected_batches_total", "Batches refused, by reason.", "reason"),
		queueRequests:  selfmetrics.Gauge("hotpath_store_queue_batches", "Batches waiting for or in a group commit."),
		queueBytes:     selfmetrics.Gauge("hotpath_store_queue_bytes", "Memory held by batches waiting for or in a group commit."),
		diskBytes:      selfmetrics.Gauge("hotpath_store_disk_bytes", "Bytes the store occupies on disk (tables, blob files, its journal, manifests)."),
		retainedEvents: selfmetrics.Gauge("hotpath_store_events", "Events currently stored."),
		deleted: selfmetrics.CounterVec("hotpath_store_retention_deleted_events_total",
			"Events removed by retention, by reason (age; disk: the budget; free_space: the filesystem short of twice the free-space floor).", "reason"),
		deletedParts: selfmetrics.CounterVec("hotpath_store_retention_deleted_partitions_total",
			"Hourly partitions removed by retention, by reason (age; disk: the budget; free_space: the filesystem short of twice the free-space floor).", "reason"),
		writeStalls: selfmetrics.Counter("hotpath_store_write_stalls_total",
			"Times Pebble delayed writes because flushes or compactions were behind."),
		traceDropped: selfmetrics.Counter("hotpath_store_trace_events_dropped_total",
			"Events not stored because their trace id had reached Config.MaxTraceEvents that day."),
		checkpoints: selfmetrics.Counter("hotpath_store_journal_checkpoints_total",
			"Journal checkpoints: the database's memtables flushed and the journal's older segments deleted."),
		replayed: selfmetrics.Counter("hotpath_store_journal_replayed_records_total",
			"Journal records replayed at open: commits the database's tables did not hold after a crash or a failed write."),
		writable: selfmetrics.Gauge("hotpath_store_writable",
			"1 while the store accepts batches, 0 while it refuses them for its disk (below the free-space floor, a write stalled, or recovering from a failed write)."),
		writeFailures: selfmetrics.Counter("hotpath_store_write_failures_total",
			"Writes of the database's log that failed (a full or failing disk); each stops writes until the store has reopened the database."),
		recoveries: selfmetrics.Counter("hotpath_store_recoveries_total",
			"Times the store reopened its database after a failed write and resumed writing."),
		diskStalls: selfmetrics.Counter("hotpath_store_disk_stalls_total",
			"Times a write of the database's log did not return within the stall timeout; writes are refused until it does."),
		reserveReleases: selfmetrics.Counter("hotpath_store_disk_reserve_releases_total",
			"Times a write met a full disk and the store gave back its disk reserve for it; writes are refused until the reserve is back."),
		diskFree: selfmetrics.Gauge("hotpath_store_disk_free_bytes",
			"Bytes available on the store's filesystem at the last free-space check."),
		diskFloor: selfmetrics.Gauge("hotpath_store_disk_free_floor_bytes",
			"The free-space floor: below it the store refuses batches (0: no floor)."),
	}
	for _, r := range []string{"queue_full", "disk_budget", "shutting_down", "write_failed", "disk_floor", "disk_stalled", "disk_full"} {
		m.rejected.WithLabelValues(r)
	}
	for _, r := range []string{"age", "disk", "free_space"} {
		m.deleted.WithLabelValues(r)
		m.deletedParts.WithLabelValues(r)
	}
	if err := selfmetrics.Register(reg, m.collectors()...); err != nil {
		return nil, fmt.Errorf("store: register metrics: %w", err)
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.commitSeconds, m.commitEvents, m.events, m.rejected, m.queueRequests,
		m.queueBytes, m.diskBytes, m.retainedEvents, m.deleted, m.deletedParts, m.writeStalls, m.traceDropped, m.checkpoints, m.replayed,
		m.writable, m.writeFailures, m.recoveries, m.diskStalls, m.reserveReleases, m.diskFree, m.diskFloor}
}

func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}
