package otlp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/internal/selfmetrics"
)

const (
	transportHTTP = "http"
	transportGRPC = "grpc"
)

// metrics are the receiver's own; what it shares with intake (stream slots, memory budget, accepted
// events, refusals of the shared limits) is counted in intake's hotpath_intake_* metrics.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	items    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: selfmetrics.CounterVec("hotpath_otlp_requests_total",
			"OTLP export requests answered, by signal, transport (http, grpc) and status (HTTP status code or gRPC code name).",
			"signal", "transport", "code"),
		duration: selfmetrics.HistogramVec("hotpath_otlp_request_duration_seconds",
			"Time from receiving an OTLP export request to answering it (after a durable commit).",
			prometheus.ExponentialBuckets(0.001, 2, 16), "signal", "transport"),
		items: selfmetrics.CounterVec("hotpath_otlp_items_total",
			"Spans, data points and log records received, by signal and result (accepted, rejected: the partial success).",
			"signal", "result"),
	}
	if err := selfmetrics.Register(reg, m.requests, m.duration, m.items); err != nil {
		return nil, err
	}
	return m, nil
}
