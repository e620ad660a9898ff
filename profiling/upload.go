package profiling

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

// Uploader sends finished captures somewhere. Upload is called from one goroutine at a time, with a
// context that is cancelled when the profiler is shut down; it must not keep c after returning.
type Uploader interface {
	Upload(ctx context.Context, c *Capture) error
}

// Limits of an upload: APM Server's for its profile intake (metadata, profile parts), and the
// extension's (capture, trace parts). The uploader keeps to them, leaving out what does not fit (and
// saying so in the capture part's errors); a collector enforces them.
const (
	maxMetadataSize = 10 << 10 // the metadata part
	maxCaptureSize  = 10 << 10 // the capture part
	maxProfilesSize = 10 << 20 // the profile parts together
	maxTraceSize    = 32 << 20 // the trace part, compressed
	maxErrorBody    = 1 << 10  // of an error answer, quoted in the error
)

// Media types of the upload's parts.
const (
	metadataMediaType = "application/json"
	captureMediaType  = "application/json"
	pprofMediaType    = `application/x-protobuf; messageType="perftools.profiles.Profile"`
	traceMediaType    = "application/x-go-trace"
)

// ProfilePath is where the uploader sends captures, under the server URL: the Elastic Go agent's
// profile intake.
const ProfilePath = "/intake/v2/profile"

// intakeUploader uploads captures to a collector's (or an APM Server's) /intake/v2/profile as a
// multipart/form-data request: the Elastic Go agent's format, extended (see the package documentation).
type intakeUploader struct {
	url       string
	logURL    string // url without its password, for errors
	auth      string // the Authorization header's value; "" for none
	client    *http.Client
	metadata  []byte
	userAgent string
}

// uploadConfig is what WithServerURL, WithSecretToken, WithAPIKey, WithService and WithHTTPClient set;
// empty fields take the ELASTIC_APM_* environment's values.
type uploadConfig struct {
	serverURL   string
	secretToken string
	apiKey      string
	service     *service
	client      *http.Client
}

