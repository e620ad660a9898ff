package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
)

// signal is one of OTLP's three signals.
type signal uint8

const (
	signalTraces signal = iota
	signalMetrics
	signalLogs
)

var signalNames = [...]string{"traces", "metrics", "logs"}

func (s signal) String() string { return signalNames[s] }

func signalOfMethod(fullMethod string) string {
	switch {
	case len(fullMethod) > len(grpcMetricsService) && fullMethod[:len(grpcMetricsService)] == grpcMetricsService:
		return signalMetrics.String()
	case len(fullMethod) > len(grpcLogsService) && fullMethod[:len(grpcLogsService)] == grpcLogsService:
		return signalLogs.String()
	}
	return signalTraces.String()
}

// result is what an export did: the items (spans, data points, log records) it refused, and why.
type result struct {
	accepted int
	rejected int64
	message  string
}

// reject counts n items refused for msg; the partial success lists the first message.
func (r *result) reject(n int64, msg string) {
	if n <= 0 {
		return
	}
	r.rejected += n
	if r.message == "" {
		r.message = msg
	}
}

// process hands the events of one export request to the intake's Processor; it returns once they are
// durable.
func (r *Receiver) process(ctx context.Context, adm *intake.Admission, b *collector.Batch, res *result) error {
	if len(*b) == 0 {
		return nil
	}
	n := len(*b)
	if err := adm.Process(ctx, b); err != nil {
		return fmt.Errorf("cannot process batch: %w", err)
	}
	res.accepted = n
	return nil
}

// errInvalid marks a request that does not decode: OTLP's HTTP 400 and gRPC INVALID_ARGUMENT.
var errInvalid = errors.New("invalid request")

// invalidError is an errInvalid with its own message.
type invalidError string

func (e invalidError) Error() string        { return string(e) }
func (e invalidError) Is(target error) bool { return target == errInvalid }

// failure is how an error is answered, in both transports. classify is the one place errors are mapped.
type failure struct {
	status int        // HTTP
	code   codes.Code // gRPC
	retry  bool       // backpressure: the client should retry after Config.RetryAfter
	reason string     // the label of hotpath_otlp_rejected_total
}

// classify returns how err, the error of an export under ctx, is answered.
func classify(ctx context.Context, err error) failure {
	for _, a := range answers {
		if errors.Is(err, a.err) {
			return a.failure
		}
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isTimeout(err) {
		return failure{status: http.StatusServiceUnavailable, code: codes.Unavailable, retry: true, reason: "timeout"}
	}
	return failure{status: http.StatusInternalServerError, code: codes.Internal, reason: "internal"}
}

// answers are the failures of the errors classify knows, in the order it tries them (a timeout, and
// any other error, it answers itself). Read only.
var answers = [...]struct {
	err error
	failure
}{
	{errInvalid, failure{status: http.StatusBadRequest, code: codes.InvalidArgument, reason: "invalid"}},
	{intake.ErrDecompression, failure{status: http.StatusBadRequest, code: codes.InvalidArgument, reason: "decompression"}},
	{intake.ErrBodyTooLarge, failure{status: http.StatusRequestEntityTooLarge, code: codes.ResourceExhausted, reason: "body_too_large"}},
	{collector.ErrQueueFull, failure{status: http.StatusServiceUnavailable, code: codes.ResourceExhausted, retry: true, reason: "queue_full"}},
	{intake.ErrStreamLimit, failure{status: http.StatusServiceUnavailable, code: codes.ResourceExhausted, retry: true, reason: "stream_limit"}},
	{intake.ErrMemoryBudget, failure{status: http.StatusServiceUnavailable, code: codes.ResourceExhausted, retry: true, reason: "memory_budget"}},
	{collector.ErrShuttingDown, failure{status: http.StatusServiceUnavailable, code: codes.Unavailable, retry: true, reason: "shutting_down"}},
	{collector.ErrStorageUnavailable, failure{status: http.StatusServiceUnavailable, code: codes.Unavailable, retry: true, reason: "storage"}},
	{intake.ErrTooSlow, failure{status: http.StatusServiceUnavailable, code: codes.Unavailable, retry: true, reason: "too_slow"}},
}

// grpcStatus is the gRPC status of a failure, with RetryInfo when the client should retry (OTLP
// clients retry RESOURCE_EXHAUSTED only with it).
func (f failure) grpcStatus(msg string, retryAfter time.Duration) *status.Status {
	st := status.New(f.code, msg)
	if f.retry {
		if withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); err == nil {
			st = withInfo
		}
	}
	return st
}

type timeout interface{ Timeout() bool }

func isTimeout(err error) bool {
	var t timeout
	return errors.As(err, &t) && t.Timeout()
}

// exportTraces maps td into events and stores them. Spans without a valid trace id or span id (the
// OTLP specification requires both) are refused and reported in the partial success; the others are
// stored.
func (r *Receiver) exportTraces(ctx context.Context, adm *intake.Admission, td ptrace.Traces, meta *clientMetadata) (result, error) {
	var res result
	res.reject(dropInvalidSpans(td), "spans without a valid trace_id or span_id were rejected")
	err := r.export(ctx, adm, meta, &res, func(t *translator, dst []collector.Event) []collector.Event {
		return t.traces(td, time.Now(), dst)
	})
	r.countItems(signalTraces, int64(td.SpanCount()), res, err)
	return res, err
}

// export translates a request with a pooled translator (translate appends its events to dst), gives
// the events the client's metadata and stores them under adm, adding to res what was accepted.
func (r *Receiver) export(ctx context.Context, adm *intake.Admission, meta *clientMetadata, res *result,
	translate func(t *translator, dst []collector.Event) []collector.Event) error {
	t := r.pool.Get().(*translator)
	defer r.pool.Put(t)
	t.batch = translate(t, t.batch[:0])
	meta.apply(t.batch)
	err := r.process(ctx, adm, &t.batch, res)
	t.reset()
	return err
}

// dropInvalidSpans removes the spans whose trace or span id is empty (all zero) and returns how many.
func dropInvalidSpans(td ptrace.Traces) int64 {
	var n int64
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			sss.At(j).Spans().RemoveIf(func(s ptrace.Span) bool {
				if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
					n++
					return true
				}
				return false
			})
		}
	}
	return n
}

// countItems counts an export's items as accepted or rejected; kept is what the request held after
// the rejected were removed.
func (r *Receiver) countItems(sig signal, kept int64, res result, err error) {
	if err != nil {
		return
	}
	r.metrics.items.WithLabelValues(sig.String(), "accepted").Add(float64(kept))
	r.metrics.items.WithLabelValues(sig.String(), "rejected").Add(float64(res.rejected))
}
