package intake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
)

// Media types and names of the upload's parts (the profiling package's documentation).
const (
	mediaJSON          = "application/json"
	mediaPprof         = "application/x-protobuf"
	pprofMessageType   = "perftools.profiles.Profile"
	mediaGoTrace       = "application/x-go-trace"
	traceFileName      = "trace.out"
	partMetadata       = "metadata"
	partCapture        = "capture"
	partProfile        = "profile"
	partTrace          = "trace"
	kindTrace          = "trace"
	kindUnknownProfile = "profile"
)

// isCaptureKind reports whether a capture's profile part may be of kind k.
func isCaptureKind(k string) bool { return k == "cpu" || k == "goroutine" || k == "heap" }

// uploadError is a refused upload: its status, the metrics' reason and the message answered.
type uploadError struct {
	status int
	reason string
	msg    string
}

func badUpload(format string, args ...any) *uploadError {
	return &uploadError{http.StatusBadRequest, reasonInvalidProfile, fmt.Sprintf(format, args...)}
}

func uploadTooLarge(format string, args ...any) *uploadError {
	return &uploadError{http.StatusRequestEntityTooLarge, reasonProfileTooLarge, fmt.Sprintf(format, args...)}
}

// uploadReader reads one upload into a collector.Profile.
type uploadReader struct {
	cfg  *ProfileConfig
	meta *decoder.Decoder
	base *collector.Event // the request's base event: the time received, the client's address

	profileBytes int64 // of the profile parts read so far, as sent
}

