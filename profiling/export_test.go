package profiling

import "io"

// WithSlowHook calls f from every RequestSlow call, once it has decided: with the capture's ID after
// the first goroutine snapshot when it started one, with "" when admission refused. Tests release
// blocked handlers with it.
func WithSlowHook(f func(id string)) Option {
	return func(c *config) { c.slowHook = f }
}

// WithResourceReader replaces the runtime's readings with read's: CPU, heap, goroutines, scheduling
// latency, in Resource units (NaN: unknown).
func WithResourceReader(read func() [4]float64) Option {
	return func(c *config) {
		c.readResources = func() resourceValues { return resourceValues(read()) }
	}
}

// Upload sends c with the profiler's uploader, as a finished capture is.
func Upload(p *Profiler, c *Capture) error {
	return p.cfg.uploader.Upload(p.uploadCtx, c)
}

// EncodeUpload writes c's upload body, as the uploader sends it, and returns its Content-Type.
func EncodeUpload(w io.Writer, metadata []byte, c *Capture) (string, error) {
	return encodeUpload(w, metadata, c)
}
