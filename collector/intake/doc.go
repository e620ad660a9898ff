// Package intake is the collector's APM Server: it serves the HTTP endpoints Elastic APM agents talk
// to, exactly as Elastic APM Server 8.x/9.x answers them, so that any agent (Go, Java, Node.js,
// Python...) sends to hotpath unchanged. It owns authentication, request limits, decompression and the
// intake metrics; decoding is its decoder sub-package, and what is done with the events is the
// Processor's business (the store, in the collector).
//
// # Endpoints
//
// New returns an API; Register mounts it on an http.ServeMux:
//
//	POST      /intake/v2/events        events: ndjson, gzip or zlib (by Content-Encoding or sniffed)
//	POST      /intake/v2/profile       profiles: the multipart upload of the profiling package and of the
//	                                   Elastic Go agent (API.ProfileHandler, which the caller mounts)
//	GET|HEAD  /                        server information (version >= 8: agents drop unsampled transactions)
//	GET|POST  /config/v1/agents        agent central configuration, from a JSON file (Config.AgentConfigFile)
//	*         /intake/v2/rum/events, /intake/v3/rum/events, /config/v1/rum/agents
//	                                   403 "RUM endpoint is disabled", as APM Server's default
//	*         anything else            404 {"error":"404 page not found"}
//
// Every answer carries X-Content-Type-Options: nosniff; bodies are indented JSON when the client
// accepts application/json (or */*), else compact, as APM Server writes them.
//
// # Intake answers
//
// A stream is decoded a batch at a time (Config.BatchSize events) and each batch handed to
// Config.Processor; the events of the batches it took are "accepted". The answer is 202 with an empty
// body (with {"accepted": N} under ?verbose), or, when something went wrong, the highest status of the
// errors with {"accepted": N, "errors": [{"message", "document"}...]} (at most five event errors, then
// the error that ended the stream) and Connection: Close. Invalid and oversized events are 400 and do
// not stop the stream; a full store queue is 503 "cannot handle stream: cannot process batch: queue is
// full", a closed one 503 "server is shutting down". When the Processor is a BatchEnqueuer, a stream's
// batches commit while it is decoded further (see BatchEnqueuer), with the same answers.
//
// # Limits
//
// Every resource a client can make the collector spend is bounded: MaxEventSize per event (APM
// Server's 300 KiB, same boundary), MaxBodyBytes and MaxDecodedBytes per request, MaxConcurrentStreams
// streams decoded at once (a stream that finds none free waits StreamWait, then gets 503), of which
// one client address holds at most MaxStreamsPerClient (a quarter), MemoryBudget for the decoded bytes
// all streams' batches hold (past it, 503), and the Processor's own queue. A stream's body must keep
// up with MinStreamRate once its StreamGrace (longer than the agents' 10 s request time, during which
// the Go agent may send nothing) is over, or it loses its slot with 503 "request timed out": a client
// sending a byte a second holds a slot for the grace, not for the server's read timeout, and one
// address with many such streams holds only its share; the time counted is the time the server waited
// for the body, not the time it spent decoding or under backpressure. Profile uploads are held to the
// same rate (their slots, ProfileConfig.MaxConcurrent, have no per-client share). A stream refused a slot is answered at once,
// without reading its body. So intake's memory is about MemoryBudget plus a fixed amount per stream
// slot, whatever the number of clients or the size of their events. With Config.Budget, one
// collector.MemoryBudget that the store's queue shares, the running streams' decoders are charged to it
// too: intake and the queue together hold at most about that budget (cmd/hotpath's --memory-limit).
// The HTTP server's timeouts and header limit are the
// caller's (cmd/hotpath uses APM Server's defaults).
//
// # Authentication
//
// With Config.SecretToken or Config.APIKeys set, requests need "Authorization: Bearer <token>" or
// "Authorization: ApiKey base64(id:key)", as agents send them (ELASTIC_APM_SECRET_TOKEN,
// ELASTIC_APM_API_KEY); the keys are hotpath's own, checked without Elasticsearch. Secrets are kept as
// digests, compared in constant time and never logged. GET / answers anonymous callers too, with an
// empty body. RequireAuth applies the same check to handlers mounted beside intake.
//
// # Mounting more handlers
//
// Register mounts APM Server's 404 on the pattern "/", so every more specific pattern on the same mux
// wins over it: the rest of the collector (the query API, the UI, /metrics, the profile intake) is
// mounted on the same mux, wrapped in RequireAuth when it is not public:
//
//	mux := http.NewServeMux()
//	api.Register(mux)
//	mux.Handle("GET /metrics", api.RequireAuth(promhttp.HandlerFor(registry, promhttp.HandlerOpts{})))
//	mux.Handle("/api/v1/", api.RequireAuth(queryAPI))
//
// # Other protocols
//
// Receivers of other protocols mounted beside intake, the OTLP receiver (collector/intake/otlp), share
// its guarantees through an Admission (API.Admit): the same authentication (API.Authenticate), stream
// slots, body limits and decompression (Admission.ReadBody), memory budget (Admission.Charge) and
// Processor behind enrichment (Admission.Process), so the bounds above hold for all protocols together.
//
// # Metrics
//
// With Config.Registerer set: hotpath_intake_events_accepted_total, hotpath_intake_rejected_total by
// reason (events: invalid, too_large; requests: unauthorized, queue_full, stream_limit,
// client_stream_limit, too_slow, body_too_large...; profile uploads: invalid_profile, profile_too_large, profile_limit, profile_exists), hotpath_intake_requests_total by endpoint and status code,
// hotpath_intake_request_duration_seconds by endpoint (for events, the time to a durable 202),
// hotpath_intake_streams_in_flight, hotpath_intake_streams_waiting,
// hotpath_intake_decoded_bytes_in_flight and hotpath_intake_request_body_bytes_total.
package intake
