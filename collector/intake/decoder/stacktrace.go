package decoder

import "github.com/hotpath-apm/hotpath/collector"

// stacktrace decodes an array of stack frames (frame, generated) into a region of the frame slab. Each
// frame needs a classname or a filename; a null or empty element fails validation.
func (d *Decoder) stacktrace() ([]collector.StackFrame, bool) {
	frames, _ := objectArray(d, &d.pool.frames, "stacktrace", d.frame)
	return frames, len(frames) > 0
}
