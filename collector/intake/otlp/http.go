package otlp

import (
	"context"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/hotpath-apm/hotpath/collector/intake"
)

const (
	contentTypeProtobuf = "application/x-protobuf"
	contentTypeJSON     = "application/json"
)

// httpHandler answers OTLP/HTTP requests of one signal:
//
//   - authentication first (401), then method (POST, else 405) and Content-Type
//     (application/x-protobuf or application/json, else 415);
//   - a stream slot (503 with Retry-After when none frees up);
//   - the body, decompressed (gzip, deflate) within the limits and the memory budget;
//   - decoded (400 with a google.rpc.Status when it does not decode), mapped, stored durably;
//   - 200 with the Export*ServiceResponse, in the request's encoding, with the partial success when
//     some items were refused.
func (r *Receiver) httpHandler(sig signal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		code, msg := http.StatusInternalServerError, "panic handling request"
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				r.log.Error("panic handling OTLP/HTTP request", zap.String("url.path", req.URL.Path), zap.Any("panic", p), zap.Stack("stack"))
				func() {
					defer func() { _ = recover() }() // the response may already be half written
					writeStatus(w, false, code, failure{code: codes.Internal}, msg, 0)
				}()
				r.metrics.requests.WithLabelValues(sig.String(), transportHTTP, strconv.Itoa(code)).Inc()
			}
		}()
		code, msg = r.serveHTTP(w, req, sig)
		r.metrics.requests.WithLabelValues(sig.String(), transportHTTP, strconv.Itoa(code)).Inc()
		r.metrics.duration.WithLabelValues(sig.String(), transportHTTP).Observe(time.Since(start).Seconds())
		r.logRequest(code >= 500, code >= 400, "handled OTLP/HTTP request", zap.String("url.path", req.URL.Path),
			zap.String("source.address", req.RemoteAddr), zap.Int("http.response.status_code", code),
			zap.Duration("event.duration", time.Since(start)), zap.String("error.message", msg))
	})
}

// serveHTTP answers one request and returns its status code and, for a failure, its message.
func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request, sig signal) (int, string) {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	isJSON := ct == contentTypeJSON
	if err := r.intake.Authenticate(req.Header.Get("Authorization")); err != nil {
		return writeStatus(w, isJSON, http.StatusUnauthorized, failure{code: codes.Unauthenticated}, err.Error(), 0)
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeStatus(w, isJSON, http.StatusMethodNotAllowed, failure{code: codes.Unimplemented}, "only POST requests are supported", 0)
	}
	if ct != contentTypeProtobuf && !isJSON {
		return writeStatus(w, false, http.StatusUnsupportedMediaType, failure{code: codes.InvalidArgument},
			"unsupported content type "+strconv.Quote(req.Header.Get("Content-Type"))+": use application/x-protobuf or application/json", 0)
	}
	ctx := req.Context()
	out, err := r.exportHTTP(ctx, w, req, sig, isJSON)
	if err != nil {
		f := classify(ctx, err)
		return writeStatus(w, isJSON, f.status, f, err.Error(), r.retryAfter(f))
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out) // the client went away: nothing left to tell it
	return http.StatusOK, ""
}

func (r *Receiver) retryAfter(f failure) time.Duration {
	if f.retry {
		return r.cfg.RetryAfter
	}
	return 0
}

// exportHTTP admits, reads, decodes and exports one request body; it returns the encoded response.
func (r *Receiver) exportHTTP(ctx context.Context, w http.ResponseWriter, req *http.Request, sig signal, isJSON bool) ([]byte, error) {
	var client netip.Addr
	if ap, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
		client = ap.Addr()
	}
	adm, err := r.intake.Admit(ctx, client)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	body, err := adm.ReadBody(w, req, int64(r.cfg.MaxMessageBytes))
	if err != nil {
		return nil, err
	}
	unmarshal := func(m unmarshaler) error {
		var err error
		if isJSON {
			err = m.UnmarshalJSON(body)
		} else {
			err = m.UnmarshalProto(body)
		}
		if err != nil {
			return invalidError("failed to unmarshal request body: " + err.Error())
		}
		return nil
	}
	var resp interface {
		MarshalProto() ([]byte, error)
		MarshalJSON() ([]byte, error)
	}
	switch sig {
	case signalTraces:
		x, rsp := ptraceotlp.NewExportRequest(), ptraceotlp.NewExportResponse()
		err = exportBody(ctx, adm, unmarshal, x, x.Traces, r.exportTraces,
			rsp.PartialSuccess().SetRejectedSpans, rsp.PartialSuccess().SetErrorMessage)
		resp = rsp
	case signalMetrics:
		x, rsp := pmetricotlp.NewExportRequest(), pmetricotlp.NewExportResponse()
		err = exportBody(ctx, adm, unmarshal, x, x.Metrics, r.exportMetrics,
			rsp.PartialSuccess().SetRejectedDataPoints, rsp.PartialSuccess().SetErrorMessage)
		resp = rsp
	case signalLogs:
		x, rsp := plogotlp.NewExportRequest(), plogotlp.NewExportResponse()
		err = exportBody(ctx, adm, unmarshal, x, x.Logs, r.exportLogs,
			rsp.PartialSuccess().SetRejectedLogRecords, rsp.PartialSuccess().SetErrorMessage)
		resp = rsp
	}
	if err != nil {
		return nil, err
	}
	var out []byte
	if isJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	return out, err
}

// unmarshaler is an OTLP export request, read from either encoding.
type unmarshaler interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

// exportBody decodes a request's body into req with unmarshal, exports the data it holds and counts
// the items the export rejected in the response's partial success with setRejected and setMessage, as
// exportGRPC does for gRPC.
func exportBody[D any](ctx context.Context, adm *intake.Admission, unmarshal func(unmarshaler) error, req unmarshaler,
	data func() D, export func(context.Context, *intake.Admission, D, *clientMetadata) (result, error),
	setRejected func(int64), setMessage func(string)) error {
	if err := unmarshal(req); err != nil {
		return err
	}
	res, err := export(ctx, adm, data(), nil)
	if err != nil {
		return err
	}
	if res.rejected > 0 {
		setRejected(res.rejected)
		setMessage(res.message)
	}
	return nil
}

// writeStatus answers a failure with a google.rpc.Status body in the request's encoding, as the OTLP
// specification asks, and Retry-After when the client should retry.
func writeStatus(w http.ResponseWriter, isJSON bool, httpStatus int, f failure, msg string, retryAfter time.Duration) (int, string) {
	st := f.grpcStatus(msg, retryAfter).Proto()
	var b []byte
	if isJSON {
		b, _ = protojson.Marshal(st) // a Status always marshals
		w.Header().Set("Content-Type", contentTypeJSON)
	} else {
		b, _ = proto.Marshal(st)
		w.Header().Set("Content-Type", contentTypeProtobuf)
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(httpStatus)
	_, _ = w.Write(b)
	return httpStatus, msg
}

// logRequest writes the line of one answered request: error level for server failures, info for
// client ones, debug otherwise. Secrets are never among the fields.
func (r *Receiver) logRequest(serverErr, clientErr bool, msg string, fields ...zap.Field) {
	level := zapcore.DebugLevel
	switch {
	case serverErr:
		level = zapcore.ErrorLevel
	case clientErr:
		level = zapcore.InfoLevel
	}
	if ce := r.log.Check(level, msg); ce != nil {
		ce.Write(fields...)
	}
}
