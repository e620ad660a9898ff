package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/hotpath-apm/hotpath/examples/search/internal/cmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStandInCommand(t *testing.T) {
	url, stop := cmdtest.Serve(t, run)
	resp, b := cmdtest.Fetch(t, url, "")
	if resp.Header.Get("X-Elastic-Product") != "Elasticsearch" || !strings.Contains(string(b), `"build_type":"stand-in"`) {
		t.Errorf("GET /: %v %s", resp.Header, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
