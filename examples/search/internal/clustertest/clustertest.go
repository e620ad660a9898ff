// Package clustertest gives the search example's tests the Elasticsearch they run against: the real
// cluster HOTPATH_TEST_ES_URL names, with the variables the collector's integration test uses
// (HOTPATH_TEST_ES_USERNAME, _PASSWORD, _API_KEY, _CA_CERT; without it, those tests are skipped), or
// the example's stand-in served on loopback.
package clustertest

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/loopback"
)

// Cluster is a real Elasticsearch cluster and how to reach it.
type Cluster struct {
	URL        string // HOTPATH_TEST_ES_URL, with HOTPATH_TEST_ES_USERNAME and _PASSWORD as its user if set
	APIKey     string // HOTPATH_TEST_ES_API_KEY, or ""
	CACertFile string // HOTPATH_TEST_ES_CA_CERT, a PEM file, or ""
}

// Real returns the cluster HOTPATH_TEST_ES_URL names, or skips the test, saying why with instead (what
// runs in its place).
func Real(t testing.TB, instead string) Cluster {
	t.Helper()
	raw := os.Getenv("HOTPATH_TEST_ES_URL")
	if raw == "" {
		t.Skip("HOTPATH_TEST_ES_URL is not set: no real cluster (" + instead + ")")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if user := os.Getenv("HOTPATH_TEST_ES_USERNAME"); user != "" {
		u.User = url.UserPassword(user, os.Getenv("HOTPATH_TEST_ES_PASSWORD"))
	}
	return Cluster{URL: u.String(), APIKey: os.Getenv("HOTPATH_TEST_ES_API_KEY"), CACertFile: os.Getenv("HOTPATH_TEST_ES_CA_CERT")}
}

// CACert returns the CA certificate's PEM, or nil when there is none.
func (c Cluster) CACert(t testing.TB) []byte {
	t.Helper()
	if c.CACertFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// StandIn serves an Elasticsearch stand-in with cfg on loopback until the test ends, started apart from
// the code under test as a cluster would be, and returns it and its URL.
func StandIn(t testing.TB, cfg esstandin.Config) (*esstandin.StandIn, string) {
	t.Helper()
	s := esstandin.New(cfg)
	srv, err := loopback.Serve("", s.Handler())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return s, srv.URL()
}