// read reads and checks the multipart body. On failure the body may be partly unread; the caller
// looks at its reader's error first (a limit or a timeout explains a failure better).
func (u *uploadReader) read(body io.Reader, boundary string) (*collector.Profile, *uploadError) {
	mr := multipart.NewReader(body, boundary)
	var (
		p        collector.Profile
		haveMeta bool
		capture  *wireCapture
		kinds    []string // of the profile and trace parts, in order
		first    *profile.Profile
	)
	for i := 0; ; i++ {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, badUpload("malformed multipart body at part %d: %v", i, err)
		}
		if i >= u.cfg.MaxParts {
			return nil, badUpload("more than %d parts", u.cfg.MaxParts)
		}
		name := part.FormName()
		for k := range part.Header {
			if k != "Content-Disposition" && k != "Content-Type" && (name != partTrace || k != "Content-Encoding") {
				return nil, badUpload("part %d (%s): unexpected header %s", i, name, k)
			}
		}
		ct := part.Header.Get("Content-Type")
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, badUpload("part %d (%s): Content-Type %q: %v", i, name, ct, err)
		}
		if len(kinds) > 0 && kinds[len(kinds)-1] == kindTrace {
			return nil, badUpload("part %d (%s) follows the trace part, which must be the last", i, name)
		}
		switch {
		case i == 0 && name != partMetadata:
			return nil, badUpload("the first part is %q: the metadata part must come first", name)
		case name == partMetadata:
			if i != 0 {
				return nil, badUpload("a second metadata part (part %d)", i)
			}
			if mt != mediaJSON {
				return nil, badUpload("metadata part: Content-Type %q, expected %s", ct, mediaJSON)
			}
			data, uerr := readPart(part, int64(u.cfg.MaxMetadataBytes), "metadata part")
			if uerr != nil {
				return nil, uerr
			}
			ev, derr := u.meta.DecodeMetadata(data, u.base)
			if derr != nil {
				return nil, badUpload("invalid metadata: %s", derr.Message)
			}
			p.Metadata, haveMeta = ev, true
		case name == partCapture:
			if i != 1 {
				return nil, badUpload("the capture part must be the second (it is part %d)", i)
			}
			if mt != mediaJSON {
				return nil, badUpload("capture part: Content-Type %q, expected %s", ct, mediaJSON)
			}
			data, uerr := readPart(part, int64(u.cfg.MaxCaptureBytes), "capture part")
			if uerr != nil {
				return nil, uerr
			}
			if capture, uerr = decodeCapture(data); uerr != nil {
				return nil, uerr
			}
		case name == partProfile:
			if mt != mediaPprof || params["messagetype"] != pprofMessageType {
				return nil, badUpload("profile part %d: Content-Type %q, expected %s; messageType=%q", i, ct, mediaPprof, pprofMessageType)
			}
			data, uerr := readPart(part, u.cfg.MaxProfileBytes-u.profileBytes, "profile parts together")
			if uerr != nil {
				if uerr.status == http.StatusRequestEntityTooLarge {
					uerr.msg = fmt.Sprintf("profile parts exceed the permitted size of %d bytes together", u.cfg.MaxProfileBytes)
				}
				return nil, uerr
			}
			u.profileBytes += int64(len(data))
			prof, stored, uerr := u.parseProfile(data, i)
			if uerr != nil {
				return nil, uerr
			}
			kind := profileKind(prof)
			if capture != nil {
				kind = strings.TrimSuffix(part.FileName(), ".pprof")
				if !isCaptureKind(kind) || kind+".pprof" != part.FileName() {
					return nil, badUpload("profile part %d: filename %q, expected cpu.pprof, goroutine.pprof or heap.pprof", i, part.FileName())
				}
			}
			if slices.Contains(kinds, kind) {
				return nil, badUpload("profile part %d: a second %s profile", i, kind)
			}
			if first == nil {
				first = prof
			}
			kinds = append(kinds, kind)
			p.Parts = append(p.Parts, collector.ProfilePart{Kind: kind, Data: stored, Size: int64(len(stored))})
		case name == partTrace:
			if capture == nil {
				return nil, badUpload("trace part %d without a capture part: only hotpath's captures have a trace", i)
			}
			if mt != mediaGoTrace || part.Header.Get("Content-Encoding") != "gzip" || part.FileName() != traceFileName {
				return nil, badUpload(`trace part %d: want Content-Type %s, Content-Encoding gzip and filename %q; got %q, %q, %q`,
					i, mediaGoTrace, traceFileName, ct, part.Header.Get("Content-Encoding"), part.FileName())
			}
			data, uerr := readPart(part, u.cfg.MaxTraceBytes, "trace part")
			if uerr != nil {
				return nil, uerr
			}
			if uerr := checkTrace(data, u.cfg.MaxDecodedTraceBytes); uerr != nil {
				return nil, uerr
			}
			kinds = append(kinds, kindTrace)
			p.Parts = append(p.Parts, collector.ProfilePart{Kind: kindTrace, Data: data, Size: int64(len(data))})
		default:
			return nil, badUpload("part %d: unknown part %q (expected metadata, capture, profile or trace)", i, name)
		}
	}
	if !haveMeta {
		return nil, badUpload("no metadata part")
	}
	if capture == nil {
		p.ID = newProfileID()
		p.Trigger = collector.ProfilePeriodic
		p.Timestamp = u.base.Timestamp
		if first != nil && first.TimeNanos > 0 {
			p.Timestamp = time.Unix(0, first.TimeNanos).UTC()
			p.Duration = time.Duration(max(first.DurationNanos, 0))
		}
		return &p, nil
	}
	if uerr := capture.check(kinds); uerr != nil {
		return nil, uerr
	}
	capture.fill(&p)
	return &p, nil
}

// readPart reads a part of at most limit bytes.
func readPart(r io.Reader, limit int64, what string) ([]byte, *uploadError) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, badUpload("reading the %s: %v", what, err)
	}
	if int64(len(data)) > limit {
		return nil, uploadTooLarge("%s exceeds the permitted size of %d bytes", what, limit)
	}
	return data, nil
}

