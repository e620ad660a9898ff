package profiling

import "context"

// Uploader sends finished captures somewhere. Upload is called from one goroutine at a time, with a
// context that is cancelled when the profiler is closed; it must not keep c after returning.
type Uploader interface {
	Upload(ctx context.Context, c *Capture) error
}

// discardUploader drops captures.
type discardUploader struct{}

func (discardUploader) Upload(context.Context, *Capture) error { return nil }
