package profileupload

import (
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
)

// Writer writes one upload: WriteMetadata, then WriteCapture (hotpath's captures only), the profile
// parts, WriteTrace, and Close. It writes what it is given in the order it is given; keeping to the
// format's order and limits is the caller's part, except the capture part's (WriteCapture).
type Writer struct {
	mw *multipart.Writer
}

// NewWriter returns a Writer of an upload's body to w.
func NewWriter(w io.Writer) *Writer { return &Writer{mw: multipart.NewWriter(w)} }

// ContentType is the request's Content-Type: multipart/form-data with the body's boundary.
func (w *Writer) ContentType() string { return w.mw.FormDataContentType() }

// WriteMetadata writes the metadata part: the intake v2 metadata object, unwrapped.
func (w *Writer) WriteMetadata(metadata []byte) error {
	return w.write(PartMetadata, "", MediaTypeJSON, "", metadata)
}

// WriteCapture writes the capture part. When its JSON would pass MaxCaptureSize, c's last errors are
// dropped until it fits (c is left unchanged); it is an error if it still does not.
func (w *Writer) WriteCapture(c *Capture) error {
	cp := *c
	data, err := json.Marshal(&cp)
	for err == nil && len(data) > MaxCaptureSize && len(cp.Errors) > 0 {
		cp.Errors = cp.Errors[:len(cp.Errors)-1]
		data, err = json.Marshal(&cp)
	}
	if err != nil {
		return fmt.Errorf("profileupload: encode capture part: %w", err)
	}
	if len(data) > MaxCaptureSize {
		return fmt.Errorf("profileupload: capture part is %d bytes, over %d", len(data), MaxCaptureSize)
	}
	return w.write(PartCapture, "", MediaTypeJSON, "", data)
}

// WriteProfile writes a profile part: a pprof protobuf, gzipped as runtime/pprof writes it. kind names
// it (KindCPU, KindGoroutine, KindHeap); "" writes it without a filename, as the Elastic agent does.
func (w *Writer) WriteProfile(kind string, pprof []byte) error {
	filename := ""
	if kind != "" {
		filename = kind + pprofFilenameTail
	}
	return w.write(PartProfile, filename, MediaTypePprof, "", pprof)
}

// WriteTrace writes the trace part: a Go execution trace, gzip-compressed.
func (w *Writer) WriteTrace(gzipped []byte) error {
	return w.write(PartTrace, TraceFilename, MediaTypeTrace, TraceEncoding, gzipped)
}

// Close writes the body's end.
func (w *Writer) Close() error {
	if err := w.mw.Close(); err != nil {
		return fmt.Errorf("profileupload: %w", err)
	}
	return nil
}

// write writes one part with the headers the format allows and nothing else.
func (w *Writer) write(name, filename, mediaType, encoding string, data []byte) error {
	h := make(textproto.MIMEHeader)
	disposition := `form-data; name="` + name + `"`
	if filename != "" {
		disposition += `; filename="` + filename + `"`
	}
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Type", mediaType)
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	pw, err := w.mw.CreatePart(h)
	if err == nil {
		_, err = pw.Write(data)
	}
	if err != nil {
		return fmt.Errorf("profileupload: write %s part: %w", name, err)
	}
	return nil
}
