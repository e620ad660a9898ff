package main

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestOTLPMetricsAndLogs is issue 13's "done means" for the other two signals, with the OpenTelemetry Go
// SDK's own exporters: metrics over OTLP/gRPC (otlpmetricgrpc, gzip) and logs over OTLP/HTTP
// (otlploghttp), both with the secret token. What the SDKs recorded is in the store: a counter, a
// histogram with its buckets and a gauge as metricsets of the service, a log record as a log event with
// its attribute as a label, and an exception log record as an error.
func TestOTLPMetricsAndLogs(t *testing.T) {
	cfg, tc, host, auth := startOTLPCollector(t)
	ctx := context.Background()
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("checkout"))

	mexp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(host), otlpmetricgrpc.WithInsecure(),
		otlpmetricgrpc.WithHeaders(auth), otlpmetricgrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp)))
	meter := mp.Meter("checkout")
	orders, _ := meter.Int64Counter("orders.placed")
	latency, _ := meter.Float64Histogram("checkout.duration", metric.WithUnit("ms"),
		metric.WithExplicitBucketBoundaries(10, 100, 1000))
	queue, _ := meter.Int64Gauge("queue.depth")
	orders.Add(ctx, 3)
	for _, ms := range []float64{5, 50, 50, 500} {
		latency.Record(ctx, ms)
	}
	queue.Record(ctx, 7)
	if err := mp.Shutdown(ctx); err != nil { // exports, and returns once the collector answered
		t.Fatalf("metrics: %v", err)
	}

	lexp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(host), otlploghttp.WithInsecure(), otlploghttp.WithHeaders(auth))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)))
	logger := lp.Logger("checkout")
	var rec otellog.Record
	rec.SetBody(attribute.StringValue("order 42 placed"))
	rec.SetSeverity(otellog.SeverityInfo)
	rec.AddAttributes(attribute.String("order.id", "42"))
	logger.Emit(ctx, rec)
	var exc otellog.Record
	exc.SetSeverity(otellog.SeverityError)
	exc.AddAttributes(attribute.String("exception.type", "PaymentDeclined"), attribute.String("exception.message", "card expired"))
	logger.Emit(ctx, exc)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("logs: %v", err)
	}

	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}
	samples := map[string]collector.MetricSample{}
	var logs, errs []collector.Event
	for _, e := range storedEvents(t, cfg.dataDir) {
		if e.Service.Name != "checkout" {
			t.Errorf("an event of service %q", e.Service.Name)
		}
		switch {
		case e.Metricset != nil:
			for _, s := range e.Metricset.Samples {
				samples[s.Name] = s
			}
		case e.APMType() == collector.KindLog:
			logs = append(logs, e)
		case e.APMType() == collector.KindError:
			errs = append(errs, e)
		}
	}
	if s := samples["orders.placed"]; s.Value != 3 || s.Type != collector.MetricCounter {
		t.Errorf("orders.placed %+v, want a counter of 3", s)
	}
	if s := samples["queue.depth"]; s.Value != 7 || s.Type != collector.MetricGauge {
		t.Errorf("queue.depth %+v, want a gauge of 7", s)
	}
	h := samples["checkout.duration"].Histogram
	if h == nil {
		t.Fatalf("checkout.duration has no histogram: %+v", samples)
	}
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total != 4 || len(h.Values) != len(h.Counts) {
		t.Errorf("checkout.duration histogram %+v, want the 4 values in its buckets", h)
	}
	if len(logs) != 1 || logs[0].Message != "order 42 placed" || !hasLabel(logs[0], "order_id", "42") {
		t.Errorf("log events %+v", logs)
	}
	if len(errs) != 1 || errs[0].Error == nil || errs[0].Error.Exception == nil ||
		errs[0].Error.Exception.Type != "PaymentDeclined" || errs[0].Error.Exception.Message != "card expired" {
		t.Errorf("errors %+v", errs)
	}
}

func hasLabel(e collector.Event, key, value string) bool {
	for _, l := range e.Labels {
		if l.Key == key && l.Value == value {
			return true
		}
	}
	return false
}
