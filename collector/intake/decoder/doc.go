// Package decoder owns hotpath's decoding of Elastic APM intake v2 streams (the ndjson bodies agents
// POST to /intake/v2/events) into collector.Events. It gives the results APM Server gives: the same
// events with the same field values as Elastic's decoder (github.com/elastic/apm-data,
// input/elasticapm), the same accepted counts, and the same errors with the same message prefixes.
//
// # Use
//
//	d := decoder.New(decoder.Options{})          // pool Decoders: one per concurrent stream
//	res, err := d.Decode(ctx, body, &base, store) // base: request time, client address...
//
// Decode reads lines up to Options.MaxEventSize (300 KiB by default, APM Server's), hands batches of
// Options.BatchSize events to a collector.BatchProcessor, and returns APM Server's view of the stream
// as a Result. The intake maps it to a response: every Error in Result.Errors is an invalid-input error
// (ErrorKind.HTTPStatus: 400); a non-nil error from Decode is the BatchProcessor's (wrapped as
// "cannot handle stream: cannot process batch: ...", so errors.Is finds collector.ErrQueueFull and
// collector.ErrShuttingDown, 503 in APM Server), the reader's, or ctx's.
//
// # Stream rules (as APM Server)
//
//   - The first line must be metadata ({"metadata": {...}}); without it, or with an invalid one, the
//     stream is refused: one Error, nothing accepted. An empty body is accepted with 0 events. A
//     metadata line that ends the body without a newline is refused ("EOF while reading metadata").
//   - An event line that fails is recorded and skipped; decoding continues with the next line. The
//     first MaxErrors errors are listed, all are counted (Result.Invalid, Result.TooLarge).
//   - Empty lines are skipped. A line's type is its first key, found as APM Server finds it (the text
//     between the first pair of quotes); anything after the first JSON value on a line is ignored.
//   - Size limit: a line is decoded when its content and '\n' fit in MaxEventSize bytes (the last line
//     of a body, without '\n', may use all MaxEventSize bytes when the reader reports io.EOF with its
//     last bytes, as HTTP bodies do). A longer line is an ErrTooLarge whose Document is its first
//     MaxEventSize bytes.
//   - Accepted counts the events of batches the BatchProcessor accepted, including events it then
//     drops (APM Server counts unsampled transactions it does not index).
//
// # Field mapping
//
// Each event is the base event, overlaid with the metadata, overlaid with the event's fields, mapped as
// apm-data's model decoder maps them: ids, timestamps (a span without a timestamp is placed at the
// request time plus its start offset), durations, outcome (given, or derived from the HTTP status),
// sample_rate as representative count, type/subtype/action split from a dotted span type, labels with
// event tags replacing metadata labels of the same key, context.request into http.* and url.*, the
// client and source addresses from the socket and from Forwarded / X-Real-IP / X-Forwarded-For, user
// (an event's user replaces the metadata's whole), service and agent overrides, exception chains,
// stack frames, metricset samples with histograms, breakdown metricsets as span.self_time, log events
// in flat or nested ECS form, and OpenTelemetry bridge attributes and span kind through apm-data's OTLP
// translation. Free-form values (custom context, request bodies, cookies, env, frame vars, exception
// attributes) are kept as normalized JSON text (collector.RawJSON). For errors, Event.Message is set
// from the log or exception message, as APM Server's first processor does. RUM v3 (the "m" metadata,
// "x" and "e" events) is not supported: such lines are decode errors. APM Server's other processors
// (host.hostname and host.name from Kubernetes, service.node.name defaults, error grouping keys, data
// streams, dropping unsampled transactions) are not applied: they belong to whoever renders or filters
// the events.
//
// # Memory
//
// Strings in Events are views of append-only blocks of 64 KiB that the decoder never writes again:
// consumers may keep them. Everything else in an Event (the Event values, the pointed-to structs, the
// slices) is reused for the next batch once ProcessBatch returns, per the collector.BatchProcessor
// contract. Nesting is limited to 1000 levels and lines to MaxEventSize. What an invalid event decoded
// before failing stays in the pool until the batch is handed on; past 8 MiB of it the batch is handed
// on early (smaller than BatchSize). Memory per Decoder is thus bounded by MaxEventSize and BatchSize.
//
// # Differences from APM Server
//
// bench/decoder checks both decoders side by side on every fixture, at the size limit's boundary with
// several readers, and on fuzzed lines. APM Server's acceptance is kept where jsoniter, its JSON
// library, is lenient: a repeated key of a map (labels, samples, headers, attributes, custom context)
// keeps its last value; numbers of ignored fields and of free-form values are read as jsoniter reads
// them (a free-form number that is not valid JSON is kept as null); a float may start with '+'. The
// known differences, all for input no agent sends:
//
//   - object keys match exactly; jsoniter also matches struct fields case-insensitively;
//   - a string with a raw control character is invalid JSON here; jsoniter accepts it;
//   - nesting is limited to 1000 levels (jsoniter: 10000);
//   - RUM v3 lines ("m", "x", "e") are decode errors; APM Server decodes them;
//   - when an event breaks several schema rules, the one reported may differ; decode messages follow
//     jsoniter's layout ("decode error: data read error: v2.transactionRoot.Transaction:
//     v2.transaction.ID: ReadString: expects \" or n,") but not always its wording;
//   - a failure to read the body ends the stream with an error from Decode, where APM Server lists a
//     failure while reading the metadata line as an invalid-input error.
package decoder
