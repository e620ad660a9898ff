package otlp

import (
	"context"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// The receiver's gRPC services take and give their messages as protobuf bytes (rawMessage) and decode
// them with pdata in the handler. gRPC answers a message its codec cannot decode with INTERNAL, before
// any interceptor runs; the OTLP specification asks for INVALID_ARGUMENT, which tells an exporter not
// to retry. Decoding in the handler also puts it behind authentication: an unauthenticated client's
// message is not decoded at all.

// rawMessage is a gRPC message as its protobuf encoding.
type rawMessage struct{ b []byte }

// rawCodec is the receiver's gRPC codec: a rawMessage as it is, anything else as gRPC's protobuf codec
// does it.
type rawCodec struct{ proto encoding.CodecV2 }

func newRawCodec() rawCodec { return rawCodec{proto: encoding.GetCodecV2("proto")} }

// Marshal implements encoding.CodecV2.
func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.b)}, nil
	}
	return c.proto.Marshal(v)
}

// Unmarshal implements encoding.CodecV2.
func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*rawMessage); ok {
		m.b = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

// Name implements encoding.CodecV2: it replaces the protobuf codec, whose content subtype OTLP uses.
func (rawCodec) Name() string { return "proto" }

// protoMessage is what pdata's export requests and responses have in common.
type protoMessage interface {
	UnmarshalProto([]byte) error
	MarshalProto() ([]byte, error)
}

// rawService describes an OTLP service (name, as in its proto package) whose Export decodes a request
// with newReq and answers it with export.
func rawService[Req, Rsp protoMessage](r *Receiver, name string, sig signal, newReq func() Req,
	export func(context.Context, Req) (Rsp, error)) *grpc.ServiceDesc {
	method := "/" + name + "/Export"
	handle := func(ctx context.Context, in any) (any, error) {
		req := newReq()
		if err := req.UnmarshalProto(in.(*rawMessage).b); err != nil {
			return nil, r.unreadable(sig, err)
		}
		rsp, err := export(ctx, req)
		if err != nil {
			return nil, err
		}
		b, err := rsp.MarshalProto()
		if err != nil {
			return nil, status.Error(codes.Internal, "encode the answer: "+err.Error())
		}
		return &rawMessage{b: b}, nil
	}
	return &grpc.ServiceDesc{
		ServiceName: name,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Export",
			Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				in := new(rawMessage)
				if err := dec(in); err != nil {
					return nil, err
				}
				if interceptor == nil {
					return handle(ctx, in)
				}
				return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, handle)
			},
		}},
	}
}

// unreadable counts, logs and answers a gRPC message that does not decode.
func (r *Receiver) unreadable(sig signal, err error) error {
	msg := "failed to unmarshal request: " + err.Error()
	r.metrics.requests.WithLabelValues(sig.String(), transportGRPC, codes.InvalidArgument.String()).Inc()
	r.logRequest(false, true, "handled OTLP/gRPC request", zap.String("signal", sig.String()),
		zap.String("grpc.code", codes.InvalidArgument.String()), zap.String("error.message", msg))
	return status.Error(codes.InvalidArgument, msg)
}

// registerGRPC registers the three OTLP services on s.
func (r *Receiver) registerGRPC(s *grpc.Server) {
	ts, ms, ls := &traceServer{r: r}, &metricsServer{r: r}, &logsServer{r: r}
	s.RegisterService(rawService(r, "opentelemetry.proto.collector.trace.v1.TraceService", signalTraces,
		ptraceotlp.NewExportRequest, ts.Export), ts)
	s.RegisterService(rawService(r, "opentelemetry.proto.collector.metrics.v1.MetricsService", signalMetrics,
		pmetricotlp.NewExportRequest, ms.Export), ms)
	s.RegisterService(rawService(r, "opentelemetry.proto.collector.logs.v1.LogsService", signalLogs,
		plogotlp.NewExportRequest, ls.Export), ls)
}
