package otlp

import "github.com/prometheus/client_golang/prometheus"

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
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotpath_otlp_requests_total",
			Help: "OTLP export requests answered, by signal, transport (http, grpc) and status (HTTP status code or gRPC code name).",
		}, []string{"signal", "transport", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hotpath_otlp_request_duration_seconds",
			Help:    "Time from receiving an OTLP export request to answering it (after a durable commit).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"signal", "transport"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotpath_otlp_items_total",
			Help: "Spans, data points and log records received, by signal and result (accepted, rejected: the partial success).",
		}, []string{"signal", "result"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.items} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
