package intake

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/internal/selfmetrics"
)

// Reasons a request or an event is refused: the values of the "reason" label of
// hotpath_intake_rejected_total. A fixed set, so the label's cardinality is bounded.
const (
	reasonUnauthorized  = "unauthorized"   // 401
	reasonForbidden     = "forbidden"      // 403 (RUM is disabled)
	reasonMethod        = "method"         // wrong HTTP method
	reasonContentType   = "content_type"   // not application/x-ndjson
	reasonDecompression = "decompression"  // Content-Encoding or sniffed compression that does not decode
	reasonInvalidEvent  = "invalid"        // an event (or the metadata) failed to decode or validate
	reasonTooLarge      = "too_large"      // an event exceeded MaxEventSize
	reasonBodyTooLarge  = "body_too_large" // the request body exceeded MaxBodyBytes or MaxDecodedBytes
	reasonQueueFull     = "queue_full"     // the store's queue was full (503)
	reasonShuttingDown  = "shutting_down"  // the store was closed (503)
	reasonStorage       = "storage"        // the store cannot write for now: its disk (503)
	reasonStreamLimit   = "stream_limit"   // MaxConcurrentStreams were busy for StreamWait (503)
	reasonMemoryBudget  = "memory_budget"  // the streams' decoded bytes reached MemoryBudget (503)
	reasonTooSlow       = "too_slow"       // the body arrived slower than MinStreamRate (503)
	// a client held MaxStreamsPerClient slots for StreamWait (503)
	reasonClientStreamLimit = "client_stream_limit"
	reasonTimeout           = "timeout"       // the client was too slow or went away
	reasonInternal          = "internal"      // anything else (500)
	reasonInvalidQuery      = "invalid_query" // a malformed agent configuration query
)

// Endpoint names: the values of the "endpoint" label.
const (
	endpointEvents      = "events"
	endpointRoot        = "root"
	endpointAgentConfig = "agent_config"
	endpointRUM         = "rum"
	endpointNotFound    = "not_found"
)

// metrics are intake's self-metrics. The store registers its own (queue depth, commit latency).
type metrics struct {
	accepted       prometheus.Counter
	rejected       *prometheus.CounterVec
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	streams        prometheus.Gauge
	streamsWaiting prometheus.Gauge
	bodyBytes      prometheus.Counter
	memoryInUse    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		accepted: selfmetrics.Counter("hotpath_intake_events_accepted_total",
			"Events decoded and durably stored (counted in a 2xx answer's accepted)."),
		rejected: selfmetrics.CounterVec("hotpath_intake_rejected_total",
			"Refusals by reason: events for invalid and too_large, requests for the other reasons.", "reason"),
		requests: selfmetrics.CounterVec("hotpath_intake_requests_total",
			"Requests answered, by endpoint and HTTP status code.", "endpoint", "code"),
		// 1 ms .. ~32 s: intake streams last up to the agents' request time (10 s by default).
		duration: selfmetrics.HistogramVec("hotpath_intake_request_duration_seconds",
			"Time from receiving a request to answering it; for events, until every batch is durable.",
			prometheus.ExponentialBuckets(0.001, 2, 16), "endpoint"),
		streams: selfmetrics.Gauge("hotpath_intake_streams_in_flight",
			"Intake event streams being decoded now (at most MaxConcurrentStreams)."),
		streamsWaiting: selfmetrics.Gauge("hotpath_intake_streams_waiting",
			"Intake event streams waiting for a free stream slot."),
		bodyBytes: selfmetrics.Counter("hotpath_intake_request_body_bytes_total",
			"Bytes of intake request bodies read, as received (compressed)."),
		memoryInUse: selfmetrics.Gauge("hotpath_intake_decoded_bytes_in_flight",
			"Decompressed bytes held by batches not yet handed to the store (at most MemoryBudget)."),
	}
	err := selfmetrics.Register(reg, m.accepted, m.rejected, m.requests, m.duration, m.streams, m.streamsWaiting,
		m.bodyBytes, m.memoryInUse)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *metrics) reject(reason string) { m.rejected.WithLabelValues(reason).Inc() }
