package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/hotpath-apm/hotpath/collector/intake"
)

// Defaults of Config's fields.
const (
	// DefaultMaxMessageBytes bounds one export request after decompression, for OTLP/HTTP and
	// OTLP/gRPC alike. The OpenTelemetry SDKs' batch processors send at most 512 spans per request by
	// default (well under 1 MiB); APM Server takes gRPC's default of 4 MiB.
	DefaultMaxMessageBytes = 16 << 20
	// DefaultRetryAfter is the delay an answer of backpressure (HTTP 503, gRPC RESOURCE_EXHAUSTED or
	// UNAVAILABLE) asks clients to wait before they retry.
	DefaultRetryAfter = time.Second
)

// Config configures a Receiver. The zero value of every field except Intake means its default.
type Config struct {
	// Intake is the Elastic intake whose authentication, stream slots, body limits, memory budget and
	// Processor the receiver shares (see intake.Admission). Required.
	Intake *intake.API

	// Logger receives one line per refused request (info for 4xx, error for 5xx) and a debug line per
	// accepted one. Default: no logging.
	Logger *zap.Logger

	// Registerer receives the receiver's metrics (hotpath_otlp_*). Default: kept, not registered.
	Registerer prometheus.Registerer

	// MaxMessageBytes bounds an export request after decompression (the body of OTLP/HTTP, the message
	// of OTLP/gRPC), within the intake's own body limits. Default: DefaultMaxMessageBytes.
	MaxMessageBytes int

	// RetryAfter is the delay answers of backpressure ask for. Default: DefaultRetryAfter.
	RetryAfter time.Duration
}

// Receiver serves OTLP: OTLP/HTTP on /v1/traces, /v1/metrics and /v1/logs, and OTLP/gRPC's trace,
// metrics and logs services, on the collector's one port. Create it with New, mount it with Register.
type Receiver struct {
	cfg     Config
	intake  *intake.API
	log     *zap.Logger
	metrics *metrics
	grpc    *grpc.Server
	pool    sync.Pool // *translator
}

// New checks cfg and returns a Receiver.
func New(cfg Config) (*Receiver, error) {
	if cfg.Intake == nil {
		return nil, errors.New("otlp: Config.Intake is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("otlp: register metrics: %w", err)
	}
	r := &Receiver{cfg: cfg, intake: cfg.Intake, log: cfg.Logger, metrics: m}
	r.pool.New = func() any { return new(translator) }
	r.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(cfg.MaxMessageBytes),
		grpc.ForceServerCodecV2(newRawCodec()),
		grpc.ChainUnaryInterceptor(r.recoverInterceptor, r.authInterceptor),
	)
	r.registerGRPC(r.grpc)
	return r, nil
}

// The OTLP/HTTP paths, and the OTLP/gRPC services' paths (HTTP/2 requests of gRPC are routed by path
// like any other).
const (
	PathTraces  = "/v1/traces"
	PathMetrics = "/v1/metrics"
	PathLogs    = "/v1/logs"

	grpcTraceService   = "/opentelemetry.proto.collector.trace.v1.TraceService/"
	grpcMetricsService = "/opentelemetry.proto.collector.metrics.v1.MetricsService/"
	grpcLogsService    = "/opentelemetry.proto.collector.logs.v1.LogsService/"
)

// Protocols returns the protocols of a server that mounts the receiver: HTTP/1.1, and unencrypted HTTP/2
// with prior knowledge (h2c), as gRPC clients speak it without TLS, on the same port. Set it as the
// http.Server's Protocols.
func Protocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// Register mounts OTLP on mux: the OTLP/HTTP paths, and the paths of the gRPC services, which the
// server must serve over HTTP/2 without TLS (h2c, see Protocols and the package documentation).
func (r *Receiver) Register(mux *http.ServeMux) {
	mux.Handle(PathTraces, r.httpHandler(signalTraces))
	mux.Handle(PathMetrics, r.httpHandler(signalMetrics))
	mux.Handle(PathLogs, r.httpHandler(signalLogs))
	for _, p := range []string{grpcTraceService, grpcMetricsService, grpcLogsService} {
		mux.Handle(p, r.grpcHandler())
	}
}

// grpcHandler serves gRPC requests with the gRPC server, and answers anything else on the services'
// paths (HTTP/1.1, another content type) 415 as OTLP/HTTP does.
func (r *Receiver) grpcHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.ProtoMajor != 2 || !isGRPC(req.Header.Get("Content-Type")) {
			http.Error(w, "gRPC requests need HTTP/2 and Content-Type application/grpc", http.StatusUnsupportedMediaType)
			return
		}
		r.grpc.ServeHTTP(w, req)
	})
}

func isGRPC(ct string) bool {
	return len(ct) >= len("application/grpc") && ct[:len("application/grpc")] == "application/grpc"
}

// Stop ends the gRPC requests in flight (the HTTP server's Shutdown waits for them otherwise).
func (r *Receiver) Stop() { r.grpc.Stop() }

// authInterceptor checks the authorization metadata as intake checks the Authorization header.
func (r *Receiver) authInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if r.intake.AuthRequired() {
		var auth string
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get("authorization"); len(v) > 0 {
				auth = v[0]
			}
		}
		if err := r.intake.Authenticate(auth); err != nil {
			r.metrics.requests.WithLabelValues(signalOfMethod(info.FullMethod), transportGRPC, codes.Unauthenticated.String()).Inc()
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
	}
	return h(ctx, req)
}

// recoverInterceptor answers a panic with INTERNAL and logs it, as intake answers one with 500.
func (r *Receiver) recoverInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic handling gRPC request", zap.String("method", info.FullMethod), zap.Any("panic", p), zap.Stack("stack"))
			resp, err = nil, status.Error(codes.Internal, "panic handling request")
		}
	}()
	return h(ctx, req)
}
