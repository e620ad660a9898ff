// Package otlp is the collector's OpenTelemetry receiver: OTLP/HTTP (protobuf and JSON bodies, gzip)
// at /v1/traces, /v1/metrics and /v1/logs, and OTLP/gRPC (TraceService, MetricsService and LogsService
// Export), on the same port as the Elastic intake. OpenTelemetry SDKs point at the collector with
// OTEL_EXPORTER_OTLP_ENDPOINT=http://<collector>:8200, whichever protocol they speak.
//
// Requests are decoded with the OpenTelemetry Collector's pdata packages and mapped into collector
// events as Elastic's apm-data maps OTLP (input/otlp): spans without a parent, with a remote parent,
// or of kind SERVER or CONSUMER become transactions, the others spans; their attributes are mapped by
// collector/intake/otelattr (shared with the Elastic intake's OpenTelemetry bridge fields); resource
// attributes become service, agent, host, process, container, Kubernetes, cloud and device fields and
// global labels; exception span events become errors, other span events log events; span links become
// links or child ids; the sampling weight comes from the ot entry of tracestate (p:, as Elastic reads
// it, and th:, which Elastic ignores).
//
// # Guarantees
//
// The receiver shares the Elastic intake's (intake.Admission): the same secret token and API keys
// (Authorization header, or the "authorization" gRPC metadata), the same stream slots and memory
// budget, the same body limits and decompression, and the same Processor: a request is answered only
// once its events are durable. Backpressure is HTTP 503 with Retry-After, or gRPC RESOURCE_EXHAUSTED
// (UNAVAILABLE when shutting down) with RetryInfo, which OTLP exporters retry. A request that does not
// decode is HTTP 400 with a google.rpc.Status body (in the request's encoding) or gRPC
// INVALID_ARGUMENT (the services take their messages as bytes and decode them with pdata after
// authentication, grpc_raw.go: gRPC's own codec would answer INTERNAL, which exporters retry), and
// nothing else is lost. Items refused inside a valid request (spans without a
// valid trace or span id, say) are reported as the OTLP partial success (rejected_spans,
// rejected_data_points, rejected_log_records, with a message), and the rest are stored.
//
// # gRPC on the HTTP port
//
// Register mounts the gRPC services' paths on the collector's mux, and grpc.Server.ServeHTTP serves
// them. The collector's HTTP server speaks HTTP/1.1 and unencrypted HTTP/2 (h2c, with prior knowledge,
// as gRPC clients connect) on the one port, so no connection sniffing is needed.
//
// # Tests
//
// otlptest serves the intake and the receiver on one loopback server, as the collector does, for the
// tests of this package and of those that take OTLP from it.
package otlp
