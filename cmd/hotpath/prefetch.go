package main

import (
	"net"
)

// prefetchSize is how much a connection's first read takes from the socket: a request head as agents
// and SDKs send it, in one read.
const prefetchSize = 4 << 10

// prefetchListener gives each connection a first read that takes what the client has sent, however
// little the server asked for.
//
// The server serves HTTP/1.1 and h2c on one port, so net/http first reads just 14 bytes of each
// connection, to see whether they are HTTP/2's preface, and reads the rest of the request head with a
// second read. ReadHeaderTimeout runs across both; when it expires between them, net/http parses the
// 14 bytes as the request line and answers "400 Bad Request" (its answer to a head cut short),
// not the silent close of a timeout. That happens to requests sent whole and on time, when the
// collector is so overloaded that it gets back to a connection more than ReadHeaderTimeout after it
// started reading it (the fault suite's overload: 2–3.5 % of requests), and agents do not send a 400's
// events again. With the head read whole by the first read, the second read is served from memory.
type prefetchListener struct{ net.Listener }

// Accept wraps the accepted connection in a prefetchConn.
func (l prefetchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &prefetchConn{Conn: c}, nil
}

// prefetchConn is a net.Conn whose first Read reads up to prefetchSize bytes and keeps what the caller
// did not ask for, for the next Reads. Reads are not concurrent (net/http reads a connection from one
// goroutine at a time).
type prefetchConn struct {
	net.Conn
	first bool   // the first Read has happened
	ahead []byte // read from the socket, not yet returned
	err   error  // the first read's error, returned once ahead is drained
}

func (c *prefetchConn) Read(p []byte) (int, error) {
	if len(c.ahead) > 0 {
		n := copy(p, c.ahead)
		if c.ahead = c.ahead[n:]; len(c.ahead) == 0 {
			c.ahead = nil
		}
		return n, nil
	}
	if err := c.err; err != nil {
		c.err = nil
		return 0, err
	}
	if c.first || len(p) >= prefetchSize {
		c.first = true
		return c.Conn.Read(p)
	}
	c.first = true
	buf := make([]byte, prefetchSize)
	n, err := c.Conn.Read(buf)
	m := copy(p, buf[:n])
	if m < n {
		c.ahead, c.err = buf[m:n], err
		return m, nil
	}
	return m, err
}

// CloseWrite half-closes the connection, as net/http does before closing one it answered with an
// error, so that the client reads the answer rather than a reset.
func (c *prefetchConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
