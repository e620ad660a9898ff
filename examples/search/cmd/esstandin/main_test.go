package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/hotpath-apm/hotpath/examples/search/internal/cmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStandInCommand(t *testing.T) {
	url, stop := cmdtest.Start(t, func(ctx context.Context, ready func(string)) error {
		return run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, ready)
	})
	c := &http.Client{Transport: &http.Transport{}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.CloseIdleConnections()
	if resp.Header.Get("X-Elastic-Product") != "Elasticsearch" || !strings.Contains(string(b), `"build_type":"stand-in"`) {
		t.Errorf("GET /: %v %s", resp.Header, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
