package profiling_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// profileUpload is one upload as the strict intake below decoded it. Its capture part's types follow
// the package documentation's wire format, written again here from the document (not shared with the
// package), with unknown fields refused: the collector will be built against the same text.
type profileUpload struct {
	Header     http.Header
	Metadata   map[string]any
	Capture    *wireCapture // nil for an Elastic agent's own periodic profile
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

type wireCapture struct {
	ID          string  `json:"id"`
	Trigger     string  `json:"trigger"`
	Timestamp   int64   `json:"timestamp"`
	Duration    float64 `json:"duration"`
	Transaction *struct {
		ID        string  `json:"id"`
		Name      string  `json:"name"`
		Sampled   bool    `json:"sampled"`
		Timestamp int64   `json:"timestamp"`
		Threshold float64 `json:"threshold"`
		Ended     bool    `json:"ended"`
	} `json:"transaction"`
	Trace *struct {
		ID string `json:"id"`
	} `json:"trace"`
	Resource *struct {
		Name      string   `json:"name"`
		Value     float64  `json:"value"`
		Rule      string   `json:"rule"`
		Threshold float64  `json:"threshold"`
		Average   *float64 `json:"average"`
	} `json:"resource"`
	CPU *struct {
		Timestamp int64   `json:"timestamp"`
		Duration  float64 `json:"duration"`
		Samples   int64   `json:"samples"`
	} `json:"cpu"`
	Goroutine *struct {
		Snapshots int `json:"snapshots"`
	} `json:"goroutine"`
	Parts  []string `json:"parts"`
	Errors []string `json:"errors"`
}

// Limits of the wire format (package documentation).
const (
	wireMaxMetadata = 10 << 10
	wireMaxCapture  = 10 << 10
	wireMaxProfiles = 10 << 20
	wireMaxTrace    = 32 << 20
)

// intake is a collector's /intake/v2/profile on loopback for tests, strict about the protocol: anything
// the package documentation does not allow fails the test and is answered 400.
type intake struct {
	t    *testing.T
	srv  *httptest.Server
	auth string // the Authorization header uploads must carry; "" for none
	got  chan *profileUpload
}

func newIntake(t *testing.T, auth string) *intake {
	t.Helper()
	in := &intake{t: t, auth: auth, got: make(chan *profileUpload, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/intake/v2/profile", in.handle)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("intake: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	in.srv = httptest.NewServer(mux)
	t.Cleanup(in.srv.Close)
	return in
}

func (in *intake) handle(w http.ResponseWriter, r *http.Request) {
	u, err := decodeUpload(r, in.auth)
	if err != nil {
		in.t.Errorf("intake: %v", err)
		w.Header().Set("Connection", "Close")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"accepted":1}`)
	in.got <- u
}

// decodeUpload is the strict reading of an upload.
func decodeUpload(r *http.Request, auth string) (*profileUpload, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("method %s", r.Method)
	}
	if got := r.Header.Get("Authorization"); got != auth {
		return nil, fmt.Errorf("Authorization %q, want %q", got, auth)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	u := &profileUpload{Header: r.Header, Profiles: map[string]*profile.Profile{}, Raw: map[string][]byte{}}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	profilesSize := 0
	var kinds []string // the profile and trace parts, in order
	for i := 0; ; i++ {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i, err)
		}
		name := part.FormName()
		ct := part.Header.Get("Content-Type")
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("part %d (%s): Content-Type %q: %v", i, name, ct, err)
		}
		limit := map[string]int{"metadata": wireMaxMetadata, "capture": wireMaxCapture,
			"profile": wireMaxProfiles - profilesSize, "trace": wireMaxTrace}[name]
		data, err := io.ReadAll(io.LimitReader(part, int64(limit)+1))
		if err != nil {
			return nil, fmt.Errorf("part %d (%s): %w", i, name, err)
		}
		if len(data) > limit {
			return nil, fmt.Errorf("part %d (%s): over its limit of %d bytes", i, name, limit)
		}
		u.Parts = append(u.Parts, partInfo{name, part.Header.Get("Content-Disposition"), ct,
			part.Header.Get("Content-Encoding"), len(data)})
		for k := range part.Header {
			if k != "Content-Disposition" && k != "Content-Type" && !(name == "trace" && k == "Content-Encoding") {
				return nil, fmt.Errorf("part %d (%s): header %s", i, name, k)
			}
		}
		switch {
		case i == 0 && name != "metadata":
			return nil, fmt.Errorf("first part %q, want metadata", name)
		case name == "metadata":
			if i != 0 || mt != "application/json" {
				return nil, fmt.Errorf("metadata part %d, %s", i, mt)
			}
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
		case name == "capture":
			if i != 1 || mt != "application/json" {
				return nil, fmt.Errorf("capture part %d, %s: it must be second", i, mt)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			u.Capture, u.CaptureRaw = new(wireCapture), data
			if err := dec.Decode(u.Capture); err != nil {
				return nil, fmt.Errorf("capture: %w: %s", err, data)
			}
		case name == "profile":
			if mt != "application/x-protobuf" || params["messagetype"] != "perftools.profiles.Profile" {
				return nil, fmt.Errorf("profile part %d: Content-Type %q", i, ct)
			}
			p, err := profile.ParseData(data)
			if err != nil {
				return nil, fmt.Errorf("profile part %d: %w", i, err)
			}
			profilesSize += len(data)
			kind := strings.TrimSuffix(part.FileName(), ".pprof")
			if u.Capture != nil {
				if !slices.Contains([]string{"cpu", "goroutine", "heap"}, kind) || u.Profiles[kind] != nil {
					return nil, fmt.Errorf("profile part %d: filename %q", i, part.FileName())
				}
			} else {
				kind = fmt.Sprint(len(u.Profiles)) // an Elastic agent's parts have no filename
			}
			u.Profiles[kind], u.Raw[kind] = p, data
			kinds = append(kinds, kind)
		case name == "trace":
			if u.Capture == nil || mt != "application/x-go-trace" || part.Header.Get("Content-Encoding") != "gzip" ||
				part.FileName() != "trace.out" || u.Trace != nil {
				return nil, fmt.Errorf("trace part %d: %v", i, part.Header)
			}
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
			kinds = append(kinds, "trace")
		default:
			return nil, fmt.Errorf("part %d: unknown part %q", i, name)
		}
	}
	if u.Metadata == nil {
		return nil, fmt.Errorf("no metadata part")
	}
	if c := u.Capture; c != nil {
		if err := checkCapture(c, kinds); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// checkCapture checks the capture part's own rules.
func checkCapture(c *wireCapture, kinds []string) error {
	isHex := func(s string, n int) bool {
		if len(s) != n {
			return false
		}
		for _, r := range s {
			if !strings.ContainsRune("0123456789abcdef", r) {
				return false
			}
		}
		return true
	}
	if !isHex(c.ID, 32) || c.Timestamp <= 0 || c.Duration < 0 {
		return fmt.Errorf("capture: id %q, timestamp %d, duration %v", c.ID, c.Timestamp, c.Duration)
	}
	if !slices.Equal(c.Parts, kinds) {
		return fmt.Errorf("capture: parts %q, the upload has %q", c.Parts, kinds)
	}
	if (c.CPU != nil) != slices.Contains(kinds, "cpu") || (c.Goroutine != nil) != slices.Contains(kinds, "goroutine") {
		return fmt.Errorf("capture: cpu/goroutine descriptions do not match the parts %q", kinds)
	}
	switch c.Trigger {
	case "slow_request":
		if c.Transaction == nil || c.Trace == nil || c.Resource != nil || !isHex(c.Transaction.ID, 16) ||
			!isHex(c.Trace.ID, 32) || c.Transaction.Name == "" || c.Transaction.Timestamp <= 0 || c.Transaction.Threshold <= 0 {
			return fmt.Errorf("capture: slow_request with transaction %+v, trace %+v, resource %+v", c.Transaction, c.Trace, c.Resource)
		}
	case "cpu", "heap", "goroutines", "sched_latency":
		if c.Resource == nil || c.Resource.Name != c.Trigger || c.Transaction != nil || c.Trace != nil ||
			(c.Resource.Rule != "abs" && c.Resource.Rule != "diff") {
			return fmt.Errorf("capture: %s with resource %+v, transaction %+v", c.Trigger, c.Resource, c.Transaction)
		}
	default:
		return fmt.Errorf("capture: trigger %q", c.Trigger)
	}
	return nil
}
