package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// startSink starts an HTTP server on a loopback port that answers as a collector would, but only reads
// and discards intake bodies: `loadgen -sink` measures what the client side (the load generator, the
// Go agent) can do on its own, the baseline for the runs against a collector. It returns the server's
// URL and a function that stops it.
func startSink() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("loadgen: sink: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"version":"9.6.0"}`) // >= 8: the Go agent drops unsampled transactions
	})
	mux.HandleFunc("POST /intake/v2/events", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}