// parseProfile checks that a profile part is a pprof protobuf, gzipped or not, and returns it parsed
// and in its stored form (gzipped).
func (u *uploadReader) parseProfile(data []byte, i int) (*profile.Profile, []byte, *uploadError) {
	raw, gzipped := data, isGzip(data)
	if gzipped {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, nil, badUpload("profile part %d: %v", i, err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, u.cfg.MaxDecodedProfileBytes+1))
		if err != nil {
			return nil, nil, badUpload("profile part %d: decompressing: %v", i, err)
		}
		if int64(len(raw)) > u.cfg.MaxDecodedProfileBytes {
			return nil, nil, uploadTooLarge("profile part %d exceeds the permitted size of %d bytes decompressed", i, u.cfg.MaxDecodedProfileBytes)
		}
	}
	prof, err := profile.ParseUncompressed(raw)
	if err == nil {
		err = prof.CheckValid()
	}
	if err != nil {
		return nil, nil, badUpload("profile part %d is not a pprof profile: %v", i, err)
	}
	if gzipped {
		return prof, data, nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(raw) // a bytes.Buffer does not fail
	_ = zw.Close()
	return prof, buf.Bytes(), nil
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// profileKind names an Elastic agent's profile part, which has no filename, by its sample types.
func profileKind(p *profile.Profile) string {
	for _, st := range p.SampleType {
		switch {
		case st.Type == "cpu" && st.Unit == "nanoseconds":
			return "cpu"
		case st.Type == "goroutine":
			return "goroutine"
		case st.Type == "inuse_space", st.Type == "alloc_space":
			return "heap"
		}
	}
	return kindUnknownProfile
}

// checkTrace checks that a trace part is a gzipped Go execution trace, reading it as a stream.
func checkTrace(data []byte, maxDecoded int64) *uploadError {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return badUpload("trace part: %v", err)
	}
	var head [8]byte
	n, _ := io.ReadFull(zr, head[:])
	if !bytes.HasPrefix(head[:n], []byte("go 1.")) {
		return badUpload("trace part: not a Go execution trace (it starts with %q)", head[:n])
	}
	rest, err := io.Copy(io.Discard, io.LimitReader(zr, maxDecoded-int64(n)+1))
	if err != nil {
		return badUpload("trace part: decompressing: %v", err)
	}
	if int64(n)+rest > maxDecoded {
		return uploadTooLarge("trace part exceeds the permitted size of %d bytes decompressed", maxDecoded)
	}
	return nil
}

// wireCapture is the capture part (the profiling package's documentation). Timestamps are integer
// microseconds since the Unix epoch, durations float milliseconds.
type wireCapture struct {
	ID          string           `json:"id"`
	Trigger     string           `json:"trigger"`
	Timestamp   int64            `json:"timestamp"`
	Duration    float64          `json:"duration"`
	Transaction *wireTransaction `json:"transaction"`
	Trace       *struct {
		ID string `json:"id"`
	} `json:"trace"`
	Resource  *wireResource `json:"resource"`
	CPU       *wireCPU      `json:"cpu"`
	Goroutine *struct {
		Snapshots int `json:"snapshots"`
	} `json:"goroutine"`
	Parts  []string `json:"parts"`
	Errors []string `json:"errors"`
}

type wireTransaction struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Sampled   bool    `json:"sampled"`
	Timestamp int64   `json:"timestamp"`
	Threshold float64 `json:"threshold"`
	Ended     bool    `json:"ended"`
}

type wireResource struct {
	Name      string   `json:"name"`
	Value     float64  `json:"value"`
	Rule      string   `json:"rule"`
	Threshold float64  `json:"threshold"`
	Average   *float64 `json:"average"`
}

type wireCPU struct {
	Timestamp int64   `json:"timestamp"`
	Duration  float64 `json:"duration"`
	Samples   int64   `json:"samples"`
}

