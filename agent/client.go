package agent

import (
	"net/http"
	"os"

	"go.elastic.co/apm/module/apmhttp/v2"
	"go.elastic.co/apm/v2"
)

// ClientOption configures WrapClient.
type ClientOption func(*clientConfig)

type clientConfig struct {
	target string // "": apmhttp's naming by host
}

// WithTargetService names the service the client calls, such as "segmenter": its spans are named
// "METHOD segmenter" and carry it as their service target (span.context.service.target), so Kibana's service
// map and dependencies show "segmenter" rather than an address. Default: apmhttp's naming, "METHOD host:port"
// with the host as target.
func WithTargetService(name string) ClientOption {
	return func(c *clientConfig) { c.target = name }
}

// WrapClient returns a copy of c (http.DefaultClient if nil) whose requests are exit spans of the
// transaction in their context (apmhttp.WrapClient): a span per request, ended when the response body is
// closed or read to the end, and the traceparent/tracestate headers that continue the trace in the called
// service. Requests without a transaction in their context are sent untraced. The URL a span records has
// the values of sensitive query parameters (the sanitizer's names: the Elastic agent's defaults and
// ELASTIC_APM_SANITIZE_FIELD_NAMES) and the password of its user information "[REDACTED]"; the request
// sent is unchanged.
func WrapClient(c *http.Client, opts ...ClientOption) *http.Client {
	var cfg clientConfig
	for _, o := range opts {
		o(&cfg)
	}
	if c == nil {
		c = http.DefaultClient
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	inner := *c
	inner.Transport = &spanTransport{base: base, target: cfg.target, names: sanitizedFieldNames(os.Getenv)}
	if cfg.target == "" {
		return apmhttp.WrapClient(&inner)
	}
	target := cfg.target
	return apmhttp.WrapClient(&inner, apmhttp.WithClientRequestName(func(r *http.Request) string {
		return r.Method + " " + target
	}))
}

// spanTransport runs inside apmhttp's round-tripper, after it has started the span and described the
// request: it replaces the span's destination (the request's address) by the named target, if any, and
// the URL the span records by one without secrets.
type spanTransport struct {
	base   http.RoundTripper
	target string // "": apmhttp's naming by host
	names  fieldNames
}

func (t *spanTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if span := apm.SpanFromContext(req.Context()); span != nil && isSpanOf(span, req) {
		if u := t.names.redactURL(req.URL); u != req.URL {
			r := *req
			r.URL = u
			span.Context.SetHTTPRequest(&r)
		}
		if t.target != "" {
			span.Context.SetServiceTarget(apm.ServiceTargetSpanContext{Type: "http", Name: t.target})
		}
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections closes the base transport's idle connections, so that http.Client.CloseIdleConnections
// reaches it through apmhttp.
func (t *spanTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// isSpanOf reports whether span is the one apmhttp started for req, rather than a span of the caller's that
// was in the context when apmhttp dropped its own (apmhttp propagates the span it started in traceparent).
func isSpanOf(span *apm.Span, req *http.Request) bool {
	values := req.Header[apmhttp.W3CTraceparentHeader]
	if len(values) != 1 {
		return false
	}
	tc, err := apmhttp.ParseTraceparentHeader(values[0])
	return err == nil && tc.Span == span.TraceContext().Span
}
