package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSearchload sends the mix to a server that counts requests, and reports them by kind.
func TestSearchload(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/search" || r.URL.Query().Get("q") == "" {
			http.Error(w, "bad", 400)
			return
		}
		n.Add(1)
		fmt.Fprint(w, "{}")
	}))
	defer srv.Close()
	var out strings.Builder
	if err := run(context.Background(), []string{"-url", srv.URL, "-rate", "200", "-duration", "500ms"}, &out); err != nil {
		t.Fatal(err)
	}
	// Every request sent is answered and reported (the ones in flight at the end too), and a ticker at
	// 200 a second sends at most 100 in 500 ms (fewer when the machine is too busy for every tick).
	reported := 0
	for _, line := range strings.Split(out.String(), "\n") {
		var kind string
		var count int
		if _, err := fmt.Sscanf(line, "%s %d requests", &kind, &count); err == nil {
			reported += count
		}
	}
	if got := n.Load(); got == 0 || got > 100 || int64(reported) != got || !strings.Contains(out.String(), "popular") ||
		!strings.Contains(out.String(), "\n0 failed\n") {
		t.Errorf("%d requests served, %d reported; output:\n%s", got, reported, out.String())
	}
	if err := run(context.Background(), []string{"-rate", "0"}, &out); err == nil {
		t.Error("-rate 0 accepted")
	}
}
