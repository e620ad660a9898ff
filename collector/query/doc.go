// Package query is the collector's JSON query API, served under /api/v1/: what the web UI
// (collector/ui) reads, and what scripts may read. It owns the HTTP surface, parameter checking and
// the JSON shapes; it reads the store through the small interfaces of store.go (Store, ProfileReader),
// in the read-side types of package collector, which the store implements as it is.
//
// # Conventions
//
// Every path answers GET (and HEAD) only: the API is read-only, any other method gets 405. Answers
// are JSON objects (Content-Type application/json, Cache-Control no-store). Times are RFC 3339 in UTC,
// durations are integers in microseconds (fields ending in _us), rates are fractions from 0 to 1.
//
// A failure is {"error": "<message>"}: 400 for a bad parameter, with "parameter": "<name>" naming it
// (a parameter the path does not know is one: a misspelt filter must not quietly select everything;
// a parameter given twice is another), 401 without valid credentials, 404 for an unknown trace or path,
// 405 for a method other than GET or HEAD, 503 when the collector is shutting down or a query runs past
// Config.Timeout (10 s by default), 500 for a store failure (logged by the collector, not detailed in
// the answer).
//
// # Authentication
//
// The collector mounts the API behind the same check as the intake (intake.API.RequireAuth): when a
// secret token or API keys are configured, requests need "Authorization: Bearer <secret token>" or
// "Authorization: ApiKey <base64(id:key)>", compared in constant time; without either, the API is open
// (and the collector listens on loopback by default).
//
// # Time ranges
//
// Paths that cover a range take from and to, each an RFC 3339 time ("2026-03-01T12:00:00Z"),
// Unix milliseconds ("1772366400000"), "now" or "now-<duration>" ("now-15m", "now-24h", "now-7d").
// Defaults: to = now, from = to - 1 h. from must be before to, and the range at most 90 days.
//
// # How the figures are computed
//
// The store keeps, for every service and every transaction name, per minute of event time, the
// transaction counts by outcome and an HDR histogram of their durations (1 µs to 1 h, 2 significant
// digits), written in the same commit as the transactions. An answer adds up the minutes of its range
// (widened to whole minutes) into one histogram and reads the percentiles from it: p50, p95 and p99 are
// the highest value of the histogram bucket holding that rank (the rank being max(1, round(p/100 × n))
// of the n transactions), so they are never below the exact percentile of the stored transactions and
// at most 1% above it. They are not averages of per-minute percentiles. mean is the exact sum of the
// durations divided by the count; max is the highest value of the slowest transaction's bucket.
//
// transactions counts the stored transactions; throughput_per_minute counts the transactions they stand
// for (the sum of their representative counts, 1 / sample rate, so sampling does not lower it) divided
// by the minutes of the range. error_rate is failures / (successes + failures) by event.outcome
// (transactions whose outcome is unknown are left out), null when there are neither.
//
// A stats object, which the listings embed:
//
//	{"transactions": 1200, "throughput_per_minute": 20, "failures": 3, "error_rate": 0.0025,
//	 "latency_us": {"p50": 41000, "p95": 230000, "p99": 4000000, "max": 4200000, "mean": 80500.2}}
//
// latency_us is null when there are no transactions.
//
// # Paths
//
// An endpoint, in this API, is a transaction name of a service ("GET /search"), as the agents name
// transactions after their routes.
//
// GET /api/v1/services?from=&to=
//
// The services with events in the range, sorted by name, each with the stats of all its transactions:
// {"from", "to", "services": [{"name", ...stats}]}.
//
// GET /api/v1/endpoints?service=&from=&to=&sort=
//
// The transaction names ("endpoints": "GET /search") of a service with transactions in the range, each
// with its transaction type and stats: {"from", "to", "service", "endpoints": [{"name", "type",
// ...stats}]}. sort is p99 (default: the slowest first), throughput, error_rate or name.
//
// GET /api/v1/endpoint?service=&name=&from=&to=&interval=
//
// One transaction name (or, without name, every transaction of the service): its stats over the range,
// a series and a latency histogram: {"from", "to", "service", "name", "type", "interval_seconds",
// ...stats, "series": [{"start", ...stats}], "histogram": [{"from_us", "to_us", "count"}]}. interval is
// the width of the series' points, whole minutes ("5m", "1h"), at most 1,440 points; by default the
// smallest of 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, 1d that gives at most 120. Points start
// at multiples of the interval since the Unix epoch; every point is present, empty ones with
// transactions 0 and latency_us null; a point's throughput counts only its minutes inside the range. The
// histogram has ten bars per decade on round bounds (10, 12, 15, 20, 25, 30, 40, 50, 60, 80 µs, then
// ×10), from the fastest transaction's bar to the slowest's; a bar from 0 to 10 µs holds anything
// faster.
//
// GET /api/v1/breakdown?service=&name=&from=&to=
//
// Where the time of a transaction name (or of the whole service) went, by span type and subtype, the
// largest first: {"from", "to", "service", "name", "total_us", "types": [{"type", "subtype", "count",
// "sum_us", "share"}]}. It is the self time the agents report in their breakdown metrics (the Go agent
// every 30 s), so nested spans are not counted twice; type "app" is the transactions' own code between
// spans. share is sum_us / total_us.
//
// GET /api/v1/queries?service=&from=&to=&sort=
//
// The service's query shapes (package agent/queryshape: an Elasticsearch query's structure without its
// literals; package collector/sqlshape: a SQL statement normalised, for spans of db.type sql, whose
// db_type is "sql" and summary the normalised statement), like pg_stat_statements: {"from", "to", "service", "sort", "queries": [{"shape", "summary",
// "db_type", "count", "errors", "total_us", "share", "duration_us": {"p50", "p95", "p99"}, "took_us":
// {"p50", "p95", "p99"} or null, "overhead_us": {"p50", "p99"} or null, "truncated", "example":
// {"trace_id", "transaction_id", "span_id", "timestamp", "duration_us", "statement"}}]}, sorted by
// total time (sort=total, the default), p99 or count, largest first. share is the shape's part of the
// service's time in shaped database calls; took_us is Elasticsearch's own time (the es_took_ms label,
// null when no call reported it); overhead_us is duration minus took, percentile by percentile: the
// network, queueing and the client. truncated: the statements were cut, the shape is that of what was
// there. The example is the slowest call of the range's hours (the first 20 shapes listed have one).
// Ranges of 6 hours or more are read at hour resolution, from and to widened to whole hours (the
// answer's from and to say so). Served when Config.Queries is set.
//
// GET /api/v1/query?service=&shape=&from=&to=&interval=
//
// One shape: the fields of a /queries entry (without example), "interval_seconds", "series" (one point
// per interval, as /endpoint's: "start", "count", "errors", "total_us", "duration_us", "took_us"),
// "histogram" (as /endpoint's) and "examples": the slowest calls of the hours the range touches (5 per
// hour kept), slowest first, each a link to its trace. 404 when the shape has no call in the range.
//
// GET /api/v1/dependencies?service=&from=&to=&sort=
//
// What the service calls (its exit spans, by service.target, else destination resource, as Kibana's
// Dependencies): {"from", "to", "service", "sort", "dependencies": [{"target", "type", "name", "calls",
// "calls_per_minute", "errors", "error_rate", "total_us", "mean_us", "share", "duration_us": {"p50",
// "p95", "p99"}}]}, sorted by total time (sort=total, the default), p99, calls or errors, largest
// first. target is "type/name" (or the one of them the spans have, or the destination resource): what
// /dependency takes. Percentiles come from HDR histograms (2 significant digits), not averages; a
// composite span counts as the calls it stands for, each at their average duration. share is the
// dependency's part of the service's time in all its dependencies; calls_per_minute is over the
// answer's range. Long ranges are read at hour resolution, as /queries. Served when
// Config.Dependencies is set.
//
// GET /api/v1/dependency?service=&target=&from=&to=&interval=
//
// One dependency: the fields of a /dependencies entry, "interval_seconds", "series" (one point per
// interval: "start", "calls", "errors", "total_us", "duration_us"), "histogram" (as /endpoint's) and
// "slowest": the slowest calls of the hours the range touches (5 per hour kept), slowest first, each
// {"trace_id", "transaction_id", "span_id", "timestamp", "duration_us", "name"}: a link to its trace.
// 404 when the service made no call to target in the range.
//
// GET /api/v1/transactions?service=&name=&result=&slow=&min_duration=&label=&from=&to=&sort=&limit=&cursor=
//
// Transactions of a service, a page at a time: {"from", "to", "transactions": [{"trace_id",
// "transaction_id", "service", "name", "type", "result", "outcome", "timestamp", "duration_us",
// "sampled", "labels": {"key": "value"}}], "next": "<cursor>" or null}. Filters: name (a transaction
// name), result ("HTTP 5xx"), slow=true (transactions the agent labelled slow: slower than their route's
// threshold), min_duration (a duration, "500ms", or milliseconds), label=key:value (repeatable, at most
// 16, all must match; the transaction's own labels, not the agent's global ones; booleans as true or
// false, numbers in their shortest form). sort is time (default: the newest first) or duration (the
// slowest first). limit is 1 to 1,000, default 50. To read the next page, repeat the request with
// cursor set to next; a cursor of another query is a 400.
//
// GET /api/v1/traces/{trace_id}
//
// A trace, ready for a waterfall: {"trace_id", "start", "duration_us", "services", "items": [...],
// "errors": [...], "truncated"}. items are its transactions and spans in waterfall order (depth first
// from the roots, children by start time), each with "kind" (transaction or span), "id", "parent_id",
// "transaction_id", "depth", "offset_us" (its start from the trace's start), "duration_us", "timestamp",
// "name", "service", "type", "subtype", "action", "outcome", "result", "sync", "labels" (with their
// types: es_took_ms, the time an Elasticsearch span's server reported, is a number), "db" ({"type",
// "instance", "statement", "user", "rows_affected"}), "query_shape" ({"shape", "summary", "truncated"}:
// an Elasticsearch or SQL span's query shape, as /queries counts it), "http" ({"method", "url", "status_code"}),
// "destination" ({"address", "port", "service_type", "service_name"}), "composite" and "error_count"; an
// item whose parent is not in the trace is a root with "orphan": true. errors are the trace's errors
// ({"id", "parent_id", "transaction_id", "offset_us", "timestamp", "service", "grouping_key",
// "culprit", "type", "message", "handled"}) by time. At most 10,000 items are listed (truncated: true
// past it); the first 20,000 stored events of a trace are read and no more, so a trace of millions of
// events costs what 20,000 cost (truncated: true when it had that many). An unknown trace is a 404.
//
// GET /api/v1/errors?service=&name=&from=&to=&limit=
//
// The errors of a service (or of the transactions named name) in the range, grouped by their agent's
// grouping key (exception type and stack, or log message), the most frequent first:
// {"from", "to", "service", "name", "total", "groups": [{"grouping_key", "culprit", "type", "message",
// "handled", "count", "first_seen", "last_seen", "latest": {"error_id", "trace_id", "transaction_id",
// "transaction_name", "timestamp"}}], "truncated"}. At most limit groups (default 50, at most 1,000).
// The newest 50,000 errors of the range are grouped; truncated says there were more.
//
// GET /api/v1/failover?service=&from=&to=
//
// What the service's circuit breakers did (the agent's breaker hook: agent.Breaker), from aggregates the
// store keeps as it writes: {"from", "to", "service", "breakers": [{"name", "open_intervals": [{"from",
// "to"}], "changes"}], "served_by": [{"minute", "elasticsearch", "emergency_cache", "rejected"}],
// "decisions": [{"minute", "allowed", "rejected", "probe"}]}. A breaker's open intervals are exact (to
// the microsecond, from the state-change transactions the hook sends the moment a breaker changes, so
// an open period of a few milliseconds is there), clipped to the range; "to" is null while it is still
// open; changes counts its state changes in the range. served_by counts, per minute with any, the
// transactions by their label served_by (elasticsearch: the backend answered; emergency_cache; rejected:
// nobody did); decisions by breaker_decision. 404 with a store that keeps no failover aggregates.
//
// # Comparisons
//
// Did version 1.5.0 (or cluster es7, or today) make an endpoint faster, slower, or change nothing, and
// how sure is that: two populations of one service's transactions, compared endpoint by endpoint with
// the statistics of package collector/query/compare (its documentation says how each figure is
// computed and why).
//
// GET /api/v1/versions?service=&from=&to=
//
// The service.versions of a service's transactions in the range, the first seen first:
// {"from", "to", "service", "versions": [{"version", "first_seen", "last_seen", "count"}]}. first_seen
// is the start of the first minute with a transaction of the version, last_seen the end of the last.
// Transactions sent without a service.version are in none.
//
// GET /api/v1/compare?service=&by=&a=&b=&from=&to=&name=
//
// by is version (a and b are two versions), label:<key> (a and b are two values of the transaction
// label key: by=label:es_cluster&a=es2&b=es7) or time (a_from, a_to, b_from and b_to instead of a, b,
// from and to: two windows, as from and to are read). The answer: {"service", "by", "a", "b", "a_from",
// "a_to", "b_from", "b_to", "name", "min_count", "scanned", "truncated", "endpoints": [{"name",
// "a": {"count", "p50_us", "p95_us", "p99_us", "error_rate"}, "b": {...}, "p50": {"delta_us", "ci_us":
// [lo, hi], "p_value"}, "p95": {...}, "p99": {...}, "p_value", "q_value", "verdict", "reason",
// "mann_whitney": {"u", "prob_b_slower", "p_value"}, "ks": {"d", "p_value"}, "tail": {"cut_us",
// "count_a", "count_b", "count_p_value", "mean_a_us", "mean_b_us", "z", "p_value"}, "errors": {"delta",
// "ci", "p_value", "q_value", "verdict"}}], "histograms", "breakdown"}. For a time comparison a and b are the
// windows as RFC 3339 intervals ("2026-03-01T10:00:00Z/2026-03-01T11:00:00Z").
//
// Every endpoint with transactions on either side is listed, the slower first, then the faster (each
// by q_value), then no_change and too_few. delta_us is B − A; ci_us its 95% interval, null when a side
// has fewer than 5 transactions beyond the percentile. p_value tests that the two distributions are
// the same (Mann–Whitney for the bulk and the tail test for the slowest 5%, combined as
// collector/query/compare says); tail is the tail test: the pooled 95th percentile, each side's
// transactions above it and their mean durations, the test of the counts and the standardised test
// of B's durations among them (z > 0: B's slowest are slower); q_value is its Benjamini–Hochberg adjustment across the comparison's endpoints (with name,
// still across all of them, so that the one endpoint shows what the table shows). verdict is faster,
// slower, no_change or too_few (fewer than min_count, 100, transactions on a side; then p_value,
// q_value, mann_whitney, ks and tail are null); reason says why in a sentence. errors compares the error
// rates: delta (B − A), its 95% interval, the test's p- and q-values, and a verdict more_errors,
// fewer_errors, no_change or too_few.
//
// With name, the answer holds that endpoint only, and "histograms": {"a": [...], "b": [...]}, the
// latency histograms of the two sides as /api/v1/endpoint draws them (the same bars, so they
// overlay). "breakdown": {"a": {"total_us", "types": [...]}, "b": {...}} is where the time went on each
// side (of name's transactions, or of all), as /api/v1/breakdown shows it: for versions, from the
// breakdown metricsets of the agents reporting each version; for time windows, each window's; null
// for labels (breakdown metrics carry no transaction labels).
//
// Versions and time windows read the per-minute aggregates (per version and transaction name, kept
// by the store for every service.version), so they cost what /api/v1/endpoints costs. Labels are not
// aggregated: a label comparison reads the stored transactions of the service in the range, at most
// MaxCompareTransactions (2,000,000; scanned says how many were read, truncated that there were more).
// Without a store that keeps per-version aggregates (Config.Compare), versions and compare by version
// or label answer 404.
//
// # Profiles
//
// The profiles the collector received at /intake/v2/profile (hotpath's captures of slow requests and
// resource triggers, and the Elastic Go agent's periodic profiles), when Config.Profiles is set (404
// otherwise). A profile is {"id", "trigger" (slow_request, cpu, heap, goroutines, sched_latency, or
// periodic), "timestamp", "duration_us", "received", "service": {"name", "version", "environment",
// "node"}, "agent", "host", "trace_id", "transaction": {"id", "name", "sampled", "ended", "start",
// "threshold_us"} or null, "resource" or null, "cpu": {"start", "duration_us", "samples"} or null,
// "goroutine_snapshots", "errors", "parts": [{"kind", "size", "url"}]}.
//
// GET /api/v1/profiles?service=&transaction_id=&trace_id=&from=&to=&limit=&cursor=
//
// Profiles, newest first, a page at a time: {"from", "to", "profiles": [...], "next"}. With
// transaction_id or trace_id, every time unless from or to is given (from and to are then null).
//
// GET /api/v1/profiles/{id}
//
// One profile.
//
// GET /api/v1/profiles/{id}/{part}?transaction_id=
//
// A part as a file (Content-Type application/octet-stream, Content-Disposition attachment): cpu,
// goroutine and heap are gzipped pprof profiles (go tool pprof opens them, also straight from the URL
// when the collector has no secret token); with transaction_id, only the samples labelled with that
// transaction.id. trace is the Go execution trace, decompressed (go tool trace opens it).
//
// GET /api/v1/profiles/{id}/flamegraph?part=&transaction_id=&sample_type=
//
// A pprof part (part: cpu by default, else goroutine) folded for a flame graph, so that no client
// parses pprof: {"profile_id", "part", "transaction_id", "sample_type", "unit", "sample_types",
// "samples", "total", "pruned", "root": {"name", "file", "self", "total", "children": [...]},
// "functions": [{"name", "self", "total"}], "cpu"}. A node is a function called from the path of its
// ancestors; total is the value of the samples through it, self of those ending in it; frames under a
// thousandth of the total are left out and their value counted in pruned. sample_type picks the value
// (default: the profile's default, cpu for CPU profiles). functions are the 30 largest by self. For a
// CPU profile, "cpu" says how much it knows: {"samples", "sampling_period_us", "cpu_us",
// "low_sample_count" (fewer than MinCPUSamples, 50), "min_samples", "share_error" (the half-width of
// the 95% interval of a 50% share), "note" (a sentence saying so)}.
//
// GET /api/v1/transactions/{transaction_id}/profile?trace_id=
//
// A transaction's profile with its flame graphs: {"transaction_id", "trace_id", "profile_id",
// "found_by", "profile", "cpu", "goroutine"} (cpu and goroutine are flame graphs, or null). The profile
// is the one the transaction's label profile_id names (found_by "label"; needs trace_id, which finds the
// transaction); else the capture of that transaction ("capture"); else, with trace_id, a CPU profile of
// its service covering its time whose samples carry its transaction.id label ("sample_labels"): then
// only those samples are shown. A label naming a profile that is not stored is a 404 saying so.
//
// # Cost
//
// services, endpoints, endpoint, breakdown, versions and compare (by version or time) read one
// pre-aggregated value per minute of the range (per service, transaction name or version), never the
// transactions, so their cost grows with the range and the number of names, not with the traffic. transactions reads the store's indexes (by time, or by
// duration for the slowest first), and a trace one index lookup per stored day plus its events. The
// floors, measured over a store of 1M transactions and 5M spans, are in BENCHMARKS.md ("Query API").
package query
