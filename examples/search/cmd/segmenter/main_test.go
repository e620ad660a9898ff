package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSegmenterCommand(t *testing.T) {
	t.Setenv("ELASTIC_APM_ACTIVE", "false")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, func(u string) { ready <- u }) }()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{}}
	resp, err := c.Post(url+"/segment", "application/json", strings.NewReader(`{"text":"나이키러닝화"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.CloseIdleConnections()
	if strings.TrimSpace(string(b)) != `{"tokens":["나이키","러닝화"]}` {
		t.Errorf("got %s", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-slow-fraction", "2"}, io.Discard, nil); err == nil {
		t.Error("-slow-fraction 2 accepted")
	}
}
