// Package elasticsearch exports the collector's events to Elasticsearch exactly as Elastic APM Server
// 9.x writes them, so that Kibana APM shows hotpath's traces: the same data streams
// (traces-apm-default, logs-apm.error-default, metrics-apm.app.<service>-default...), the same
// _source documents, created with op_type create.
//
// It owns three things:
//
//   - AppendDocument and AppendIndex render a collector.Event as the document and data stream name
//     APM Server (apm-data's modeljson) produces for it, by appending JSON by hand: this is the
//     export hot path, so there is no reflection and no intermediate map.
//   - The bulk indexer (Indexer) sends documents through the official client's _bulk API: batches
//     bounded by size and time, gzip, per-document results, retries of 429 and 5xx with backoff and
//     jitter, and mapping errors reported and counted instead of retried.
//   - The Exporter reads the embedded store after its durable cursor and advances the cursor only
//     when Elasticsearch has confirmed every document up to it, so an outage or a restart loses
//     nothing: the store is the spool.
//
// Elasticsearch 8.15 and later install the APM index templates and ingest pipelines themselves;
// CheckVersion refuses older clusters with a clear message.
package elasticsearch
