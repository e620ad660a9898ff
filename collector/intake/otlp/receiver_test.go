package otlp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
)

// traceRequest is a request of n spans of one trace, the first the root.
func traceRequest(n int) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		s := spans.AppendEmpty()
		s.SetName("op")
		s.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		s.SetSpanID(pcommon.SpanID{1, 0, 0, 0, 0, 0, 0, byte(i + 1)})
		if i > 0 {
			s.SetParentSpanID(pcommon.SpanID{1, 0, 0, 0, 0, 0, 0, 1})
		}
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond)))
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

func protoBody(t *testing.T, req ptraceotlp.ExportRequest) []byte {
	t.Helper()
	b, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeStatus decodes a google.rpc.Status body in the encoding of ct.
func decodeStatus(t *testing.T, ct string, body []byte) *spb.Status {
	t.Helper()
	st := &spb.Status{}
	var err error
	if ct == "application/json" {
		err = protojson.Unmarshal(body, st)
	} else {
		err = proto.Unmarshal(body, st)
	}
	if err != nil {
		t.Fatalf("the body is not a Status (%s): %v: %q", ct, err, body)
	}
	return st
}

func TestAuthentication(t *testing.T) {
	s := newTestServer(t, intake.Config{SecretToken: "s3cret", APIKeys: []intake.APIKey{{ID: "k", Key: "v"}}}, otlp.Config{}, nil)
	body := protoBody(t, traceRequest(1))
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Bearer s3cret", http.StatusOK},
		{"ApiKey azp2", http.StatusOK}, // base64("k:v")
		{"ApiKey azp3", http.StatusUnauthorized},
	} {
		got, h, out := s.post(t, otlp.PathTraces, "application/x-protobuf", body, http.Header{"Authorization": {tc.auth}})
		if got != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, got, tc.want)
		}
		if got == http.StatusUnauthorized {
			if st := decodeStatus(t, h.Get("Content-Type"), out); codes.Code(st.Code) != codes.Unauthenticated || !strings.Contains(st.Message, "authentication failed") {
				t.Errorf("Authorization %q: status body %v", tc.auth, st)
			}
		}
	}
	if ev, _ := s.rec.take(); len(ev) != 2 {
		t.Errorf("%d events stored, want 2 (the authenticated requests')", len(ev))
	}

	client := ptraceotlp.NewGRPCClient(s.Dial(t))
	_, err := client.Export(context.Background(), traceRequest(1))
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without credentials: %v, want Unauthenticated", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer s3cret")
	if _, err := client.Export(ctx, traceRequest(1)); err != nil {
		t.Errorf("gRPC with the secret token: %v", err)
	}
	if ev, _ := s.rec.take(); len(ev) != 1 {
		t.Errorf("%d events stored, want 1", len(ev))
	}
}

