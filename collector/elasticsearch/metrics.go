package elasticsearch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/internal/selfmetrics"
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
	const p = "hotpath_elasticsearch_"
	return &metrics{
		docsIndexed: selfmetrics.Counter(p+"docs_indexed_total", "Documents Elasticsearch created."),
		docsDuplicate: selfmetrics.Counter(p+"docs_duplicate_total",
			"Documents sent again whose _id Elasticsearch already had (409 to a create): delivered once."),
		docsFailed: selfmetrics.CounterVec(p+"docs_failed_total",
			"Documents Elasticsearch refused for good (a mapping error, say) and that were dropped, by error type.", "type"),
		docsRetried: selfmetrics.CounterVec(p+"docs_retried_total",
			"Documents sent again after a per-document 429 or 5xx, by status.", "status"),
		renderFailed: selfmetrics.Counter(p+"docs_unrenderable_total",
			"Stored events that could not be rendered as documents (no data stream, or a non-finite number) and were skipped."),
		bulkRequests: selfmetrics.CounterVec(p+"bulk_requests_total",
			"Bulk requests sent, by HTTP status (\"error\" when no answer came: timeout, refused or dropped connection).", "status"),
		bulkDuration: selfmetrics.Histogram(p+"bulk_duration_seconds",
			"Time from sending a bulk request to reading its answer.", prometheus.ExponentialBuckets(0.005, 2, 14)),
		cursorCommits: selfmetrics.Counter(p+"cursor_commits_total",
			"Times the exporter durably advanced its cursor in the store."),
	}
}

// collectors returns every metric, for registration.
func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.docsIndexed, m.docsDuplicate, m.docsFailed, m.docsRetried, m.renderFailed,
		m.bulkRequests, m.bulkDuration, m.cursorCommits}
}
