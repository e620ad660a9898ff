package search

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/hotpath-apm/hotpath/agent"
)

// NewElasticsearchClient returns a go-elasticsearch client for the cluster (or stand-in) at rawURL, whose
// requests go through the agent's Elasticsearch round-tripper: a span per request, labelled with
// Elasticsearch's took. User information in the URL is sent as basic authentication; apiKey, if set, as
// an API key; caCert (PEM), if set, is trusted as the CA of the cluster's certificate. The client has an
// http.Transport of its own: closeIdle closes its idle connections (call it when done with the client).
func NewElasticsearchClient(rawURL, apiKey string, caCert []byte) (es *elasticsearch.Client, closeIdle func(), err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, errors.New("elasticsearch URL: cannot parse it") // the error would repeat a password
	}
	cfg := elasticsearch.Config{APIKey: apiKey}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		u.User = nil
	}
	cfg.Addresses = []string{u.String()}
	base := http.DefaultTransport.(*http.Transport).Clone()
	if len(caCert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caCert) {
			return nil, nil, errors.New("elasticsearch CA certificate: no PEM certificate found")
		}
		base.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	cfg.Transport = agent.ElasticsearchTransport(base)
	es, err = elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("elasticsearch client for %s: %w", u.Redacted(), err)
	}
	return es, base.CloseIdleConnections, nil
}
