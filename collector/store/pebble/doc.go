// Package pebble is hotpath's embedded event store, on CockroachDB's Pebble (an LSM key-value engine,
// chosen by measurement: see BENCHMARKS.md, "Store"). It owns durability, the indexes the query API
// needs, the event log the Elasticsearch exporter reads, and retention.
//
// # Writing
//
// A *Store is a collector.BatchProcessor. ProcessBatch encodes the batch in the caller's goroutine and
// queues it; one writer goroutine takes everything queued (up to Config.MaxCommitBytes), writes it as
// one record of the store's journal and one Pebble batch, and fsyncs the journal once, then answers
// every caller of the group (group commit). So ProcessBatch returns nil only when the batch is on disk,
// and concurrent intake requests share fsyncs.
//
// The journal (journal.go) is the store's write-ahead log; Pebble runs without its own. It logs a group
// commit's events, compressed as they are stored, and not the index entries, aggregates and partition
// meta the group derives from them: after a crash, Open derives those again from the journal's records
// that the database's tables lack (replay). So the log takes about a third of what Pebble's WAL took per
// event, and the aggregates' values, rewritten whole by every commit, are never logged. Every other
// commit (cursors, profiles, retention) is logged as its Pebble batch.
//
// The writer applies the next group while the previous one's fsync runs; the groups are answered in
// order, each once its own fsync is done. A failed write or fsync of the journal fails its group and every
// group behind it; the store then refuses writes (an error that Is collector.ErrStorageUnavailable)
// and reopens its database by itself, with backoff, once a test write succeeds: the reopened database
// holds the journal's durable prefix, and sequence numbers continue after the highest one assigned. A
// free-space floor (Config.MinFreeDisk) refuses batches the same way before the disk fills; so does an
// fsync that hangs for Config.StallTimeout (stall.go), and a full disk that the floor did not foresee,
// once the disk reserve (Config.DiskReserve, reserve.go) has given its space to the writes Pebble had
// started. Reads go on throughout. See health.go.
// The queue is bounded by bytes (Config.QueueBytes, and the collector.MemoryBudget it may share with
// intake, Config.Budget); a batch that does not fit waits at most
// Config.EnqueueTimeout, then gets collector.ErrQueueFull. After Close, collector.ErrShuttingDown (and
// reads return ErrClosed). EnqueueBatch splits ProcessBatch in two (queue now, wait later), so that one
// intake stream can keep several batches in flight (intake.BatchEnqueuer).
//
// Every event gets a sequence number, assigned by the writer in commit order and never reused: the
// event log. LastSeq is the newest durable one; ReadFrom(from, limit) reads the log, WaitFor waits for
// it to grow, and named durable cursors (RegisterCursor, CommitCursor) remember where a consumer is.
//
// # What one trace may take
//
// One trace id keeps at most Config.MaxTraceEvents events per ingest day (100,000 by default, what
// GetTrace reads at most): the trace's later events are dropped when their batch is queued, counted in
// hotpath_store_trace_events_dropped_total, and the trace id is logged once when it reaches the cap.
// A client repeating one trace id (millions of events in one gzip body) cannot make the store keep
// them. The counts are a count-min sketch of 1 MiB (tracecap.go): never below the true count.
//
// # Events and their encoding
//
// Events are stored whole, in chunks of about 32 KiB of a ProcessBatch call's events (chunk.go: one key
// for dozens of events, which have consecutive sequence numbers), each event in a binary codec generated from collector.Event (codec_gen.go, by
// internal/gencodec; protobuf's wire format with field numbers kept in codec.lock), so every field
// survives a round trip; timestamps come back in UTC and empty slices as nil. A field added to the model
// without regenerating the codec fails TestCodecGeneratedIsCurrent and the round-trip tests. The fields
// the events of one intake stream share (agent, service, host, process, observer...) are about half of
// an event's encoding: a chunk holds each distinct encoding of them once, and prepare encodes them
// once per distinct value in a batch, found by comparing the events' memory (the events of a stream
// each hold a copy of its metadata). A chunk is
// compressed (MinLZ) by the caller's goroutine before it is queued: the events of one request share
// most of their bytes, so the journal, the flushes and the blob files (Pebble separates the chunks from the
// indexes' tables, and does not compress them again) take about a tenth of the encoded size. Chunks
// written uncompressed, with each event's whole encoding, or of a whole request, by earlier versions are
// read as before.
//
// # Keys and partitions
//
// Keys are grouped by ingest hour (a partition). The indexes, all written in the same batch as the event:
//
//   - trace id (per ingest day) -> sequence numbers: GetTrace. One key per trace per batch, ending with
//     the first event's sequence number; its value holds the gaps to the trace's other events of the
//     batch.
//   - service, transaction name, timestamp -> TransactionSummary: Transactions ordered by time.
//   - service, transaction name, duration (longest first), timestamp -> nothing: Transactions ordered
//     by duration ("the 50 slowest of an endpoint in 24 h"), whose summaries are read from the time
//     index entry the key names (its key minus the duration). Entries of earlier versions carry the
//     summary themselves, and are read as they are.
//   - service, timestamp -> ErrorSummary: Errors.
//   - service, transaction type and name, per partition: Services.
//
// Trace ids are random. In a global B-tree index, random keys scatter writes over the whole index, and
// insert rate falls as it outgrows memory. Here the trace key starts with the day, so new keys only
// mix with the current day's, and Pebble's LSM writes them sequentially anyway.
// Partitions record the range of event timestamps they hold, so a query by time visits only the
// partitions that may hold its range (an agent with a skewed clock costs one more seek, never a missed
// event).
//
// # Retention
//
// Retention (Config.MaxAge, Config.MaxDisk) runs in the background and deletes whole partitions, oldest
// first, with range deletions, never event by event, and never the partition being written. It does not
// delete events a registered cursor has not passed. If the disk budget is reached and the oldest
// partition is held by a cursor (the Elasticsearch exporter while Elasticsearch is down), ProcessBatch
// refuses batches with ErrDiskBudget, which errors.Is collector.ErrQueueFull: the intake answers 503
// "queue is full", the answer APM Server gives when its output is blocked; agents keep the events and
// retry or drop them by their own policy. Acknowledged events are never deleted to make room. Once the
// cursor moves on (CommitCursor), retention runs and intake resumes.
//
// # Reading
//
// GetTrace, Get, GetMany, ReadFrom, Transactions (by time or duration, with a page cursor, filtered by
// result, minimum duration and labels), Errors and Services, in the read-side types of package
// collector (collector.TransactionQuery, collector.TransactionSummary...): the Store implements the query
// API's interfaces (query.Store, query.ProfileReader) as it is.
//
// # Aggregates
//
// The writer also keeps pre-aggregated series (aggregate.go), in the same commit as the events: per
// service and per transaction name, per minute of event time, the transaction counts by outcome and an
// HDR histogram of their durations (1 µs to 1 h, 2 significant digits); and per transaction name and
// minute, the span self-time by span type and subtype from the agents' breakdown metricsets.
// TransactionAggregate, EndpointAggregates and Breakdown read them: percentiles over any range are read
// from the sum of the minutes' histograms, so they are exact to within the histogram's 1%, never averages
// of averages, and their cost grows with the range, not with the traffic.
//
// Transactions and breakdown metricsets that carry a service.version are aggregated a second time under
// their version (version_aggregate.go): per service and version, per version and transaction name, and
// the breakdown per version and name. Versions, VersionAggregates and VersionBreakdown read them, for
// the query API's version comparisons; a service has few versions, so this costs a few keys a minute.
//
// Database spans are aggregated per service and query shape (collector.ShapeOf: Elasticsearch's, and
// SQL's through collector/sqlshape), and exit spans per dependency, by minute and by hour, with the
// slowest few calls of each hour (queryshape.go). QueryShapes and Dependencies list a service's over a
// range, reading the range's partitions side by side a shape at a time (queryshape_list.go);
// QueryShape and Dependency read one with its series and slowest calls.
//
// What the aggregates do not keep, such as a label's value, ScanLabel reads from the transactions
// themselves, in one pass over a service's time index, its hourly partitions in parallel.
//
// # Profiles
//
// StoreProfile keeps the uploads of /intake/v2/profile (collector.Profile: a record, and its parts'
// data in chunks of 1 MiB, written in batches of a few MiB and made visible by one synced batch with the
// record and its index entries: by id, by time, by service and time, by transaction and by trace).
// Profile, ProfilePart and Profiles read them. They are under the ingest hour they were stored in and
// retention deletes them with that hour: by age (also hours that held only profiles), and by disk with
// the hour's events. The disk budget refuses them as it refuses events. See profiles.go.
//
// # Metrics
//
// With Config.Registerer set: hotpath_store_commit_seconds (histogram, group commit including fsync),
// hotpath_store_commit_events, hotpath_store_events_total, hotpath_store_rejected_batches_total{reason},
// hotpath_store_queue_batches, hotpath_store_queue_bytes, hotpath_store_disk_bytes,
// hotpath_store_events, hotpath_store_retention_deleted_events_total{reason},
// hotpath_store_retention_deleted_partitions_total{reason}, hotpath_store_write_stalls_total,
// hotpath_store_trace_events_dropped_total, hotpath_store_journal_checkpoints_total,
// hotpath_store_journal_replayed_records_total, and the disk's health: hotpath_store_writable,
// hotpath_store_write_failures_total, hotpath_store_recoveries_total, hotpath_store_disk_stalls_total,
// hotpath_store_disk_reserve_releases_total, hotpath_store_disk_free_bytes and
// hotpath_store_disk_free_floor_bytes.
package pebble
