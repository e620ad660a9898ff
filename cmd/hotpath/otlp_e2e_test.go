package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.elastic.co/apm/module/apmhttp/v2"
	"go.elastic.co/apm/v2"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/hotpath-apm/hotpath/agent"
)

// startOTLPCollector starts a collector that requires a secret token, for OpenTelemetry exporters: its
// configuration, the collector, its host:port (the exporters' endpoint) and the headers that authorize
// them.
func startOTLPCollector(t *testing.T) (collectorConfig, *testCollector, string, map[string]string) {
	t.Helper()
	cfg := testConfig(t)
	cfg.secretToken = "s3cret"
	tc := startCollector(t, cfg, nil)
	return cfg, tc, strings.TrimPrefix(tc.url, "http://"), map[string]string{"Authorization": "Bearer " + cfg.secretToken}
}

// otelProvider is an OpenTelemetry SDK tracer provider for service whose exporter sends to the
// collector; it is shut down (flushing) by the caller.
func otelProvider(t *testing.T, service string, exp sdktrace.SpanExporter) *sdktrace.TracerProvider {
	t.Helper()
	return sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))),
	)
}

// TestOTLPMixedTrace is issue 13's "done means" for traces: a Go service on agent.Wrap (the Elastic
// agent, intake v2) calls, through an otelhttp client (the OpenTelemetry SDK, OTLP/HTTP), a service
// instrumented with otelhttp (OTLP/gRPC); the W3C traceparent carries the trace across. The whole trace
// comes back from /api/v1/traces/{id}, each part under its parent.
func TestOTLPMixedTrace(t *testing.T) {
	cfg, tc, host, auth := startOTLPCollector(t)
	ctx := context.Background()

	// backend: otelhttp server span and a child span, exported over OTLP/gRPC.
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(host), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(auth), otlptracegrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	backendTP := otelProvider(t, "inventory", grpcExp)
	backendMux := http.NewServeMux()
	backendMux.HandleFunc("GET /stock", func(w http.ResponseWriter, r *http.Request) {
		_, span := backendTP.Tracer("inventory").Start(r.Context(), "count stock")
		span.End()
		_, _ = io.WriteString(w, "42")
	})
	backend := httptest.NewServer(otelhttp.NewHandler(backendMux, "GET /stock",
		otelhttp.WithTracerProvider(backendTP), otelhttp.WithPropagators(propagation.TraceContext{})))
	defer backend.Close()

	// frontend: agent.Wrap, and an otelhttp client exported over OTLP/HTTP.
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(host), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(auth))
	if err != nil {
		t.Fatal(err)
	}
	frontendTP := otelProvider(t, "shop", httpExp)
	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(frontendTP), otelhttp.WithPropagators(propagation.TraceContext{}))}
	tracer := newTestTracer(t, tc.url, cfg.secretToken, "shop", "1.0")
	frontendMux := http.NewServeMux()
	frontendMux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		// The Elastic transaction's W3C traceparent becomes the OpenTelemetry parent.
		tx := apm.TransactionFromContext(r.Context())
		carrier := propagation.HeaderCarrier{}
		carrier.Set("traceparent", apmhttp.FormatTraceparentHeader(tx.TraceContext()))
		octx := propagation.TraceContext{}.Extract(r.Context(), carrier)
		req, _ := http.NewRequestWithContext(octx, http.MethodGet, backend.URL+"/stock", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
	})
	frontend := httptest.NewServer(agent.Wrap(frontendMux, agent.WithTracer(tracer)))
	defer frontend.Close()

	resp, err := http.Get(frontend.URL + "/checkout")
	if err != nil {
		t.Fatal(err)
	}
	traceID := resp.Header.Get("Traceparent")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("checkout: %d", resp.StatusCode)
	}
	tracer.Flush(nil)
	for _, tp := range []*sdktrace.TracerProvider{frontendTP, backendTP} {
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_ = traceID

	// The trace id: the Elastic transaction's.
	var txs struct {
		Transactions []struct {
			TraceID string `json:"trace_id"`
		} `json:"transactions"`
	}
	var tr struct {
		Items []struct {
			Kind     string `json:"kind"`
			ID       string `json:"id"`
			ParentID string `json:"parent_id"`
			Depth    int    `json:"depth"`
			Orphan   bool   `json:"orphan"`
			Name     string `json:"name"`
			Service  string `json:"service"`
		} `json:"items"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		getJSON(t, tc.url, "/api/v1/transactions?service=shop", cfg.secretToken, &txs)
		if len(txs.Transactions) == 1 {
			getJSON(t, tc.url, "/api/v1/traces/"+txs.Transactions[0].TraceID, cfg.secretToken, &tr)
			if len(tr.Items) >= 4 || time.Now().After(deadline) {
				break
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("transactions of shop: %+v", txs)
		}
		time.Sleep(20 * time.Millisecond) // polling the API, not synchronising: the agents send asynchronously
	}
	want := []struct{ kind, service, name string }{
		{"transaction", "shop", "GET /checkout"},
		{"span", "shop", "HTTP GET"},
		{"transaction", "inventory", "GET /stock"},
		{"span", "inventory", "count stock"},
	}
	if len(tr.Items) != len(want) {
		t.Fatalf("trace has %d items, want %d: %+v", len(tr.Items), len(want), tr.Items)
	}
	for i, w := range want {
		it := tr.Items[i]
		if it.Kind != w.kind || it.Service != w.service || it.Name != w.name || it.Depth != i || it.Orphan {
			t.Errorf("item %d: %+v, want %s %q of %s at depth %d", i, it, w.kind, w.name, w.service, i)
		}
		if i > 0 && it.ParentID != tr.Items[i-1].ID {
			t.Errorf("item %d's parent %s, want %s", i, it.ParentID, tr.Items[i-1].ID)
		}
	}
}
