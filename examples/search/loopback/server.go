// Package loopback serves an http.Handler on a TCP listener, by default 127.0.0.1 on a port the kernel
// picks, with the timeouts and header limit every server of the search example needs, and shuts it
// down when asked. It is how the example's parts (the search service, the segmenter, the Elasticsearch
// stand-in) are started in-process, by their commands, by the stack package and by tests.
package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultAddr is the address Serve listens on when given "": loopback, any free port.
const DefaultAddr = "127.0.0.1:0"

// The server's limits. A request must send its headers within ReadHeaderTimeout and its body within
// ReadTimeout; the answer must be written within WriteTimeout; an idle keep-alive connection is closed
// after IdleTimeout.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 64 << 10
)

// Server is an http.Server serving one handler on its own listener.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error // Serve's error, other than http.ErrServerClosed; read after done is closed
}

// Serve listens on addr ("" means DefaultAddr) and serves h there on a goroutine of its own until
// Shutdown. Handlers see the server's base context, which Shutdown does not cancel: they end on their
// request's context.
func Serve(addr string, h http.Handler) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: ReadHeaderTimeout,
			ReadTimeout:       ReadTimeout,
			WriteTimeout:      WriteTimeout,
			IdleTimeout:       IdleTimeout,
			MaxHeaderBytes:    MaxHeaderBytes,
		},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on, such as "127.0.0.1:41234".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the server's base URL, "http://" and Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Done is closed when the server has stopped serving: after Shutdown, or when accepting failed.
func (s *Server) Done() <-chan struct{} { return s.done }

// Shutdown stops accepting, waits for the requests being served to finish until ctx is done, then closes
// the connections left. It returns the error that stopped the server early, if any, or ctx's error if
// requests were still running when ctx was done.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("shut down %s: %w", s.Addr(), err), s.srv.Close())
	}
	<-s.done
	if s.err != nil {
		return errors.Join(fmt.Errorf("serve %s: %w", s.Addr(), s.err), err)
	}
	return err
}
