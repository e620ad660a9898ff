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

func TestSegmenterCommand(t *testing.T) {
	t.Setenv("ELASTIC_APM_ACTIVE", "false")
	url, stop := cmdtest.Serve(t, run)
	_, b := cmdtest.Fetch(t, url+"/segment", `{"text":"나이키러닝화"}`)
	if strings.TrimSpace(string(b)) != `{"tokens":["나이키","러닝화"]}` {
		t.Errorf("got %s", b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-slow-fraction", "2"}, io.Discard, zaptest.NewLogger(t), nil); err == nil {
		t.Error("-slow-fraction 2 accepted")
	}
}
