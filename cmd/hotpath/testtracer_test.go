package main

import (
	"net/url"
	"testing"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport"
)

// newTestTracer returns a real Elastic Go agent for service (version, environment "test") that sends
// to the collector at collectorURL with secretToken, if any. The caller closes it. apmhttp, under
// agent.Wrap, starts apm.DefaultTracer() even when given another tracer: it is closed when the test
// ends, so that the package's leak check passes.
func newTestTracer(t *testing.T, collectorURL, secretToken, service, version string) *apm.Tracer {
	t.Helper()
	u, err := url.Parse(collectorURL)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := transport.NewHTTPTransport(transport.HTTPTransportOptions{ServerURLs: []*url.URL{u}, SecretToken: secretToken})
	if err != nil {
		t.Fatal(err)
	}
	tracer, err := apm.NewTracerOptions(apm.TracerOptions{ServiceName: service, ServiceVersion: version,
		ServiceEnvironment: "test", Transport: tp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(apm.DefaultTracer().Close)
	return tracer
}
