package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// lateConn is a connection whose client sent a whole request at once, and whose every read after the
// first finds the deadline passed, as when an overloaded server gets back to the connection more than
// ReadHeaderTimeout after it began reading it. Writes are recorded.
type lateConn struct {
	net.Conn // nil: only what is used
	mu       sync.Mutex
	in       *bytes.Reader
	reads    int
	out      bytes.Buffer
	closed   chan struct{}
	once     sync.Once
}

func (c *lateConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reads++; c.reads > 1 {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	return c.in.Read(p)
}

func (c *lateConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *lateConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *lateConn) answer() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

func (c *lateConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8200} }
func (c *lateConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *lateConn) SetDeadline(time.Time) error      { return nil }
func (c *lateConn) SetReadDeadline(time.Time) error  { return nil }
func (c *lateConn) SetWriteDeadline(time.Time) error { return nil }

// oneConnListener accepts conn once, then waits until it is closed.
type oneConnListener struct {
	conn net.Conn
	done chan struct{}
	once sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.conn })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.conn.LocalAddr() }

// serveLate serves one lateConn with the collector's server (HTTP/1.1 and h2c on one port) on ln(l)
// and returns the status line of its answer.
func serveLate(t *testing.T, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	req := "POST /intake/v2/events HTTP/1.1\r\nHost: 127.0.0.1:8200\r\nContent-Type: application/x-ndjson\r\nContent-Length: 0\r\n\r\n"
	conn := &lateConn{in: bytes.NewReader([]byte(req)), closed: make(chan struct{})}
	ln := &oneConnListener{conn: conn, done: make(chan struct{})}
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}), defaultHTTPLimits, zap.NewNop())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(wrap(ln)) }()
	<-conn.closed // the server answered and closed it, or closed it without an answer
	close(ln.done)
	_ = srv.Close()
	<-served
	line, _, _ := strings.Cut(conn.answer(), "\r\n")
	return line
}

// A request sent whole, whose connection the server reads a second time only after ReadHeaderTimeout:
// net/http alone answers 400 (the h2c preface check read 14 bytes, the timeout cut the rest); with
// prefetchListener the head came whole with the first read, and the request is served.
func TestPrefetchServesLateHeads(t *testing.T) {
	if got := serveLate(t, func(l net.Listener) net.Listener { return l }); !strings.Contains(got, "400") {
		// net/http changed: the prefetch may no longer be needed (see prefetchListener).
		t.Errorf("without the prefetch: %q, want net/http's 400", got)
	}
	if got := serveLate(t, func(l net.Listener) net.Listener { return prefetchListener{l} }); got != "HTTP/1.1 202 Accepted" {
		t.Errorf("with the prefetch: %q, want 202", got)
	}
}

// prefetchConn returns every byte once, in order, whatever the sizes of the reads, and the first
// read's error after them.
func TestPrefetchConnReads(t *testing.T) {
	data := strings.Repeat("0123456789abcdef", 600) // more than prefetchSize
	for _, sizes := range [][]int{{14, 4096, 4096, 4096}, {1, 1, 8000, 4096}, {5000, 5000}, {14, 3}} {
		a, b := net.Pipe()
		go func() {
			_, _ = a.Write([]byte(data))
			_ = a.Close()
		}()
		c := &prefetchConn{Conn: b}
		var got []byte
		for i := 0; ; i++ {
			p := make([]byte, sizes[min(i, len(sizes)-1)])
			n, err := c.Read(p)
			got = append(got, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reads of %v: %v", sizes, err)
			}
		}
		if string(got) != data {
			t.Fatalf("reads of %v: %d bytes back, want the %d written in order", sizes, len(got), len(data))
		}
	}
}

// dataAndEOF is a connection whose one read returns all its data together with io.EOF.
type dataAndEOF struct {
	net.Conn
	data []byte
}

func (c *dataAndEOF) Read(p []byte) (int, error) {
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, io.EOF
}

// An error that comes with the first read's data is returned after the data the caller has not taken
// yet, not with the part it took.
func TestPrefetchConnDefersError(t *testing.T) {
	c := &prefetchConn{Conn: &dataAndEOF{data: []byte("POST /intake/v2/events HTTP/1.1\r\n")}}
	var got []byte
	for range 10 {
		p := make([]byte, 14)
		n, err := c.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil || n == 0 {
			t.Fatalf("read %d bytes, %v, before the data was all returned", n, err)
		}
	}
	if string(got) != "POST /intake/v2/events HTTP/1.1\r\n" {
		t.Fatalf("got %q", got)
	}
}
