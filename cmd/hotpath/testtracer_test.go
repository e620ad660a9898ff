package main

import (
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
)

// newTestTracer returns a real Elastic Go agent for service (version, environment "test") that sends
// to the collector at collectorURL with secretToken, if any; it is closed when the test ends, and may
// be closed earlier. apmhttp, under agent.Wrap, starts apm.DefaultTracer() even when given another
// tracer: that one is closed when the test ends too, so that the package's leak check passes.
func newTestTracer(t *testing.T, collectorURL, secretToken, service, version string) *apm.Tracer {
	t.Helper()
	t.Cleanup(apm.DefaultTracer().Close)
	return agenttest.NewTracer(t, collectorURL, agenttest.Options{
		Service: service, Version: version, Environment: "test", SecretToken: secretToken,
	})
}
