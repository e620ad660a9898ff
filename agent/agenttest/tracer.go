// Package agenttest holds the test doubles of hotpath's library, shipped as a package as Elastic's apmtest
// and transporttest are, for the library's own tests and for services that use it: the real Elastic Go
// agent pointed at a server of the test's (a collector, an intake recorder), with its own HTTP transport
// and a tracer on it, set up and torn down with the test.
package agenttest

import (
	"net/url"
	"testing"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport"
)

// Options describe the agent. Zero values are the agent's own defaults, except Service ("test").
type Options struct {
	Service     string // service.name; default "test"
	Version     string // service.version
	Environment string // service.environment
	SecretToken string // sent as "Authorization: Bearer ..."
	APIKey      string // base64(id:key), sent as "Authorization: ApiKey ..."
}

// NewTransport returns the agent's HTTP transport to serverURL (events, profiles, central config and
// the server-information check).
func NewTransport(t testing.TB, serverURL string, o Options) *transport.HTTPTransport {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := transport.NewHTTPTransport(transport.HTTPTransportOptions{
		ServerURLs: []*url.URL{u}, SecretToken: o.SecretToken, APIKey: o.APIKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// NewTracer returns a tracer sending to serverURL; it is closed when the test ends (closing it earlier
// is fine).
func NewTracer(t testing.TB, serverURL string, o Options) *apm.Tracer {
	t.Helper()
	if o.Service == "" {
		o.Service = "test"
	}
	tracer, err := apm.NewTracerOptions(apm.TracerOptions{
		ServiceName: o.Service, ServiceVersion: o.Version, ServiceEnvironment: o.Environment,
		Transport: NewTransport(t, serverURL, o),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tracer.Close)
	return tracer
}
