package elasticsearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// MinVersion is the oldest Elasticsearch the exporter writes to: 8.15 is the first release whose
// built-in apm-data plugin installs the APM index templates, ingest pipelines and ILM policies itself,
// so the data streams exist with APM Server's mappings without installing the APM integration.
const MinVersion = "8.15.0"

// ErrConfig marks the errors of CheckVersion that waiting will not fix: the cluster is too old, or
// refuses the credentials. Other errors (the cluster cannot be reached, answers 5xx) may pass.
var ErrConfig = errors.New("elasticsearch")

// ClientConfig says how to reach and authenticate to Elasticsearch. Secrets in it are never logged.
type ClientConfig struct {
	// URLs of one or more Elasticsearch nodes (http:// or https://). Required.
	URLs []string
	// Username and Password authenticate with HTTP basic authentication. Default: none.
	Username string
	Password string
	// APIKey is an Elasticsearch API key, base64 of "id:api_key" (the "encoded" value Elasticsearch
	// returns). It takes precedence over Username and Password. Default: none.
	APIKey string
	// CACert is PEM-encoded certificate authorities to trust for https URLs, instead of the system's.
	// Default: the system's roots.
	CACert []byte
	// DialTimeout bounds connecting to a node. Default: 5s.
	DialTimeout time.Duration
}

// NewClient returns an official go-elasticsearch client for cfg, with the client's own retries turned
// off: the exporter retries with its own backoff, per document.
func NewClient(cfg ClientConfig) (*elasticsearch.Client, error) {
	c, _, err := newClient(cfg)
	return c, err
}

// newClient is NewClient that also returns the client's transport, to close its idle connections.
func newClient(cfg ClientConfig) (*elasticsearch.Client, *http.Transport, error) {
	if len(cfg.URLs) == 0 {
		return nil, nil, errors.New("elasticsearch: no URL given")
	}
	for _, u := range cfg.URLs {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, nil, fmt.Errorf("elasticsearch: URL %q must start with http:// or https://", u)
		}
	}
	dial := cfg.DialTimeout
	if dial <= 0 {
		dial = 5 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 8
	tr.ResponseHeaderTimeout = 0 // bounded per request by the exporter's context instead
	if len(cfg.CACert) > 0 {
		// go-elasticsearch builds the pool from CACert only when it owns the transport; do it here.
		pool, err := certPool(cfg.CACert)
		if err != nil {
			return nil, nil, err
		}
		tr.TLSClientConfig = tlsConfig(pool)
	}
	c, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:    cfg.URLs,
		Username:     cfg.Username,
		Password:     cfg.Password,
		APIKey:       cfg.APIKey,
		DisableRetry: true,
		Transport:    tr,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("elasticsearch: client: %w", err)
	}
	return c, tr, nil
}

// CheckVersion asks the cluster for its version and returns it, or an error that says what to do:
// the cluster cannot be reached, refused the credentials, is not Elasticsearch, or is older than
// MinVersion.
func CheckVersion(ctx context.Context, c *elasticsearch.Client) (string, error) {
	res, err := c.Info(c.Info.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("elasticsearch: cannot reach the cluster: %w (check --elasticsearch and that it is running)", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("elasticsearch: read cluster info: %w", err)
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return "", fmt.Errorf("%w: the cluster refused the credentials (401): check --es-username/--es-password or --es-api-key", ErrConfig)
	case res.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("%w: the credentials may not read cluster info (403): give the user or API key the \"monitor\" cluster privilege", ErrConfig)
	case res.StatusCode != http.StatusOK:
		return "", fmt.Errorf("elasticsearch: cluster info answered %s: %s", res.Status(), truncate(body, 200))
	}
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.Version.Number == "" {
		return "", fmt.Errorf("elasticsearch: cluster info has no version: %s", truncate(body, 200))
	}
	v := info.Version.Number
	if !versionAtLeast(v, MinVersion) {
		return v, fmt.Errorf("%w: the cluster runs %s; hotpath needs %s or later, which installs "+
			"the APM index templates and ingest pipelines itself (upgrade the cluster)", ErrConfig, v, MinVersion)
	}
	return v, nil
}

// versionAtLeast reports whether version v (e.g. "8.15.1", "9.0.0-SNAPSHOT") is >= min.
func versionAtLeast(v, min string) bool {
	a, b := parseVersion(v), parseVersion(min)
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

func parseVersion(v string) [3]int {
	var out [3]int
	v, _, _ = strings.Cut(v, "-")
	for i, part := range strings.SplitN(v, ".", 3) {
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		out[i] = n
	}
	return out
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// RedactedURLs returns urls with any password replaced by "xxxxx", for logs and messages.
func RedactedURLs(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		if p, err := url.Parse(u); err == nil {
			out[i] = p.Redacted()
		} else {
			out[i] = "(unparsable URL)"
		}
	}
	return out
}

// certPool returns a pool holding the PEM certificates in pemCerts.
func certPool(pemCerts []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCerts) {
		return nil, errors.New("elasticsearch: the CA file holds no PEM certificate")
	}
	return pool, nil
}

func tlsConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}
