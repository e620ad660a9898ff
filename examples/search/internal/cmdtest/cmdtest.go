// Package cmdtest runs a search example command's run function for its test: on a goroutine, until it
// says it is ready (a server command on a free loopback port), and stops it by cancelling its context, as
// the command's signal handling would; and sends the running command a request.
package cmdtest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// ReadyTimeout is how long Start waits for the command to be ready before failing the test.
const ReadyTimeout = 60 * time.Second

// Start calls run on a goroutine with a context of its own and waits until run calls ready. It returns
// what run gave ready, and stop, which cancels run's context and returns run's error; stop is also
// called when the test ends, so a test that fails early leaves nothing running. The test fails if run
// returns before it is ready, or is not ready within ReadyTimeout.
func Start[T any](t testing.TB, run func(ctx context.Context, ready func(T)) error) (T, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan T, 1)
	done := make(chan struct{})
	var err error // run's, read after done is closed
	go func() {
		defer close(done)
		err = run(ctx, func(v T) { ready <- v })
	}()
	stop := func() error { cancel(); <-done; return err }
	t.Cleanup(func() { stop() })
	var zero T
	select {
	case v := <-ready:
		return v, stop
	case <-done:
		t.Fatalf("not ready: %v", err)
	case <-time.After(ReadyTimeout):
		t.Fatalf("not ready after %v", ReadyTimeout)
	}
	return zero, nil
}

// Serve starts, as Start does, the run function of a command that serves on -addr (cmd/esstandin's and
// cmd/segmenter's), listening on a free loopback port, with args after -addr, its output discarded and its
// log in the test's. It returns the server's URL and stop.
func Serve(t *testing.T, run func(ctx context.Context, args []string, stdout io.Writer, log *zap.Logger, ready func(url string)) error, args ...string) (string, func() error) {
	t.Helper()
	return Start(t, func(ctx context.Context, ready func(string)) error {
		return run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, zaptest.NewLogger(t), ready)
	})
}

// Fetch sends a request to url on a client of its own: a GET, or where body is not "", a POST of body as
// JSON. It returns the response and its body, read and closed; the test fails if the request fails.
func Fetch(t testing.TB, url, body string) (*http.Response, []byte) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	var resp *http.Response
	var err error
	if body == "" {
		resp, err = c.Get(url)
	} else {
		resp, err = c.Post(url, "application/json", strings.NewReader(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
