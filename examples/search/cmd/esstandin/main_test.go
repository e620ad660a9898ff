package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/hotpath-apm/hotpath/examples/search/internal/cmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStandInCommand(t *testing.T) {
	url, stop := cmdtest.Start(t, func(ctx context.Context, ready func(string)) error {
		return run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, zaptest.NewLogger(t), ready)
	})
	resp, b := cmdtest.Fetch(t, url, "")
	if resp.Header.Get("X-Elastic-Product") != "Elasticsearch" || !strings.Contains(string(b), `"build_type":"stand-in"`) {
		t.Errorf("GET /: %v %s", resp.Header, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
