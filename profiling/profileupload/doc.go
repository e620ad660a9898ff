// Package profileupload owns the wire format of a profile upload, hotpath's extension of the Elastic Go
// agent's /intake/v2/profile: the profiler writes uploads with its Writer, the collector reads them with
// its Reader and DecodeCapture, so the format is written down once, here.
//
// A finished capture is sent as the Elastic Go agent sends its periodic profiles to APM Server's
// /intake/v2/profile (removed from APM Server in 8.5; the hotpath collector keeps it), extended with a
// capture part and a trace part. An APM Server that still has the endpoint ignores the extension's
// parts and stores the profile parts. One capture is one request:
//
//	POST <server URL>/intake/v2/profile
//	Authorization: Bearer <secret token>   or   ApiKey <API key>   (absent without either)
//	User-Agent: hotpath-profiling (<service name>)
//	Content-Type: multipart/form-data; boundary=<boundary>
//
// The parts, in this order (a collector refuses any other order, name or media type; a part's JSON may
// carry fields and trigger names a collector does not know, which it keeps or ignores):
//
// Part 1, metadata: required, first, at most 10 KiB.
//
//	Content-Disposition: form-data; name="metadata"
//	Content-Type: application/json
//
// The intake v2 metadata object, unwrapped (what follows "metadata" in an /intake/v2/events stream):
// service (name, version, environment, node.configured_name, agent {name "go", version: the Elastic Go
// agent's}, language, runtime), process (pid, ppid, title), system (detected_hostname,
// configured_hostname, architecture, platform). The service is named as the Elastic agent names it
// (ELASTIC_APM_SERVICE_NAME...), so that profiles and traces are of one service.
//
// Part 2, capture (hotpath extension): sent by this package, absent from the Elastic agent's uploads;
// at most 10 KiB.
//
//	Content-Disposition: form-data; name="capture"
//	Content-Type: application/json
//
// One JSON object. Timestamps are integer microseconds since the Unix epoch and durations float
// milliseconds, as in Elastic's intake; ids are lower-case hex:
//
//	id           string, 32 hex: the capture's ID; a slow request's transaction has it as labels.profile_id
//	trigger      "slow_request" | "cpu" | "heap" | "goroutines" | "sched_latency", or one a later
//	             profiler adds (kept as it is; its capture needs no transaction, trace or resource)
//	timestamp    when the capture was triggered
//	duration     from timestamp to when the capture stopped collecting
//	transaction  slow_request only: {
//	               id: 16 hex, name: the route,
//	               sampled: bool (false: the agent will not send the transaction),
//	               timestamp: the request's start, threshold: its slow threshold,
//	               ended: bool (false: the request was still running when the capture stopped,
//	                 WithMaxCaptureDuration after crossing its threshold)}
//	trace        slow_request only: {id: 32 hex}
//	resource     resource triggers only: {
//	               name: as trigger, value, rule: "abs" | "diff",
//	               threshold: the value compared against,
//	               average: of the previous checks, absent if there were none}
//	             units: cpu percent of GOMAXPROCS, heap bytes, goroutines count, sched_latency seconds
//	cpu          present iff a cpu profile part follows: {
//	               timestamp, duration: the time the CPU profile covers,
//	               samples: how many samples it holds (10 ms of CPU each; slow_request: the request's only)}
//	goroutine    present iff a goroutine profile part follows: {
//	               snapshots: how many goroutine profiles were merged
//	               (a stack's value is how many snapshots found a goroutine there)}
//	parts        the kinds of the parts that follow, in their order: "cpu", "goroutine", "heap", "trace"
//	errors       absent, or why parts are missing or partial, one sentence each
//
// Parts 3, profile: zero or more, in the order cpu, goroutine, heap; together at most 10 MiB (APM
// Server's limit).
//
//	Content-Disposition: form-data; name="profile"; filename="<kind>.pprof"
//	Content-Type: application/x-protobuf; messageType="perftools.profiles.Profile"
//
// A gzipped pprof protobuf, as runtime/pprof writes it (go tool pprof opens it). The Elastic agent's
// profile parts have no filename. A slow request's cpu and goroutine profiles hold only the samples whose
// label transaction.id is the request's; every sample keeps its labels (route, trace.id,
// transaction.id), and the profile's comments say "hotpath profile.id=... trigger=... trace.id=...
// transaction.id=... route=...".
//
// Last part, trace (hotpath extension): zero or one; at most 32 MiB as sent.
//
//	Content-Disposition: form-data; name="trace"; filename="trace.out"
//	Content-Type: application/x-go-trace
//	Content-Encoding: gzip
//
// A Go execution trace (the flight recorder's window before the capture ended), gzip-compressed;
// uncompressed, go tool trace opens it. In it, each request is a region named by its route on its
// goroutine, with a log message of category transaction.id.
//
// Parts carry only the headers shown. The collector answers 202 Accepted when it has stored the upload;
// any non-2xx answer is an upload failure (the profiler's Stats.UploadFailures); there is no retry. A part
// that would pass its limit is left out by the uploader, and said so in errors.
package profileupload
