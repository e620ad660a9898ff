// Package otlptest serves the collector's OTLP surface to tests as the collector serves it: the Elastic
// intake and the OTLP receiver on one mux, over HTTP/1.1 and unencrypted HTTP/2 (h2c) on loopback, so
// that OTLP/HTTP, OTLP/gRPC and intake v2 clients reach the same port; and ExportBytes, which calls a
// gRPC service's Export with a message as bytes (one encoded once, or one that is not a valid message).
package otlptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"

	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
)

// Server is an intake and an OTLP receiver served on one loopback server.
type Server struct {
	URL      string // the base URL, http://127.0.0.1:<port>
	Addr     string // the address, 127.0.0.1:<port>
	API      *intake.API
	Receiver *otlp.Receiver
}

// NewServer starts the intake of icfg and the receiver of ocfg (whose Intake is that intake), and stops
// them at the end of the test.
func NewServer(tb testing.TB, icfg intake.Config, ocfg otlp.Config) *Server {
	tb.Helper()
	api, err := intake.New(icfg)
	if err != nil {
		tb.Fatal(err)
	}
	ocfg.Intake = api
	rcv, err := otlp.New(ocfg)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	rcv.Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = otlp.Protocols()
	srv.Start()
	tb.Cleanup(func() {
		rcv.Stop()
		srv.Close()
	})
	return &Server{URL: srv.URL, Addr: srv.Listener.Addr().String(), API: api, Receiver: rcv}
}

// Dial connects a gRPC client to s over h2c, closed at the end of the test.
func (s *Server) Dial(tb testing.TB, opts ...grpc.DialOption) *grpc.ClientConn {
	tb.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient("passthrough:///"+s.Addr, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

// ExportBytes calls the Export method of service (opentelemetry.proto.collector.trace.v1.TraceService,
// say) with msg as the message, whatever it holds, and returns the call's error.
func ExportBytes(ctx context.Context, conn *grpc.ClientConn, service string, msg []byte) error {
	var out []byte
	return conn.Invoke(ctx, "/"+service+"/Export", &msg, &out, grpc.ForceCodecV2(bytesCodec{}))
}

// bytesCodec sends a *[]byte as the message it holds and reads the answer into a *[]byte.
type bytesCodec struct{}

func (bytesCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (bytesCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (bytesCodec) Name() string { return "proto" }
