package decoder

import "github.com/hotpath-apm/hotpath/collector"

// stacktrace decodes an array of stack frames into a region of the frame slab. Each frame needs a
// classname or a filename; a null or empty element fails validation.
func (d *Decoder) stacktrace() ([]collector.StackFrame, bool) {
	s := &d.s
	if !s.beginArray() {
		return nil, false
	}
	frames := &d.pool.frames
	frames.begin()
	n := 0
	for first := true; s.nextElem(&first); {
		n++
		var f collector.StackFrame
		d.v.push("stacktrace")
		set := d.frame(&f)
		d.v.pop()
		if s.err != nil {
			break
		}
		if !set {
			d.v.fail("stacktrace slice element required")
		}
		*frames.add() = f
	}
	return frames.end(), n > 0
}

func (d *Decoder) frame(f *collector.StackFrame) bool {
	s := &d.s
	var classSet, fileSet bool
	set := d.object("v2.stacktraceFrame", func(key []byte) bool {
		switch string(key) {
		case "abs_path":
			return d.text(&f.AbsPath)
		case "filename":
			return d.textSet(&f.Filename, &fileSet)
		case "classname":
			return d.textSet(&f.Classname, &classSet)
		case "context_line":
			return d.text(&f.ContextLine)
		case "function":
			return d.text(&f.Function)
		case "module":
			return d.text(&f.Module)
		case "lineno":
			v, ok := s.int()
			if ok {
				f.Lineno = collector.Some(int32(uint32(v)))
			}
			return ok
		case "colno":
			v, ok := s.int()
			if ok {
				f.Colno = collector.Some(int32(uint32(v)))
			}
			return ok
		case "library_frame":
			v, ok := s.bool()
			if ok {
				f.LibraryFrame = v
			}
			return ok
		case "vars":
			return d.keyValues(&f.Vars)
		case "pre_context":
			pre, ok := d.strings(0, "")
			f.PreContext = pre
			return ok
		case "post_context":
			post, ok := d.strings(0, "")
			f.PostContext = post
			return ok
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !classSet && !fileSet {
		d.v.fail("requires at least one of the fields 'classname;filename'")
	}
	return set
}
