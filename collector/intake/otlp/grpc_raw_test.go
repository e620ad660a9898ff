package otlp_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp/otlptest"
)

// A gRPC message that is not the service's request is answered INVALID_ARGUMENT with the reason (gRPC
// itself would answer INTERNAL, which exporters retry), for each service, and stores nothing; without
// credentials it is not even decoded (UNAUTHENTICATED); a good request on the same connection is then
// stored.
func TestGRPCUnreadableMessage(t *testing.T) {
	s := newTestServer(t, intake.Config{SecretToken: "s3cret"}, otlp.Config{}, nil)
	conn := s.Dial(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer s3cret")
	garbage := []byte{0xff, 0xff, 0xff, 0x0f}
	for _, service := range []string{"opentelemetry.proto.collector.trace.v1.TraceService",
		"opentelemetry.proto.collector.metrics.v1.MetricsService", "opentelemetry.proto.collector.logs.v1.LogsService"} {
		err := otlptest.ExportBytes(ctx, conn, service, garbage)
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || st.Message() == "" {
			t.Errorf("%s: %v, want InvalidArgument with a message", service, err)
		}
		if err := otlptest.ExportBytes(context.Background(), conn, service, garbage); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s without credentials: %v, want Unauthenticated", service, err)
		}
	}
	if ev, _ := s.rec.take(); len(ev) != 0 {
		t.Fatalf("%d events stored from unreadable messages", len(ev))
	}
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, traceRequest(2)); err != nil {
		t.Fatalf("a good request after them: %v", err)
	}
	if ev, _ := s.rec.take(); len(ev) != 2 {
		t.Errorf("%d events stored, want 2", len(ev))
	}
}