// newIntakeUploader builds the default uploader from cfg and the environment, as the Elastic Go agent
// reads it.
func newIntakeUploader(cfg uploadConfig) (*intakeUploader, error) {
	server := cfg.serverURL
	if server == "" {
		server = os.Getenv("ELASTIC_APM_SERVER_URL")
	}
	if server == "" {
		server, _, _ = strings.Cut(os.Getenv("ELASTIC_APM_SERVER_URLS"), ",")
		server = strings.TrimSpace(server)
	}
	if server == "" {
		server = "http://localhost:8200"
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		redacted := server
		if u != nil {
			redacted = u.Redacted()
		}
		return nil, fmt.Errorf("profiling: server URL %q: want http(s)://host[:port][/path]", redacted)
	}
	u.Path = path.Clean("/" + u.Path + ProfilePath)
	u.RawPath = ""

	up := &intakeUploader{url: u.String(), logURL: u.Redacted(), client: cfg.client}
	switch {
	case cfg.apiKey != "":
		up.auth = "ApiKey " + cfg.apiKey
	case cfg.secretToken != "":
		up.auth = "Bearer " + cfg.secretToken
	case os.Getenv("ELASTIC_APM_API_KEY") != "":
		up.auth = "ApiKey " + os.Getenv("ELASTIC_APM_API_KEY")
	case os.Getenv("ELASTIC_APM_SECRET_TOKEN") != "":
		up.auth = "Bearer " + os.Getenv("ELASTIC_APM_SECRET_TOKEN")
	}
	if up.client == nil {
		timeout := 30 * time.Second
		if s := os.Getenv("ELASTIC_APM_SERVER_TIMEOUT"); s != "" {
			if timeout, err = time.ParseDuration(s); err != nil {
				return nil, fmt.Errorf("profiling: ELASTIC_APM_SERVER_TIMEOUT: %w", err)
			}
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if os.Getenv("ELASTIC_APM_VERIFY_SERVER_CERT") == "false" {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		}
		up.client = &http.Client{Timeout: timeout, Transport: tr}
	}
	svc := serviceFromEnv()
	if cfg.service != nil {
		svc = *cfg.service
	}
	if up.metadata, err = metadataJSON(svc); err != nil {
		return nil, err
	}
	up.userAgent = "hotpath-profiling (" + svc.name + ")"
	return up, nil
}

// Upload sends c and returns nil when the server answered 2xx.
func (u *intakeUploader) Upload(ctx context.Context, c *Capture) error {
	var body bytes.Buffer
	contentType, err := encodeUpload(&body, u.metadata, c)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(body.Bytes()))
	if err != nil {
		return fmt.Errorf("profiling: upload %s: %w", c.ID, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", u.userAgent)
	if u.auth != "" {
		req.Header.Set("Authorization", u.auth)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return fmt.Errorf("profiling: upload %s: %w", c.ID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return fmt.Errorf("profiling: upload %s to %s: %s: %s", c.ID, u.logURL, resp.Status, bytes.TrimSpace(msg))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return nil
}

// capturePart is the JSON of the upload's capture part (see the package documentation).
type capturePart struct {
	ID          string              `json:"id"`
	Trigger     Trigger             `json:"trigger"`
	Timestamp   int64               `json:"timestamp"`
	Duration    float64             `json:"duration"`
	Transaction *captureTransaction `json:"transaction,omitempty"`
	Trace       *captureTrace       `json:"trace,omitempty"`
	Resource    *captureResource    `json:"resource,omitempty"`
	CPU         *captureCPU         `json:"cpu,omitempty"`
	Goroutine   *captureGoroutine   `json:"goroutine,omitempty"`
	Parts       []string            `json:"parts"`
	Errors      []string            `json:"errors,omitempty"`
}

type captureTransaction struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Sampled   bool    `json:"sampled"`
	Timestamp int64   `json:"timestamp"`
	Threshold float64 `json:"threshold"`
	Ended     bool    `json:"ended"`
}

type captureTrace struct {
	ID string `json:"id"`
}

type captureResource struct {
	Name      Resource `json:"name"`
	Value     float64  `json:"value"`
	Rule      string   `json:"rule"`
	Threshold float64  `json:"threshold"`
	Average   *float64 `json:"average,omitempty"`
}

type captureCPU struct {
	Timestamp int64   `json:"timestamp"`
	Duration  float64 `json:"duration"`
	Samples   int64   `json:"samples"`
}

type captureGoroutine struct {
	Snapshots int `json:"snapshots"`
}

// micros is t in microseconds since the Unix epoch, as Elastic's intake writes timestamps.
func micros(t time.Time) int64 { return t.UnixMicro() }

// millis is d in milliseconds, as Elastic's intake writes durations.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// uploadPart is one profile or trace part to write.
type uploadPart struct {
	name, filename, mediaType, encoding string
	data                                []byte
}

// encodeUpload writes c's upload body to w and returns its Content-Type. Parts that do not fit the
// limits are left out and said so in the capture part's errors.
func encodeUpload(w io.Writer, metadata []byte, c *Capture) (contentType string, err error) {
	cp := capturePart{
		ID:        c.ID,
		Trigger:   c.Trigger,
		Timestamp: micros(c.Time),
		Duration:  millis(c.End.Sub(c.Time)),
		Errors:    append([]string(nil), c.Errors...),
		Parts:     []string{},
	}
	if r := c.Request; r != nil {
		cp.Transaction = &captureTransaction{ID: r.TransactionID, Name: r.Route, Sampled: r.Sampled,
			Timestamp: micros(r.Start), Threshold: millis(r.Threshold), Ended: r.Ended}
		cp.Trace = &captureTrace{ID: r.TraceID}
	}
	if e := c.Resource; e != nil {
		cp.Resource = &captureResource{Name: e.Resource, Value: e.Value, Rule: e.Rule, Threshold: e.Threshold}
		if !math.IsNaN(e.Average) {
			avg := e.Average
			cp.Resource.Average = &avg
		}
	}

	var parts []uploadPart
	profilesSize := 0
	addProfile := func(kind string, data []byte) bool {
		if data == nil {
			return false
		}
		if profilesSize+len(data) > maxProfilesSize {
			cp.Errors = append(cp.Errors, fmt.Sprintf("%s: left out of the upload: %d bytes, over the %d bytes of profiles an upload may carry",
				kind, len(data), maxProfilesSize))
			return false
		}
		profilesSize += len(data)
		parts = append(parts, uploadPart{name: "profile", filename: kind + ".pprof", mediaType: pprofMediaType, data: data})
		cp.Parts = append(cp.Parts, kind)
		return true
	}
	if addProfile("cpu", c.CPU) {
		cp.CPU = &captureCPU{Timestamp: micros(c.CPUStart), Duration: millis(c.CPUEnd.Sub(c.CPUStart)), Samples: c.CPUSamples}
	}
	if addProfile("goroutine", c.Goroutine) {
		cp.Goroutine = &captureGoroutine{Snapshots: c.GoroutineSnapshots}
	}
	addProfile("heap", c.Heap)
	if c.Trace != nil {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(c.Trace)
		if err := zw.Close(); err != nil {
			return "", fmt.Errorf("profiling: compress trace: %w", err)
		}
		if z.Len() > maxTraceSize {
			cp.Errors = append(cp.Errors, fmt.Sprintf("trace: left out of the upload: %d bytes compressed, over %d", z.Len(), maxTraceSize))
		} else {
			parts = append(parts, uploadPart{name: "trace", filename: "trace.out", mediaType: traceMediaType, encoding: "gzip", data: z.Bytes()})
			cp.Parts = append(cp.Parts, "trace")
		}
	}

	capJSON, err := json.Marshal(cp)
	for err == nil && len(capJSON) > maxCaptureSize && len(cp.Errors) > 0 {
		cp.Errors = cp.Errors[:len(cp.Errors)-1]
		capJSON, err = json.Marshal(cp)
	}
	if err != nil {
		return "", fmt.Errorf("profiling: encode capture part: %w", err)
	}
	if len(capJSON) > maxCaptureSize {
		return "", fmt.Errorf("profiling: capture part is %d bytes, over %d", len(capJSON), maxCaptureSize)
	}

	mw := multipart.NewWriter(w)
	write := func(name, filename, mediaType, encoding string, data []byte) error {
		h := make(textproto.MIMEHeader)
		disposition := `form-data; name="` + name + `"`
		if filename != "" {
			disposition += `; filename="` + filename + `"`
		}
		h.Set("Content-Disposition", disposition)
		h.Set("Content-Type", mediaType)
		if encoding != "" {
			h.Set("Content-Encoding", encoding)
		}
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		_, err = pw.Write(data)
		return err
	}
	if err := write("metadata", "", metadataMediaType, "", metadata); err != nil {
		return "", fmt.Errorf("profiling: write upload: %w", err)
	}
	if err := write("capture", "", captureMediaType, "", capJSON); err != nil {
		return "", fmt.Errorf("profiling: write upload: %w", err)
	}
	for _, p := range parts {
		if err := write(p.name, p.filename, p.mediaType, p.encoding, p.data); err != nil {
			return "", fmt.Errorf("profiling: write upload: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return "", fmt.Errorf("profiling: write upload: %w", err)
	}
	return mw.FormDataContentType(), nil
}
