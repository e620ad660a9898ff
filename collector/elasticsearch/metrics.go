package elasticsearch

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the exporter's Prometheus metrics, all prefixed hotpath_elasticsearch_.
type metrics struct {
	docsIndexed   prometheus.Counter
	docsDuplicate prometheus.Counter
	docsFailed    *prometheus.CounterVec // by Elasticsearch error type, or http_<status> for a refused request
	docsRetried   *prometheus.CounterVec // by item status
	renderFailed  prometheus.Counter
	bulkRequests  *prometheus.CounterVec // by HTTP status, or "error" when there was no answer
	bulkDuration  prometheus.Histogram
	cursorCommits prometheus.Counter
}

func newMetrics() *metrics {
	const ns, sub = "hotpath", "elasticsearch"
	return &metrics{
		docsIndexed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "docs_indexed_total", Help: "Documents Elasticsearch created."}),
		docsDuplicate: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "docs_duplicate_total", Help: "Documents sent again whose _id Elasticsearch already had (409 to a create): delivered once."}),
		docsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "docs_failed_total", Help: "Documents Elasticsearch refused for good (a mapping error, say) and that were dropped, by error type."}, []string{"type"}),
		docsRetried: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "docs_retried_total", Help: "Documents sent again after a per-document 429 or 5xx, by status."}, []string{"status"}),
		renderFailed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "docs_unrenderable_total", Help: "Stored events that could not be rendered as documents (no data stream, or a non-finite number) and were skipped."}),
		bulkRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "bulk_requests_total", Help: "Bulk requests sent, by HTTP status (\"error\" when no answer came: timeout, refused or dropped connection)."}, []string{"status"}),
		bulkDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "bulk_duration_seconds", Help: "Time from sending a bulk request to reading its answer.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		cursorCommits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "cursor_commits_total", Help: "Times the exporter durably advanced its cursor in the store."}),
	}
}

// collectors returns every metric, for registration.
func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.docsIndexed, m.docsDuplicate, m.docsFailed, m.docsRetried, m.renderFailed,
		m.bulkRequests, m.bulkDuration, m.cursorCommits}
}
