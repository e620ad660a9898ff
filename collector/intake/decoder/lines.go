package decoder

import (
	"bytes"
	"errors"
	"io"
)

// errLineTooLong reports a line that does not fit the event size limit.
var errLineTooLong = errors.New("line exceeded permitted length")

// minBuffer is bufio's smallest buffer, which APM Server's reader inherits: with a smaller
// MaxEventSize the buffer is still this large, only the reported document is cut to MaxEventSize.
const minBuffer = 16

// lineReader splits a stream into lines with a bounded buffer. It reproduces exactly the limit APM
// Server applies (a bufio.Reader of MaxEventSize bytes read with ReadSlice('\n')):
//
//   - a line is accepted when it fits the buffer together with its '\n': up to MaxEventSize-1 bytes of
//     content;
//   - the last line of a stream, without '\n', may fill the buffer (MaxEventSize bytes) provided the
//     reader reports io.EOF no later than with its last bytes, as net/http request bodies and gzip
//     readers do; a reader that needs one more Read to say io.EOF gets "too large" for that line, as
//     with APM Server;
//   - a longer line is reported once with its first MaxEventSize bytes and errLineTooLong, and the rest
//     of it is skipped.
type lineReader struct {
	r        io.Reader
	buf      []byte
	max      int // MaxEventSize: the length of the document reported with errLineTooLong
	rd, wr   int // buf[rd:wr] is unread
	err      error
	skipping bool
}

func newLineReader(max int) *lineReader {
	size := max
	if size < minBuffer {
		size = minBuffer
	}
	return &lineReader{buf: make([]byte, size), max: max}
}

func (l *lineReader) reset(r io.Reader) {
	l.r = r
	l.rd, l.wr = 0, 0
	l.err = nil
	l.skipping = false
}

// fill slides unread data to the front and reads once more into the buffer.
func (l *lineReader) fill() {
	if l.rd > 0 {
		copy(l.buf, l.buf[l.rd:l.wr])
		l.wr -= l.rd
		l.rd = 0
	}
	// Readers may return 0, nil; bufio gives up after 100 of those.
	for i := 0; i < 100; i++ {
		n, err := l.r.Read(l.buf[l.wr:])
		if n < 0 || n > len(l.buf)-l.wr {
			l.err = errors.New("decoder: reader returned an invalid count")
			return
		}
		l.wr += n
		if err != nil {
			l.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	l.err = io.ErrNoProgress
}

// readSlice is bufio.Reader.ReadSlice('\n') on buf: the line including its '\n', or what is left with
// the pending error, or a full buffer with errBufferFull.
func (l *lineReader) readSlice() ([]byte, error) {
	scanned := 0
	for {
		if i := bytes.IndexByte(l.buf[l.rd+scanned:l.wr], '\n'); i >= 0 {
			end := l.rd + scanned + i + 1
			line := l.buf[l.rd:end]
			l.rd = end
			return line, nil
		}
		if l.err != nil {
			line := l.buf[l.rd:l.wr]
			l.rd = l.wr
			err := l.err
			l.err = nil
			return line, err
		}
		if l.wr-l.rd >= len(l.buf) {
			line := l.buf[l.rd:l.wr]
			l.rd = l.wr
			return line, errBufferFull
		}
		scanned = l.wr - l.rd
		l.fill()
	}
}

var errBufferFull = errors.New("buffer full")

// readLine returns the next line without its '\n'. It returns io.EOF together with the last line when
// the stream ends without a newline, and (nil, io.EOF) after the end. A line too long for the buffer is
// returned cut to max bytes with errLineTooLong; the next call returns the line after it. The returned
// slice is valid until the next call.
func (l *lineReader) readLine() ([]byte, error) {
	for {
		line, err := l.readSlice()
		full := err == errBufferFull
		if !l.skipping {
			if full {
				l.skipping = true
				if len(line) > l.max {
					line = line[:l.max]
				}
				return line, errLineTooLong
			}
			if n := len(line); n > 0 && line[n-1] == '\n' {
				line = line[:n-1]
			}
			return line, err
		}
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil && !full {
			return nil, err
		}
		if !full {
			l.skipping = false
		}
	}
}