func TestInvalidRequests(t *testing.T) {
	s := newTestServer(t, intake.Config{}, otlp.Config{}, nil)
	for _, tc := range []struct {
		name, method, ct string
		body             []byte
		want             int
		code             codes.Code
	}{
		{"bad protobuf", http.MethodPost, "application/x-protobuf", []byte{0xff, 0xff, 0xff}, 400, codes.InvalidArgument},
		{"bad JSON", http.MethodPost, "application/json", []byte(`{"resourceSpans": [`), 400, codes.InvalidArgument},
		{"JSON sent as protobuf", http.MethodPost, "application/x-protobuf", []byte(`{"resourceSpans": []}`), 400, codes.InvalidArgument},
		{"other content type", http.MethodPost, "text/plain", []byte("x"), 415, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, h, out := s.post(t, otlp.PathTraces, tc.ct, tc.body, nil)
			if got != tc.want {
				t.Fatalf("status %d, want %d: %q", got, tc.want, out)
			}
			if st := decodeStatus(t, h.Get("Content-Type"), out); codes.Code(st.Code) != tc.code || st.Message == "" {
				t.Errorf("status body %v, want code %v and a message", st, tc.code)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+otlp.PathTraces, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q, want 405 POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// Nothing of the bad requests was stored, and a good one after them is.
	if got, _, _ := s.post(t, otlp.PathTraces, "application/x-protobuf", protoBody(t, traceRequest(2)), nil); got != 200 {
		t.Fatalf("good request after bad ones: %d", got)
	}
	if ev, _ := s.rec.take(); len(ev) != 2 {
		t.Errorf("%d events stored, want 2", len(ev))
	}
}

func TestPartialSuccess(t *testing.T) {
	s := newTestServer(t, intake.Config{}, otlp.Config{}, nil)
	req := traceRequest(3)
	spans := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.At(1).SetSpanID(pcommon.SpanID{})   // invalid: no span id
	spans.At(2).SetTraceID(pcommon.TraceID{}) // invalid: no trace id
	for _, transport := range []string{"http-protobuf", "grpc"} {
		var rsp ptraceotlp.ExportResponse
		if transport == "grpc" {
			var err error
			if rsp, err = ptraceotlp.NewGRPCClient(s.Dial(t)).Export(context.Background(), req); err != nil {
				t.Fatal(err)
			}
		} else {
			rsp = ptraceotlp.NewExportResponse()
			postExport(t, s, otlp.PathTraces, transport, nil, req, rsp)
		}
		if ps := rsp.PartialSuccess(); ps.RejectedSpans() != 2 || !strings.Contains(ps.ErrorMessage(), "span_id") {
			t.Errorf("%s: partial success %d %q, want 2 rejected with a message", transport, ps.RejectedSpans(), ps.ErrorMessage())
		}
		if ev, _ := s.rec.take(); len(ev) != 1 || ev[0].Transaction == nil {
			t.Errorf("%s: %d events stored, want the valid root transaction", transport, len(ev))
		}
	}
}

func TestBackpressure(t *testing.T) {
	for _, tc := range []struct {
		err      error
		code     codes.Code
		httpCode int
	}{
		{collector.ErrQueueFull, codes.ResourceExhausted, 503},
		{collector.ErrShuttingDown, codes.Unavailable, 503},
		{collector.ErrStorageUnavailable, codes.Unavailable, 503},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			s := newTestServer(t, intake.Config{}, otlp.Config{RetryAfter: 3 * time.Second}, nil)
			s.rec.setFail(tc.err)
			got, h, out := s.post(t, otlp.PathTraces, "application/x-protobuf", protoBody(t, traceRequest(1)), nil)
			if got != tc.httpCode || h.Get("Retry-After") != "3" {
				t.Errorf("HTTP: %d Retry-After %q, want %d and 3", got, h.Get("Retry-After"), tc.httpCode)
			}
			if st := decodeStatus(t, h.Get("Content-Type"), out); codes.Code(st.Code) != tc.code {
				t.Errorf("HTTP status body code %v, want %v", codes.Code(st.Code), tc.code)
			}
			_, err := ptraceotlp.NewGRPCClient(s.Dial(t)).Export(context.Background(), traceRequest(1))
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("gRPC: %v, want %v", err, tc.code)
			}
			var retry *errdetails.RetryInfo
			for _, d := range st.Details() {
				if r, ok := d.(*errdetails.RetryInfo); ok {
					retry = r
				}
			}
			if retry == nil || retry.RetryDelay.AsDuration() != 3*time.Second {
				t.Errorf("gRPC status details %v, want RetryInfo of 3s", st.Details())
			}
		})
	}
}

func TestStreamLimit(t *testing.T) {
	// One stream slot, held by a request whose Processor blocks: the next request waits StreamWait,
	// then gets 503 / RESOURCE_EXHAUSTED; the first is stored once released.
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	rec := &recorder{}
	proc := collector.ProcessBatchFunc(func(ctx context.Context, b *collector.Batch) error {
		entered <- struct{}{}
		<-release
		return rec.ProcessBatch(ctx, b)
	})
	s := newTestServer(t, intake.Config{MaxConcurrentStreams: 1, StreamWait: 10 * time.Millisecond}, otlp.Config{}, proc)
	done := make(chan int)
	go func() {
		got, _, _ := s.post(t, otlp.PathTraces, "application/x-protobuf", protoBody(t, traceRequest(1)), nil)
		done <- got
	}()
	<-entered
	if got, h, _ := s.post(t, otlp.PathTraces, "application/x-protobuf", protoBody(t, traceRequest(1)), nil); got != 503 || h.Get("Retry-After") == "" {
		t.Errorf("second stream: %d Retry-After %q, want 503 with Retry-After", got, h.Get("Retry-After"))
	}
	_, err := ptraceotlp.NewGRPCClient(s.Dial(t)).Export(context.Background(), traceRequest(1))
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC second stream: %v, want ResourceExhausted", err)
	}
	close(release)
	if got := <-done; got != 200 {
		t.Errorf("first stream: %d", got)
	}
	if ev, _ := rec.take(); len(ev) != 1 {
		t.Errorf("%d events stored, want 1", len(ev))
	}
}

func TestMessageSizeLimit(t *testing.T) {
	body := protoBody(t, traceRequest(3))
	for _, tc := range []struct {
		limit int
		want  int
	}{
		{len(body), 200},
		{len(body) - 1, 413},
	} {
		s := newTestServer(t, intake.Config{}, otlp.Config{MaxMessageBytes: tc.limit}, nil)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		_, _ = w.Write(body)
		_ = w.Close()
		// The limit applies to the decompressed body.
		got, _, out := s.post(t, otlp.PathTraces, "application/x-protobuf", gz.Bytes(), http.Header{"Content-Encoding": {"gzip"}})
		if got != tc.want {
			t.Errorf("limit %d, body %d: status %d, want %d: %q", tc.limit, len(body), got, tc.want, out)
		}
		_, err := ptraceotlp.NewGRPCClient(s.Dial(t)).Export(context.Background(), traceRequest(3))
		if wantErr := tc.want != 200; (err != nil) != wantErr || wantErr && status.Code(err) != codes.ResourceExhausted {
			t.Errorf("gRPC, limit %d: %v", tc.limit, err)
		}
	}
}
