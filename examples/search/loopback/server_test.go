package loopback

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServe(t *testing.T) {
	s, err := Serve("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.URL() != "http://"+s.Addr() {
		t.Errorf("Addr %q URL %q", s.Addr(), s.URL())
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Errorf("got %q", b)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Shutdown")
	}
	if _, err := client.Get(s.URL()); err == nil {
		t.Error("server still answers after Shutdown")
	}
}

// TestShutdownDeadline: a handler that does not finish in time has its connection closed, and Shutdown
// reports the deadline.
func TestShutdownDeadline(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	s, err := Serve("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	got := make(chan error, 1)
	go func() {
		resp, err := client.Get(s.URL())
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want the deadline", err)
	}
	if err := <-got; err == nil {
		t.Error("the request in flight got an answer, want its connection closed")
	}
	close(release)
}

func TestServeBadAddr(t *testing.T) {
	if _, err := Serve("127.0.0.1:notaport", http.NotFoundHandler()); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("Serve on a bad address: %v", err)
	}
}
