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

func TestStandInCommand(t *testing.T) {
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
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
