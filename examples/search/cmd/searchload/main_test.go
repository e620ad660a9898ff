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
	if n.Load() < 20 || !strings.Contains(out.String(), "popular") || !strings.Contains(out.String(), "0 failed") {
		t.Errorf("%d requests; output:\n%s", n.Load(), out.String())
	}
	if err := run(context.Background(), []string{"-rate", "0"}, &out); err == nil {
		t.Error("-rate 0 accepted")
	}
}
