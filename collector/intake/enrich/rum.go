package enrich

import (
	"net/url"
	"path"
	"strings"

	"github.com/hotpath-apm/hotpath/collector"
)

// processRUM applies APM Server's RUM-endpoint steps to the stack frames of a span or error, in its
// order: source mapping, then library frames, then frames excluded from grouping. (APM Server then runs
// SetCulprit, which only changes errors with source-mapped frames; hotpath maps none, so it is a no-op.)
func processRUM(e *collector.Event) {
	switch {
	case e.Span != nil:
		rumFrames(e, e.Span.Stacktrace)
	case e.Error != nil:
		if e.Error.Log != nil {
			rumFrames(e, e.Error.Log.Stacktrace)
		}
		if e.Error.Exception != nil {
			rumException(e, e.Error.Exception)
		}
	}
}

func rumException(e *collector.Event, ex *collector.Exception) {
	rumFrames(e, ex.Stacktrace)
	for i := range ex.Cause {
		rumException(e, &ex.Cause[i])
	}
}

func rumFrames(e *collector.Event, frames []collector.StackFrame) {
	if len(frames) == 0 {
		return
	}
	// Source mapping runs over all of the event's frames before the library pattern, and only for
	// services that have a name and a version (source maps are uploaded per service version).
	if e.Service.Name != "" && e.Service.Version != "" {
		for i := range frames {
			setSourcemapError(&frames[i], &e.Service)
		}
	}
	for i := range frames {
		f := &frames[i]
		if f.LibraryFrame {
			// APM Server keeps what the agent said in original.library_frame.
			if f.Original == nil {
				f.Original = &collector.OriginalFrame{}
			}
			f.Original.LibraryFrame = true
		} else if f.Original != nil {
			f.Original.LibraryFrame = false
		}
		f.LibraryFrame = isLibraryPath(f.Filename) || isLibraryPath(f.AbsPath)
		f.ExcludeFromGrouping = strings.HasPrefix(f.Filename, "/webpack")
	}
}

// isLibraryPath matches APM Server's default RUM library pattern, node_modules|bower_components|~.
func isLibraryPath(s string) bool {
	return s != "" && (strings.Contains(s, "node_modules") || strings.Contains(s, "bower_components") ||
		strings.Contains(s, "~"))
}

// setSourcemapError records on a frame that could be source mapped the error APM Server records when
// no source map was uploaded for its bundle. hotpath keeps no source maps, so for it this is always the
// outcome; Kibana shows the message on the frame.
func setSourcemapError(f *collector.StackFrame, s *collector.Service) {
	if !f.Colno.Valid || !f.Lineno.Valid || f.AbsPath == "" {
		return
	}
	f.SourcemapError = "unable to find sourcemap.url for service.name=" + s.Name +
		" service.version=" + s.Version + " bundle.path=" + bundlePath(f.AbsPath)
}

// bundlePath is the bundle path APM Server's source-map lookup ends with for absPath: the URL with its
// path cleaned, then without query and fragment, cleaned again, until that changes nothing.
func bundlePath(absPath string) string {
	p := absPath
	if u, err := url.Parse(p); err == nil {
		u.Path = path.Clean(u.Path)
		p = u.String()
	}
	for range 8 { // each round only removes; a handful reaches the fixed point
		u, err := url.Parse(p)
		if err != nil {
			break
		}
		u.RawQuery = ""
		u.Fragment = ""
		u = u.JoinPath()
		clean := u.String()
		if clean == p {
			break
		}
		p = clean
	}
	return p
}
