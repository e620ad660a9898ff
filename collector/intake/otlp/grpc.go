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
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	// Registers the gzip compressor with gRPC, which OTLP exporters may use (OTEL_EXPORTER_OTLP_COMPRESSION=gzip).
	_ "google.golang.org/grpc/encoding/gzip"

	"github.com/hotpath-apm/hotpath/collector/intake"
)

func (r *Receiver) registerGRPC(s *grpc.Server) {
	ptraceotlp.RegisterGRPCServer(s, &traceServer{r: r})
	pmetricotlp.RegisterGRPCServer(s, &metricsServer{r: r})
	plogotlp.RegisterGRPCServer(s, &logsServer{r: r})
}

type traceServer struct {
	ptraceotlp.UnimplementedGRPCServer
	r *Receiver
}

// Export is the TraceService's Export.
func (s *traceServer) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	rsp := ptraceotlp.NewExportResponse()
	var sizer ptrace.ProtoMarshaler
	res, err := s.r.exportGRPC(ctx, signalTraces, sizer.TracesSize(req.Traces()), func(adm *intake.Admission) (result, error) {
		return s.r.exportTraces(ctx, adm, req.Traces(), grpcClientMetadata(ctx))
	})
	if res.rejected > 0 {
		rsp.PartialSuccess().SetRejectedSpans(res.rejected)
		rsp.PartialSuccess().SetErrorMessage(res.message)
	}
	return rsp, err
}

type metricsServer struct {
	pmetricotlp.UnimplementedGRPCServer
	r *Receiver
}

// Export is the MetricsService's Export.
func (s *metricsServer) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	rsp := pmetricotlp.NewExportResponse()
	var sizer pmetric.ProtoMarshaler
	res, err := s.r.exportGRPC(ctx, signalMetrics, sizer.MetricsSize(req.Metrics()), func(adm *intake.Admission) (result, error) {
		return s.r.exportMetrics(ctx, adm, req.Metrics(), grpcClientMetadata(ctx))
	})
	if res.rejected > 0 {
		rsp.PartialSuccess().SetRejectedDataPoints(res.rejected)
		rsp.PartialSuccess().SetErrorMessage(res.message)
	}
	return rsp, err
}

type logsServer struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

// Export is the LogsService's Export.
func (s *logsServer) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	rsp := plogotlp.NewExportResponse()
	var sizer plog.ProtoMarshaler
	res, err := s.r.exportGRPC(ctx, signalLogs, sizer.LogsSize(req.Logs()), func(adm *intake.Admission) (result, error) {
		return s.r.exportLogs(ctx, adm, req.Logs(), grpcClientMetadata(ctx))
	})
	if res.rejected > 0 {
		rsp.PartialSuccess().SetRejectedLogRecords(res.rejected)
		rsp.PartialSuccess().SetErrorMessage(res.message)
	}
	return rsp, err
}

// exportGRPC admits a gRPC export of size bytes (the decoded message, charged to the memory budget),
// runs it, and maps its error to a gRPC status.
func (r *Receiver) exportGRPC(ctx context.Context, sig signal, size int, export func(*intake.Admission) (result, error)) (result, error) {
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
		return export(adm)
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
	return res, err
}
