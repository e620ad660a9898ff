package profileupload

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// Reader reads an upload's parts in order and checks their framing: names, order, headers, media
// types, filenames. What a part holds is the caller's to read and check, with its limits (a
// collector's may be its configuration's); DecodeCapture and Capture.Check read the capture part.
type Reader struct {
	mr       *multipart.Reader
	maxParts int
	n        int    // parts returned
	capture  bool   // the capture part was returned
	last     string // the name of the part returned last
}

// NewReader returns a Reader of the multipart body with that boundary, refusing more than maxParts
// parts.
func NewReader(body io.Reader, boundary string, maxParts int) *Reader {
	return &Reader{mr: multipart.NewReader(body, boundary), maxParts: maxParts}
}

// Part is one part of an upload. Reading it reads the part's body (as sent: a trace part is
// gzip-compressed).
type Part struct {
	io.Reader
	Index int    // from 0, the metadata part
	Name  string // PartMetadata, PartCapture, PartProfile or PartTrace
	// Kind is a profile part's kind when the upload has a capture part (KindCPU, KindGoroutine,
	// KindHeap, from its filename), "" for the Elastic agent's profile parts (which have no filename:
	// their sample types tell), KindTrace for the trace part.
	Kind string
	// Header is the part's: Content-Disposition, Content-Type, and the trace part's Content-Encoding.
	Header textproto.MIMEHeader
}

// Next returns the next part, or io.EOF after the last. Any other error says what breaks the format;
// the upload is then to be refused.
func (r *Reader) Next() (*Part, error) {
	i := r.n
	part, err := r.mr.NextRawPart()
	if err == io.EOF {
		if i == 0 {
			return nil, errors.New("no metadata part")
		}
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("malformed multipart body at part %d: %v", i, err)
	}
	if i >= r.maxParts {
		return nil, fmt.Errorf("more than %d parts", r.maxParts)
	}
	r.n++
	name := part.FormName()
	for k := range part.Header {
		if k != "Content-Disposition" && k != "Content-Type" && (name != PartTrace || k != "Content-Encoding") {
			return nil, fmt.Errorf("part %d (%s): unexpected header %s", i, name, k)
		}
	}
	ct := part.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("part %d (%s): Content-Type %q: %v", i, name, ct, err)
	}
	if r.last == PartTrace {
		return nil, fmt.Errorf("part %d (%s) follows the trace part, which must be the last", i, name)
	}
	r.last = name
	p := &Part{Reader: part, Index: i, Name: name, Header: part.Header}
	switch {
	case i == 0 && name != PartMetadata:
		return nil, fmt.Errorf("the first part is %q: the metadata part must come first", name)
	case name == PartMetadata:
		if i != 0 {
			return nil, fmt.Errorf("a second metadata part (part %d)", i)
		}
		if mt != MediaTypeJSON {
			return nil, fmt.Errorf("metadata part: Content-Type %q, expected %s", ct, MediaTypeJSON)
		}
	case name == PartCapture:
		if i != 1 {
			return nil, fmt.Errorf("the capture part must be the second (it is part %d)", i)
		}
		if mt != MediaTypeJSON {
			return nil, fmt.Errorf("capture part: Content-Type %q, expected %s", ct, MediaTypeJSON)
		}
		r.capture = true
	case name == PartProfile:
		if mt != pprofMediaType || params["messagetype"] != pprofMessageType {
			return nil, fmt.Errorf("profile part %d: Content-Type %q, expected %s; messageType=%q", i, ct, pprofMediaType, pprofMessageType)
		}
		if r.capture {
			p.Kind = strings.TrimSuffix(part.FileName(), pprofFilenameTail)
			if !isProfileKind(p.Kind) || p.Kind+pprofFilenameTail != part.FileName() {
				return nil, fmt.Errorf("profile part %d: filename %q, expected cpu.pprof, goroutine.pprof or heap.pprof", i, part.FileName())
			}
		}
	case name == PartTrace:
		if !r.capture {
			return nil, fmt.Errorf("trace part %d without a capture part: only hotpath's captures have a trace", i)
		}
		if mt != MediaTypeTrace || part.Header.Get("Content-Encoding") != TraceEncoding || part.FileName() != TraceFilename {
			return nil, fmt.Errorf(`trace part %d: want Content-Type %s, Content-Encoding %s and filename %q; got %q, %q, %q`,
				i, MediaTypeTrace, TraceEncoding, TraceFilename, ct, part.Header.Get("Content-Encoding"), part.FileName())
		}
		p.Kind = KindTrace
	default:
		return nil, fmt.Errorf("part %d: unknown part %q (expected metadata, capture, profile or trace)", i, name)
	}
	return p, nil
}
