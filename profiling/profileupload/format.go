package profileupload

// Path is the profile intake's path under a server's URL: the Elastic Go agent's.
const Path = "/intake/v2/profile"

// Limits of an upload: APM Server's for its profile intake (metadata, profile parts), and the
// extension's (capture, trace parts). A writer keeps to them; a collector enforces them (or limits of
// its own configuration).
const (
	MaxMetadataSize = 10 << 10 // the metadata part
	MaxCaptureSize  = 10 << 10 // the capture part
	MaxProfilesSize = 10 << 20 // the profile parts together
	MaxTraceSize    = 32 << 20 // the trace part, compressed
)

// Names of the parts (their form names).
const (
	PartMetadata = "metadata"
	PartCapture  = "capture"
	PartProfile  = "profile"
	PartTrace    = "trace"
)

// Kinds of the parts after the capture part, as the capture part's parts lists them. A profile part's
// filename is its kind and ".pprof"; the trace part's is TraceFilename.
const (
	KindCPU       = "cpu"
	KindGoroutine = "goroutine"
	KindHeap      = "heap"
	KindTrace     = "trace"
)

// Media types of the parts, and the trace part's filename and encoding.
const (
	MediaTypeJSON     = "application/json"                                                 // metadata, capture
	MediaTypePprof    = `application/x-protobuf; messageType="perftools.profiles.Profile"` // profile parts
	MediaTypeTrace    = "application/x-go-trace"
	TraceFilename     = "trace.out"
	TraceEncoding     = "gzip"
	pprofMediaType    = "application/x-protobuf"
	pprofMessageType  = "perftools.profiles.Profile"
	pprofFilenameTail = ".pprof"
)

// isProfileKind reports whether k is the kind of a profile part of a capture.
func isProfileKind(k string) bool { return k == KindCPU || k == KindGoroutine || k == KindHeap }
