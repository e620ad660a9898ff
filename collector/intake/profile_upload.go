package intake

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/profiling/profileupload"
)

// kindUnknownProfile is the kind of an Elastic agent's profile part whose sample types say nothing known.
const kindUnknownProfile = "profile"

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

// read reads and checks the multipart body, its framing through profileupload.Reader. On failure the
// body may be partly unread; the caller looks at its reader's error first (a limit or a timeout explains
// a failure better).
func (u *uploadReader) read(body io.Reader, boundary string) (*collector.Profile, *uploadError) {
	ur := profileupload.NewReader(body, boundary, u.cfg.MaxParts)
	var (
		p       collector.Profile
		capture *profileupload.Capture
		kinds   []string // of the profile and trace parts, in order
		first   *profile.Profile
	)
	for {
		part, err := ur.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, badUpload("%v", err)
		}
		i := part.Index
		switch part.Name {
		case profileupload.PartMetadata:
			data, uerr := readPart(part, int64(u.cfg.MaxMetadataBytes), "metadata part")
			if uerr != nil {
				return nil, uerr
			}
			ev, derr := u.meta.DecodeMetadata(data, u.base)
			if derr != nil {
				return nil, badUpload("invalid metadata: %s", derr.Message)
			}
			p.Metadata = ev
		case profileupload.PartCapture:
			data, uerr := readPart(part, int64(u.cfg.MaxCaptureBytes), "capture part")
			if uerr != nil {
				return nil, uerr
			}
			if capture, err = profileupload.DecodeCapture(data); err != nil {
				return nil, badUpload("%v", err)
			}
		case profileupload.PartProfile:
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
			kind := part.Kind
			if kind == "" { // an Elastic agent's: no filename
				kind = profileKind(prof)
			}
			if slices.Contains(kinds, kind) {
				return nil, badUpload("profile part %d: a second %s profile", i, kind)
			}
			if first == nil {
				first = prof
			}
			kinds = append(kinds, kind)
			p.Parts = append(p.Parts, collector.ProfilePart{Kind: kind, Data: stored, Size: int64(len(stored))})
		case profileupload.PartTrace:
			data, uerr := readPart(part, u.cfg.MaxTraceBytes, "trace part")
			if uerr != nil {
				return nil, uerr
			}
			if uerr := checkTrace(data, u.cfg.MaxDecodedTraceBytes); uerr != nil {
				return nil, uerr
			}
			kinds = append(kinds, part.Kind)
			p.Parts = append(p.Parts, collector.ProfilePart{Kind: part.Kind, Data: data, Size: int64(len(data))})
		}
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
	if err := capture.Check(kinds); err != nil {
		return nil, badUpload("%v", err)
	}
	fillProfile(&p, capture)
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

// fillProfile copies the capture's description into p.
func fillProfile(p *collector.Profile, c *profileupload.Capture) {
	wireTime, wireDuration := profileupload.Time, profileupload.Duration
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
