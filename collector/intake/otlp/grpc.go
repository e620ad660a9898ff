package otlp

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	// Registers the gzip compressor with gRPC, which OTLP exporters may use (OTEL_EXPORTER_OTLP_COMPRESSION=gzip).
	_ "google.golang.org/grpc/encoding/gzip"

	"github.com/hotpath-apm/hotpath/collector/intake"
)

type traceServer struct {
	r *Receiver
}

// Export is the TraceService's Export.
func (s *traceServer) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	rsp, td := ptraceotlp.NewExportResponse(), req.Traces()
	err := exportGRPC(ctx, s.r, signalTraces, td, new(ptrace.ProtoMarshaler).TracesSize(td), s.r.exportTraces,
		rsp.PartialSuccess().SetRejectedSpans, rsp.PartialSuccess().SetErrorMessage)
	return rsp, err
}

type metricsServer struct {
	r *Receiver
}

// Export is the MetricsService's Export.
func (s *metricsServer) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	rsp, md := pmetricotlp.NewExportResponse(), req.Metrics()
	err := exportGRPC(ctx, s.r, signalMetrics, md, new(pmetric.ProtoMarshaler).MetricsSize(md), s.r.exportMetrics,
		rsp.PartialSuccess().SetRejectedDataPoints, rsp.PartialSuccess().SetErrorMessage)
	return rsp, err
}

type logsServer struct {
	r *Receiver
}

// Export is the LogsService's Export.
func (s *logsServer) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	rsp, ld := plogotlp.NewExportResponse(), req.Logs()
	err := exportGRPC(ctx, s.r, signalLogs, ld, new(plog.ProtoMarshaler).LogsSize(ld), s.r.exportLogs,
		rsp.PartialSuccess().SetRejectedLogRecords, rsp.PartialSuccess().SetErrorMessage)
	return rsp, err
}

// exportGRPC admits a gRPC export of data, size bytes decoded (charged to the memory budget), runs
// export on it, and maps its error to a gRPC status. Items the export rejected are counted in the
// response's partial success with setRejected and setMessage.
func exportGRPC[D any](ctx context.Context, r *Receiver, sig signal, data D, size int,
	export func(context.Context, *intake.Admission, D, *clientMetadata) (result, error),
	setRejected func(int64), setMessage func(string)) error {
	start := time.Now()
	res, err := func() (result, error) {
		adm, err := r.intake.Admit(ctx, grpcPeer(ctx))
		if err != nil {
			return result{}, err
		}
		defer adm.Close()
		if err := adm.Charge(size); err != nil {
			return result{}, err
		}
		return export(ctx, adm, data, grpcClientMetadata(ctx))
	}()
	code := codes.OK
	msg := ""
	if err != nil {
		f := classify(ctx, err)
		code, msg = f.code, err.Error()
		err = f.grpcStatus(msg, r.retryAfter(f)).Err()
	}
	r.metrics.requests.WithLabelValues(sig.String(), transportGRPC, code.String()).Inc()
	r.metrics.duration.WithLabelValues(sig.String(), transportGRPC).Observe(time.Since(start).Seconds())
	serverErr := code == codes.Internal || code == codes.Unavailable || code == codes.ResourceExhausted
	r.logRequest(serverErr, code != codes.OK, "handled OTLP/gRPC request", zap.String("signal", sig.String()),
		zap.String("grpc.code", code.String()), zap.Duration("event.duration", time.Since(start)), zap.String("error.message", msg))
	if res.rejected > 0 {
		setRejected(res.rejected)
		setMessage(res.message)
	}
	return err
}
