package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp/otlptest"
)

// BenchmarkIntakeVsOTLP: the same 100 traces (the load generator's: a transaction and 5 spans each,
// HTTP, Elasticsearch, Redis and in-process spans), sent as each client sends them by default: the
// Elastic intake v2 (ndjson, gzip, as Elastic's agents always send it), OTLP/HTTP and OTLP/gRPC
// (protobuf, uncompressed, the OpenTelemetry exporters' default) to the collector's front end in the same
// process: intake and the OTLP receiver on one h2c server, their decoding and mapping into events, and
// a Processor that counts the events and drops them (the store's cost is the same for all three, and
// is the intake benchmark's). The client sends bodies encoded once, so the figures are the server's:
// ns/event of wall clock on the benchmark's two cores, and cpu-ns/event of the whole process.
//
//	go test -run '^$' -bench IntakeVsOTLP -benchmem -count 6 ./cmd/hotpath/
func BenchmarkIntakeVsOTLP(b *testing.B) {
	ndjson, _ := newPayloadGen("search", 5).appendStream(nil, 100, time.Now())
	events := decodeIntakeV2(b, ndjson)
	req := otlpTraces(b, events)
	pb, err := req.MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	gzippedNDJSON := gzipped(b, ndjson)

	var stored atomic.Int64
	srv := otlptest.NewServer(b, intake.Config{Processor: collector.ProcessBatchFunc(func(_ context.Context, batch *collector.Batch) error {
		stored.Add(int64(len(*batch)))
		return nil
	})}, otlp.Config{})
	conn := srv.Dial(b)

	post := func(b *testing.B, path, contentType, encoding string, body []byte, want int) {
		r, err := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Content-Type", contentType)
		if encoding != "" {
			r.Header.Set("Content-Encoding", encoding)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	sends := []struct {
		name string
		send func(b *testing.B)
	}{
		{"intake-v2", func(b *testing.B) {
			post(b, "/intake/v2/events", "application/x-ndjson", "gzip", gzippedNDJSON, http.StatusAccepted)
		}},
		{"otlp-http", func(b *testing.B) { post(b, otlp.PathTraces, "application/x-protobuf", "", pb, http.StatusOK) }},
		{"otlp-grpc", func(b *testing.B) {
			if err := otlptest.ExportBytes(context.Background(), conn, "opentelemetry.proto.collector.trace.v1.TraceService", pb); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, s := range sends {
		b.Run(s.name, func(b *testing.B) {
			body := s.send
			stored.Store(0)
			b.ReportAllocs()
			cpu0 := benchCPU()
			for b.Loop() {
				body(b)
			}
			n := float64(stored.Load())
			if int(n) != b.N*len(events) {
				b.Fatalf("%v events decoded, want %d", n, b.N*len(events))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
			b.ReportMetric(float64((benchCPU()-cpu0).Nanoseconds())/n, "cpu-ns/event")
		})
	}
}

// benchCPU is the process's CPU time so far (user and system).
func benchCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func gzipped(b *testing.B, p []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(p); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// decodeIntakeV2 decodes an intake v2 body into events, as intake does.
func decodeIntakeV2(b *testing.B, body []byte) []collector.Event {
	var events []collector.Event
	base := collector.Event{Timestamp: time.Now()}
	_, err := decoder.New(decoder.Options{}).Decode(context.Background(), bytes.NewReader(body), &base,
		collector.ProcessBatchFunc(func(_ context.Context, batch *collector.Batch) error {
			events = append(events, *batch...)
			return nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	return events
}

// otlpTraces is the OTLP form of events, as an OpenTelemetry SDK would send the same spans: the
// transactions as SERVER spans, the spans that call out as CLIENT spans, with the current semantic
// conventions' HTTP, database and server attributes.
func otlpTraces(b *testing.B, events []collector.Event) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", events[0].Service.Name)
	res.PutStr("service.version", events[0].Service.Version)
	res.PutStr("deployment.environment.name", events[0].Service.Environment)
	res.PutStr("telemetry.sdk.language", "go")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	id8 := func(s string) (id pcommon.SpanID) {
		if _, err := hex.Decode(id[:], []byte(s)); err != nil && s != "" {
			b.Fatalf("span id %q: %v", s, err)
		}
		return id
	}
	for i := range events {
		e := &events[i]
		sp := spans.AppendEmpty()
		var tid pcommon.TraceID
		if _, err := hex.Decode(tid[:], []byte(e.TraceID)); err != nil {
			b.Fatalf("trace id %q: %v", e.TraceID, err)
		}
		sp.SetTraceID(tid)
		sp.SetParentSpanID(id8(e.ParentID))
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(e.Timestamp))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(e.Timestamp.Add(e.Event.Duration)))
		attrs := sp.Attributes()
		if e.HTTP != nil {
			attrs.PutStr("http.request.method", e.HTTP.Request.Method)
			if e.HTTP.Response.StatusCode != 0 {
				attrs.PutInt("http.response.status_code", int64(e.HTTP.Response.StatusCode))
			}
		}
		if e.URL.Full != "" {
			attrs.PutStr("url.full", e.URL.Full)
		}
		for _, l := range e.Labels {
			attrs.PutStr(l.Key, l.Value)
		}
		switch {
		case e.Transaction != nil && e.Span == nil:
			sp.SetSpanID(id8(e.Transaction.ID))
			sp.SetName(e.Transaction.Name)
			sp.SetKind(ptrace.SpanKindServer)
			if e.User.ID != "" {
				attrs.PutStr("user.id", e.User.ID)
			}
		case e.Span != nil:
			sp.SetSpanID(id8(e.Span.ID))
			sp.SetName(e.Span.Name)
			sp.SetKind(ptrace.SpanKindInternal)
			if e.Destination.Address != "" {
				sp.SetKind(ptrace.SpanKindClient)
				attrs.PutStr("server.address", e.Destination.Address)
				attrs.PutInt("server.port", int64(e.Destination.Port))
			}
			if db := e.Span.DB; db != nil {
				attrs.PutStr("db.system.name", db.Type)
				attrs.PutStr("db.query.text", db.Statement)
			}
		}
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}
