package profiling_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
	"github.com/hotpath-apm/hotpath/profiling/profileupload"
)

// profileUpload is one upload as the intake below read it, through package profileupload (the format's
// one owner, which the collector reads with too), with the rest of what a collector checks: metadata
// with a service, profiles that parse, a trace that is a gzipped Go execution trace, the limits.
type profileUpload struct {
	Header     http.Header
	Metadata   map[string]any
	Capture    *profileupload.Capture // nil for an Elastic agent's own periodic profile
	CaptureRaw []byte
	Profiles   map[string]*profile.Profile
	Raw        map[string][]byte // profile parts as sent, by kind
	Trace      []byte            // uncompressed
	Parts      []partInfo        // every part's name and headers, in order
}

type partInfo struct {
	Name, Disposition, ContentType, ContentEncoding string
	Size                                            int
}

// intake is agenttest.Intake (a collector's intake on loopback, recording what it is sent) read
// strictly: each profile upload goes through decodeUpload, and anything the package documentation does
// not allow fails the test.
type intake struct {
	*agenttest.Intake
	t    *testing.T
	auth string // the Authorization header uploads must carry; "" for none
	read int    // uploads next has returned
}

func newIntake(t *testing.T, auth string) *intake {
	t.Helper()
	return &intake{Intake: agenttest.NewIntake(t), t: t, auth: auth}
}

// next returns the upload after the last one next returned, read strictly, once it has arrived.
func (in *intake) next() *profileUpload {
	in.t.Helper()
	up := in.WaitUploads(in.t, in.read+1)[in.read]
	in.read++
	u, err := decodeUpload(up, in.auth)
	if err != nil {
		in.t.Fatalf("upload %d: %v", in.read, err)
	}
	return u
}

// decodeUpload is the strict reading of an upload (POST is the only method agenttest.Intake takes).
func decodeUpload(r agenttest.Upload, auth string) (*profileUpload, error) {
	if got := r.Header.Get("Authorization"); got != auth {
		return nil, fmt.Errorf("Authorization %q, want %q", got, auth)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	u := &profileUpload{Header: r.Header, Profiles: map[string]*profile.Profile{}, Raw: map[string][]byte{}}
	ur := profileupload.NewReader(bytes.NewReader(r.Body), params["boundary"], 16)
	profilesSize := 0
	var kinds []string // the profile and trace parts, in order
	for {
		part, err := ur.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		limit := map[string]int{profileupload.PartMetadata: profileupload.MaxMetadataSize, profileupload.PartCapture: profileupload.MaxCaptureSize,
			profileupload.PartProfile: profileupload.MaxProfilesSize - profilesSize, profileupload.PartTrace: profileupload.MaxTraceSize}[part.Name]
		data, err := io.ReadAll(io.LimitReader(part, int64(limit)+1))
		if err != nil {
			return nil, fmt.Errorf("part %d (%s): %w", part.Index, part.Name, err)
		}
		if len(data) > limit {
			return nil, fmt.Errorf("part %d (%s): over its limit of %d bytes", part.Index, part.Name, limit)
		}
		u.Parts = append(u.Parts, partInfo{part.Name, part.Header.Get("Content-Disposition"), part.Header.Get("Content-Type"),
			part.Header.Get("Content-Encoding"), len(data)})
		switch part.Name {
		case profileupload.PartMetadata:
			if err := json.Unmarshal(data, &u.Metadata); err != nil {
				return nil, fmt.Errorf("metadata: %w", err)
			}
			svc, _ := u.Metadata["service"].(map[string]any)
			agent, _ := svc["agent"].(map[string]any)
			if svc["name"] == "" || svc["name"] == nil || agent["name"] == nil || agent["version"] == nil {
				return nil, fmt.Errorf("metadata without service.name, service.agent.name or version: %s", data)
			}
			for k := range u.Metadata {
				if !slices.Contains([]string{"service", "process", "system", "user", "cloud", "labels", "network", "kubernetes"}, k) {
					return nil, fmt.Errorf("metadata: unknown field %q", k)
				}
			}
		case profileupload.PartCapture:
			if u.Capture, err = profileupload.DecodeCapture(data); err != nil {
				return nil, err
			}
			u.CaptureRaw = data
		case profileupload.PartProfile:
			p, err := profile.ParseData(data)
			if err != nil {
				return nil, fmt.Errorf("profile part %d: %w", part.Index, err)
			}
			profilesSize += len(data)
			kind := part.Kind
			if kind == "" {
				kind = fmt.Sprint(len(u.Profiles)) // an Elastic agent's parts have no filename
			}
			if u.Profiles[kind] != nil {
				return nil, fmt.Errorf("profile part %d: a second %s profile", part.Index, kind)
			}
			u.Profiles[kind], u.Raw[kind] = p, data
			kinds = append(kinds, kind)
		case profileupload.PartTrace:
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("trace part: %w", err)
			}
			if u.Trace, err = io.ReadAll(zr); err != nil {
				return nil, fmt.Errorf("trace part: %w", err)
			}
			if !bytes.HasPrefix(u.Trace, []byte("go 1.")) {
				return nil, fmt.Errorf("trace part: not a Go execution trace: %q", u.Trace[:min(len(u.Trace), 16)])
			}
			kinds = append(kinds, part.Kind)
		}
	}
	if c := u.Capture; c != nil {
		if err := c.Check(kinds); err != nil {
			return nil, err
		}
		// The profiler writes nothing the format does not know: every field it sent decodes back.
		var sent map[string]json.RawMessage
		again, _ := json.Marshal(c)
		var known map[string]json.RawMessage
		if json.Unmarshal(u.CaptureRaw, &sent) != nil || json.Unmarshal(again, &known) != nil || len(sent) != len(known) {
			return nil, fmt.Errorf("capture: fields %s, of which the format knows %s", u.CaptureRaw, again)
		}
	}
	return u, nil
}
