package agent

import (
	"context"

	"go.elastic.co/apm/module/apmzap/v2"
	"go.elastic.co/apm/v2"
	"go.uber.org/zap"
)

// Logger returns base with the ids of the transaction and span in ctx, in ECS names: trace.id,
// transaction.id and span.id (apmzap.TraceContext), so that log lines and traces point at each other. When
// ctx holds no transaction it returns base itself.
func Logger(ctx context.Context, base *zap.Logger) *zap.Logger {
	fields := apmzap.TraceContext(ctx)
	if len(fields) == 0 {
		return base
	}
	return base.With(fields...)
}

// ReportErrors returns base with apmzap's core added: entries at error level and above are also sent to
// APM as errors, through tracer (apm.DefaultTracer() if nil), attached to the trace whose ids the entry
// carries (log through Logger(ctx, ...) of the returned logger), with a zap.Error field as the exception.
// Build it once and derive per-request loggers from it.
func ReportErrors(base *zap.Logger, tracer *apm.Tracer) *zap.Logger {
	core := &apmzap.Core{Tracer: tracer}
	return base.WithOptions(zap.WrapCore(core.WrapCore))
}