// decodeCapture decodes the capture part strictly: one JSON object, no unknown field.
func decodeCapture(data []byte) (*wireCapture, *uploadError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c wireCapture
	if err := dec.Decode(&c); err != nil {
		return nil, badUpload("invalid capture part: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badUpload("invalid capture part: data after its object")
	}
	return &c, nil
}

// maxWireMicros bounds the capture's timestamps (year 2286) and maxWireMillis its durations (a year), so
// that they convert to time.Time and time.Duration without overflow.
const (
	maxWireMicros = 1e16
	maxWireMillis = 365 * 24 * 3600 * 1e3
)

func wireTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

func wireDuration(ms float64) time.Duration { return time.Duration(math.Round(ms * 1e6)) }

func validDuration(ms float64) bool { return ms >= 0 && ms <= maxWireMillis }

func validTimestamp(us int64) bool { return us > 0 && us <= maxWireMicros }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// check applies the capture part's own rules, and its agreement with the parts that followed it.
func (c *wireCapture) check(kinds []string) *uploadError {
	if !isHex(c.ID, 32) || !validTimestamp(c.Timestamp) || !validDuration(c.Duration) {
		return badUpload("capture: id %q (32 lower-case hex digits), timestamp %d (µs since the epoch), duration %v (ms, not negative)",
			c.ID, c.Timestamp, c.Duration)
	}
	if !slices.Equal(c.Parts, kinds) {
		return badUpload("capture: parts %q, but the upload has %q", c.Parts, kinds)
	}
	if (c.CPU != nil) != slices.Contains(kinds, "cpu") || (c.Goroutine != nil) != slices.Contains(kinds, "goroutine") {
		return badUpload("capture: the cpu and goroutine descriptions do not match the parts %q", kinds)
	}
	if c.CPU != nil && (!validTimestamp(c.CPU.Timestamp) || !validDuration(c.CPU.Duration) || c.CPU.Samples < 0) {
		return badUpload("capture: cpu %+v", *c.CPU)
	}
	if c.Goroutine != nil && c.Goroutine.Snapshots < 0 {
		return badUpload("capture: goroutine snapshots %d", c.Goroutine.Snapshots)
	}
	switch c.Trigger {
	case collector.ProfileTriggerSlowRequest:
		t := c.Transaction
		if t == nil || c.Trace == nil || c.Resource != nil || !isHex(t.ID, 16) || !isHex(c.Trace.ID, 32) || t.Name == "" ||
			!validTimestamp(t.Timestamp) || t.Threshold <= 0 || !validDuration(t.Threshold) {
			return badUpload("capture: a slow_request needs a transaction (16-hex id, name, timestamp, threshold > 0) and a trace (32-hex id), and no resource")
		}
	case "cpu", "heap", "goroutines", "sched_latency":
		r := c.Resource
		if r == nil || r.Name != c.Trigger || c.Transaction != nil || c.Trace != nil || (r.Rule != "abs" && r.Rule != "diff") {
			return badUpload("capture: a %s trigger needs a resource named %s with rule abs or diff, and no transaction or trace", c.Trigger, c.Trigger)
		}
	default:
		return badUpload("capture: unknown trigger %q", c.Trigger)
	}
	return nil
}

// fill copies the capture's description into p.
func (c *wireCapture) fill(p *collector.Profile) {
	p.ID, p.Trigger = c.ID, c.Trigger
	p.Timestamp, p.Duration = wireTime(c.Timestamp), wireDuration(c.Duration)
	if t := c.Transaction; t != nil {
		p.Transaction = &collector.ProfileTransaction{ID: t.ID, Name: t.Name, Sampled: t.Sampled, Ended: t.Ended,
			Start: wireTime(t.Timestamp), Threshold: wireDuration(t.Threshold)}
	}
	if c.Trace != nil {
		p.TraceID = c.Trace.ID
	}
	if r := c.Resource; r != nil {
		p.Resource = &collector.ProfileResource{Name: r.Name, Value: r.Value, Rule: r.Rule, Threshold: r.Threshold}
		if r.Average != nil {
			p.Resource.Average = collector.Some(*r.Average)
		}
	}
	if c.CPU != nil {
		p.CPU = &collector.ProfileCPU{Start: wireTime(c.CPU.Timestamp), Duration: wireDuration(c.CPU.Duration), Samples: c.CPU.Samples}
	}
	if c.Goroutine != nil {
		p.GoroutineSnapshots = c.Goroutine.Snapshots
	}
	p.Errors = c.Errors
}
