package elasticsearch

import (
	"github.com/hotpath-apm/hotpath/collector"
)

// The error.* group and the stack frames that errors and spans share.

func writeError(w *jsonWriter, e *collector.Error) {
	m := w.open("error")
	w.str("culprit", e.Culprit)
	w.keyValues("custom", e.Custom, true)
	if e.Exception != nil {
		// The exception tree is flattened into an array in depth-first order; an exception whose cause
		// is not the one just before it says so with "parent" (its index in the array).
		w.beginArray("exception")
		writeException(w, e.Exception, 0, 0)
		w.b = append(w.b, ']')
	}
	w.str("grouping_key", e.GroupingKey)
	w.str("id", e.ID)
	if l := e.Log; l != nil {
		w.begin("log")
		w.str("level", l.Level)
		w.str("logger_name", l.LoggerName)
		w.str("message", l.Message)
		w.str("param_message", l.ParamMessage)
		writeStacktrace(w, "stacktrace", l.Stacktrace)
		w.end()
	}
	w.str("message", e.Message)
	w.str("stack_trace", e.StackTrace)
	w.str("type", e.Type)
	w.close(m)
}

// writeException writes ex at index offset of the flattened array, then its causes, and returns the
// index after the last one written. parent is the index of the exception ex is a cause of.
func writeException(w *jsonWriter, ex *collector.Exception, offset, parent int) int {
	w.beginItem(offset)
	if ex.Attributes != nil {
		w.keyValues("attributes", ex.Attributes, false)
	}
	w.str("code", ex.Code)
	w.optBool("handled", ex.Handled)
	w.str("message", ex.Message)
	w.str("module", ex.Module)
	if offset > parent+1 {
		w.intAlways("parent", int64(parent))
	}
	writeStacktrace(w, "stacktrace", ex.Stacktrace)
	w.str("type", ex.Type)
	w.end()
	next := offset + 1
	for i := range ex.Cause {
		next = writeException(w, &ex.Cause[i], next, offset)
	}
	return next
}

// writeStacktrace writes the member name: [frames...] when there are frames.
func writeStacktrace(w *jsonWriter, name string, frames []collector.StackFrame) {
	if len(frames) == 0 {
		return
	}
	w.beginArray(name)
	for i := range frames {
		w.beginItem(i)
		writeFrame(w, &frames[i])
		w.end()
	}
	w.b = append(w.b, ']')
}

// writeFrame writes the members of f.
func writeFrame(w *jsonWriter, f *collector.StackFrame) {
	w.str("abs_path", f.AbsPath)
	w.str("classname", f.Classname)
	if len(f.PreContext) > 0 || len(f.PostContext) > 0 {
		w.begin("context")
		if f.PostContext != nil {
			w.key("post")
			w.stringArray(f.PostContext)
		}
		if f.PreContext != nil {
			w.key("pre")
			w.stringArray(f.PreContext)
		}
		w.end()
	}
	w.boolAlways("exclude_from_grouping", f.ExcludeFromGrouping)
	w.str("filename", f.Filename)
	w.str("function", f.Function)
	w.trueOnly("library_frame", f.LibraryFrame)
	if f.Lineno.Valid || f.Colno.Valid || f.ContextLine != "" {
		w.begin("line")
		if f.Colno.Valid {
			w.intAlways("column", int64(f.Colno.V))
		}
		w.str("context", f.ContextLine)
		if f.Lineno.Valid {
			w.intAlways("number", int64(f.Lineno.V))
		}
		w.end()
	}
	w.str("module", f.Module)
	if o := f.Original; o != nil {
		// Only a frame a source map rewrote keeps its original location; otherwise only whether the
		// agent called it a library frame.
		m := w.open("original")
		if f.SourcemapUpdated {
			w.str("abs_path", o.AbsPath)
			w.str("classname", o.Classname)
			if o.Colno.Valid {
				w.intAlways("colno", int64(o.Colno.V))
			}
			w.str("filename", o.Filename)
			w.str("function", o.Function)
		}
		w.trueOnly("library_frame", o.LibraryFrame)
		if f.SourcemapUpdated && o.Lineno.Valid {
			w.intAlways("lineno", int64(o.Lineno.V))
		}
		w.close(m)
	}
	if f.SourcemapError != "" || f.SourcemapUpdated {
		w.begin("sourcemap")
		w.str("error", f.SourcemapError)
		w.trueOnly("updated", f.SourcemapUpdated)
		w.end()
	}
	if f.Vars != nil {
		w.keyValues("vars", f.Vars, false)
	}
}
