// Package elasticsearch exports the collector's events to Elasticsearch exactly as Elastic APM Server
// 9.x writes them, so that Kibana APM shows hotpath's traces: the same data streams
// (traces-apm-default, logs-apm.error-default, metrics-apm.app.<service>-default...), the same
// _source documents, created with op_type create.
//
// It owns four things:
//
//   - AppendDocument and AppendIndex render a collector.Event as the document and data stream name
//     APM Server (apm-data's modeljson) produces for it, by appending JSON by hand: this is the
//     export hot path, so there is no reflection and no intermediate map.
//   - The Exporter reads the embedded store (a Spool) after its durable cursor, renders batches of
//     documents bounded by size and time, and sends them, gzipped, as bulk requests through the
//     official client (go-elasticsearch/v8), MaxInFlight at a time. It retries what may succeed later
//     (429, 5xx, timeouts, dropped connections) per document, with exponential backoff and jitter;
//     a document Elasticsearch refuses for good (a mapping error) is logged, counted and dropped
//     without holding up the others. The cursor advances, in order, only over documents Elasticsearch
//     confirmed, so an outage or a restart loses nothing: the store is the spool.
//   - The aggregated metricsets APM Server's aggregator writes, which much of Kibana APM reads
//     (Dependencies, service maps, latency and failed-transaction-rate alerts, SLOs, throughput by
//     representative count): metrics-apm.{transaction,service_transaction,service_summary,
//     service_destination}.{1m,10m,60m}-<namespace>, with the same _source (HDR duration histograms
//     with 2 significant figures, summaries, _doc_count, event.success_count, response times,
//     service.target.*, `_other` overflow documents past AggregationLimits). Unlike APM Server, which
//     aggregates in memory, they are derived from the store behind a cursor of their own whose saved
//     state holds the open buckets and the harvest being delivered, so neither a crash nor a restart
//     loses or double-counts anything (aggregate_export.go says how); each document has a
//     deterministic _id. While it reads a backlog the aggregation saves its position and open
//     buckets every 65,536 events, so that a collector killed again and again still moves forward. A
//     1m document is written AggregationConfig.Grace after its minute, 10m and 60m ones at their
//     boundaries, and stopping flushes every open bucket; what the aggregation has not read yet
//     (hotpath_elasticsearch_metricsets_unread_events) waits in the store for the next start. A late
//     event, whose bucket was already written, gives a second document for that bucket at the next
//     harvest, with an _id of its own: Kibana sums _doc_count and the summaries and merges the
//     histograms across documents, as it does for APM Server's. Unsampled transactions of
//     agents older than 8.0 that carry a sample rate are stored for these metrics and counted, as
//     APM Server's aggregator counts them, but no document is indexed for them
//     (collector.Event.MetricsOnly).
//   - The version check (CheckVersion): Elasticsearch 8.15 and later install the APM index templates,
//     ingest pipelines and lifecycle policies themselves; older clusters are refused with a clear
//     message.
//
// Transactions, spans and errors are created with the _id "<trace.id>-<id>" (AppendDocumentID), so a
// bulk request sent again creates nothing twice; metricsets and logs get Elasticsearch's own ids.
// Aggregated documents get "<harvest>-<hash of the document>".
//
// The exporter's metrics (lag, documents indexed, duplicate, retried and refused, bulk requests by
// status and their duration; for the aggregated metricsets their lag, unread events, documents,
// harvests and open buckets) are registered with Config.Registerer. estest is the strict in-process
// Elasticsearch the tests run against.
package elasticsearch
