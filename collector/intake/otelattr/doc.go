// Package otelattr owns the one mapping of OpenTelemetry span attributes into collector.Event fields,
// as Elastic's apm-data translates them (input/otlp TranslateTransaction and TranslateSpan): known
// semantic-convention attributes, old and new names (http.*, url.*, net.*, server.*, client.*, db.*,
// messaging.*, rpc.*, gen_ai.*, network.*), become ECS fields; service.target and destination are
// derived for exit spans; the rest become labels and numeric labels.
//
// Two intakes feed it: the Elastic intake's OpenTelemetry bridge fields (otel.attributes and
// otel.span_kind of intake v2 transactions and spans, collector/intake/decoder), and OTLP itself
// (collector/intake/otlp). Each converts its attributes into a slice of Attr and supplies a Builder,
// which is where the mapping puts labels and the structures it allocates, so the decoder keeps its
// per-batch slabs.
package otelattr
