package intake

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// decompressors pools gzip and zlib readers (each holds ~40 KiB of window and tables) with the
// buffered reader they read the wire through, so that a stream costs no decompressor or buffer
// allocation in the steady state.
type decompressors struct {
	gzip sync.Pool // *pooled[*gzip.Reader]
	zlib sync.Pool // *pooled[zlibReader]
}

// wireBuffer is the size of the buffer a decompressor reads the wire through: flate reads it a
// byte at a time, and it reads the wire (the pacer, the limits) in reads of this size.
const wireBuffer = 16 << 10

// pooled is a pooled decompressor (nil until its first use) with the buffered reader it reads the
// wire through.
type pooled[D io.Reader] struct {
	br  *bufio.Reader
	dec D
}

// zlibReader is the reader zlib.NewReader returns.
type zlibReader interface {
	io.ReadCloser
	zlib.Resetter
}

// body is one request's body on its way to the decoder: the wire bytes counted and limited, then
// decompressed (gzip or zlib, by Content-Encoding or by sniffing the first two bytes, as APM Server
// does), then the decompressed bytes limited again. close returns the decompressor to the pool.
type body struct {
	wire    limitedReader
	decoded limitedReader
	budget  *streamBudget // counts the decompressed bytes read, if set
	gz      *pooled[*gzip.Reader]
	zl      *pooled[zlibReader]
	pool    *decompressors
}

// errDecompression marks an error of setting up decompression: APM Server answers it with
// "data decoding error: <err>" and 400.
type errDecompression struct{ err error }

func (e errDecompression) Error() string { return "data decoding error: " + e.err.Error() }
func (e errDecompression) Unwrap() error { return e.err }

// openBody prepares r's body for decoding, read through wire (r.Body paced, see pacer). maxWire limits
// the bytes read from the connection, maxDecoded the bytes after decompression. An error is an
// errDecompression.
func (d *decompressors) openBody(r *http.Request, wire io.Reader, maxWire, maxDecoded int64) (*body, error) {
	b := &body{pool: d}
	b.wire = limitedReader{r: wire, limit: maxWire, what: "request body"}
	var src io.Reader = &b.wire
	if r.ContentLength != 0 {
		var err error
		switch r.Header.Get("Content-Encoding") {
		case "deflate":
			src, err = b.zlib(src)
		case "gzip":
			src, err = b.gzip(src)
		default:
			src, err = b.sniff(src)
		}
		if err != nil {
			b.close()
			return nil, errDecompression{err}
		}
	}
	b.decoded = limitedReader{r: src, limit: maxDecoded, what: "decompressed request body"}
	return b, nil
}

// sniff looks at the first two bytes: 1f 8b is gzip, a low nibble of 8 (deflate) is zlib, anything
// else is read as it is. It reads both bytes even if the connection delivers them apart.
func (b *body) sniff(src io.Reader) (io.Reader, error) {
	const (
		gzipID1, gzipID2 = 0x1f, 0x8b
		zlibDeflate      = 8
	)
	var magic [2]byte
	n, err := io.ReadFull(src, magic[:])
	switch {
	case n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF):
		return src, nil // empty body: the decoder sees EOF at once
	case err != nil && err != io.ErrUnexpectedEOF:
		return nil, err
	}
	src = io.MultiReader(bytes.NewReader(magic[:n]), src)
	switch {
	case n == 2 && magic[0] == gzipID1 && magic[1] == gzipID2:
		return b.gzip(src)
	case n == 2 && magic[0]&0x0f == zlibDeflate:
		return b.zlib(src)
	}
	return src, nil
}

func (b *body) gzip(src io.Reader) (io.Reader, error) {
	r, err := takePooled(&b.pool.gzip, src, func(gz **gzip.Reader, br *bufio.Reader) (err error) {
		if *gz == nil {
			*gz, err = gzip.NewReader(br)
			return err
		}
		return (*gz).Reset(br)
	})
	if err != nil {
		return nil, err
	}
	b.gz = r
	return r.dec, nil
}

func (b *body) zlib(src io.Reader) (io.Reader, error) {
	r, err := takePooled(&b.pool.zlib, src, func(zl *zlibReader, br *bufio.Reader) error {
		if *zl == nil {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return err
			}
			*zl = zr.(zlibReader)
			return nil
		}
		return (*zl).Reset(br, nil)
	})
	if err != nil {
		return nil, err
	}
	b.zl = r
	return r.dec, nil
}

// takePooled takes a decompressor from pool, or makes one, to read src: reset points it at its
// buffered reader (making it on its first use), and reads the compressed stream's header.
func takePooled[D io.Reader](pool *sync.Pool, src io.Reader, reset func(dec *D, br *bufio.Reader) error) (*pooled[D], error) {
	r, ok := pool.Get().(*pooled[D])
	if !ok {
		r = &pooled[D]{br: bufio.NewReaderSize(src, wireBuffer)}
	} else {
		r.br.Reset(src)
	}
	if err := reset(&r.dec, r.br); err != nil {
		putPooled(pool, r)
		return nil, err
	}
	return r, nil
}

// putPooled returns r to pool, holding no reference to the request's body.
func putPooled[D io.Reader](pool *sync.Pool, r *pooled[D]) {
	r.br.Reset(nil)
	pool.Put(r)
}

// Read reads decompressed bytes.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.decoded.Read(p)
	if b.budget != nil && n > 0 {
		// Line ends are not charged: the decoder skips blank lines and keeps no newline, so a body of
		// blank lines holds nothing (APM Server skips them too) and ends at MaxDecodedBytes, not at the
		// budget with a 503 that tells the agent to send it again.
		if berr := b.budget.take(n - bytes.Count(p[:n], newline)); berr != nil {
			b.decoded.err = berr
			return n, berr
		}
	}
	return n, err
}

var newline = []byte{'\n'}

// readErr returns the first error, other than io.EOF, met while reading the body: a read timeout, a
// broken connection, corrupt compressed data, a *bodyTooLargeError or errMemoryBudget.
func (b *body) readErr() error {
	if b.wire.err != nil {
		return b.wire.err
	}
	return b.decoded.err
}

// close returns the decompressor to the pool; the body must not be read afterwards.
func (b *body) close() {
	if b.gz != nil {
		putPooled(&b.pool.gzip, b.gz)
		b.gz = nil
	}
	if b.zl != nil {
		putPooled(&b.pool.zlib, b.zl)
		b.zl = nil
	}
}

// bodyTooLargeError says that a request body exceeded one of the limits.
type bodyTooLargeError struct {
	what  string // "request body" or "decompressed request body"
	limit int64
}

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("%s exceeded the permitted size of %d bytes", e.what, e.limit)
}

// limitedReader reads at most limit bytes from r, failing with *bodyTooLargeError past it, and keeps
// the first error r returned other than io.EOF.
type limitedReader struct {
	r     io.Reader
	n     int64 // bytes read
	limit int64
	what  string // for the error: "request body" or "decompressed request body"
	err   error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	// Read one byte past the limit to tell "exactly limit bytes" from "more".
	if room := l.limit - l.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		n -= int(l.n - l.limit)
		l.n = l.limit
		l.err = &bodyTooLargeError{what: l.what, limit: l.limit}
		return n, l.err
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}
