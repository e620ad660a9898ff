package intake

import (
	"bytes"
	"fmt"
	"strings"
)

// streamBuilder writes intake v2 streams for tests: a metadata line, then events.
type streamBuilder struct {
	buf bytes.Buffer
	n   int // events written
}

func newStream(service string) *streamBuilder {
	s := &streamBuilder{}
	fmt.Fprintf(&s.buf, `{"metadata":{"service":{"name":%q,"agent":{"name":"go","version":"2.7.12"}}}}`+"\n", service)
	return s
}

// transactions appends n valid transactions with ids derived from seq.
func (s *streamBuilder) transactions(n int) *streamBuilder {
	for range n {
		s.n++
		fmt.Fprintf(&s.buf, `{"transaction":{"id":"%016x","trace_id":"%032x","name":"GET /x","type":"request","duration":1.5,"span_count":{"started":0},"sampled":true}}`+"\n", s.n, s.n)
	}
	return s
}

// invalid appends n transactions whose id has the wrong type (a decode error each).
func (s *streamBuilder) invalid(n int) *streamBuilder {
	for range n {
		s.buf.WriteString(`{"transaction":{"id":12345,"trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":1,"span_count":{"started":0}}}` + "\n")
	}
	return s
}

// sizedTransaction appends one valid transaction line of exactly size bytes (without its newline),
// padding a custom context value (keywords are limited to 1024 characters, custom values are not).
func (s *streamBuilder) sizedTransaction(size int) *streamBuilder {
	s.n++
	line := fmt.Sprintf(`{"transaction":{"id":"%016x","trace_id":"%032x","name":"GET /x","type":"request","duration":1.5,"span_count":{"started":0},"sampled":true,"context":{"custom":{"pad":""}}}}`, s.n, s.n)
	pad := size - len(line)
	if pad < 0 {
		panic("size too small")
	}
	line = strings.Replace(line, `"pad":""`, `"pad":"`+strings.Repeat("n", pad)+`"`, 1)
	s.buf.WriteString(line + "\n")
	return s
}

func (s *streamBuilder) bytes() []byte { return s.buf.Bytes() }
