package profiling

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/hotpath-apm/hotpath/profiling/profileupload"
)

// Uploader sends finished captures somewhere. Upload is called from one goroutine at a time, with a
// context that is cancelled when the profiler is shut down; it must not keep c after returning.
type Uploader interface {
	Upload(ctx context.Context, c *Capture) error
}

// maxErrorBody is how much of an error answer is quoted in the error.
const maxErrorBody = 1 << 10

// ProfilePath is where the uploader sends captures, under the server URL: the Elastic Go agent's
// profile intake.
const ProfilePath = profileupload.Path

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

// encodeUpload writes c's upload body to w (package profileupload's format) and returns its
// Content-Type. Parts that do not fit the format's limits are left out and said so in the capture
// part's errors.
func encodeUpload(w io.Writer, metadata []byte, c *Capture) (contentType string, err error) {
	micros, millis := profileupload.Micros, profileupload.Millis
	cp := profileupload.Capture{
		ID:        c.ID,
		Trigger:   string(c.Trigger),
		Timestamp: micros(c.Time),
		Duration:  millis(c.End.Sub(c.Time)),
		Errors:    append([]string(nil), c.Errors...),
		Parts:     []string{},
	}
	if r := c.Request; r != nil {
		cp.Transaction = &profileupload.Transaction{ID: r.TransactionID, Name: r.Route, Sampled: r.Sampled,
			Timestamp: micros(r.Start), Threshold: millis(r.Threshold), Ended: r.Ended}
		cp.Trace = &profileupload.Trace{ID: r.TraceID}
	}
	if e := c.Resource; e != nil {
		cp.Resource = &profileupload.Resource{Name: string(e.Resource), Value: e.Value, Rule: e.Rule, Threshold: e.Threshold}
		if !math.IsNaN(e.Average) {
			avg := e.Average
			cp.Resource.Average = &avg
		}
	}

	type part struct {
		kind string
		data []byte
	}
	var profiles []part
	profilesSize := 0
	addProfile := func(kind string, data []byte) bool {
		if data == nil {
			return false
		}
		if profilesSize+len(data) > profileupload.MaxProfilesSize {
			cp.Errors = append(cp.Errors, fmt.Sprintf("%s: left out of the upload: %d bytes, over the %d bytes of profiles an upload may carry",
				kind, len(data), profileupload.MaxProfilesSize))
			return false
		}
		profilesSize += len(data)
		profiles = append(profiles, part{kind, data})
		cp.Parts = append(cp.Parts, kind)
		return true
	}
	if addProfile(profileupload.KindCPU, c.CPU) {
		cp.CPU = &profileupload.CPU{Timestamp: micros(c.CPUStart), Duration: millis(c.CPUEnd.Sub(c.CPUStart)), Samples: c.CPUSamples}
	}
	if addProfile(profileupload.KindGoroutine, c.Goroutine) {
		cp.Goroutine = &profileupload.Goroutine{Snapshots: c.GoroutineSnapshots}
	}
	addProfile(profileupload.KindHeap, c.Heap)
	var trace []byte // gzipped
	if c.Trace != nil {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(c.Trace)
		if err := zw.Close(); err != nil {
			return "", fmt.Errorf("profiling: compress trace: %w", err)
		}
		if z.Len() > profileupload.MaxTraceSize {
			cp.Errors = append(cp.Errors, fmt.Sprintf("trace: left out of the upload: %d bytes compressed, over %d", z.Len(), profileupload.MaxTraceSize))
		} else {
			trace = z.Bytes()
			cp.Parts = append(cp.Parts, profileupload.KindTrace)
		}
	}

	uw := profileupload.NewWriter(w)
	err = uw.WriteMetadata(metadata)
	if err == nil {
		err = uw.WriteCapture(&cp)
	}
	for _, p := range profiles {
		if err == nil {
			err = uw.WriteProfile(p.kind, p.data)
		}
	}
	if err == nil && trace != nil {
		err = uw.WriteTrace(trace)
	}
	if err == nil {
		err = uw.Close()
	}
	if err != nil {
		return "", fmt.Errorf("profiling: upload %s: %w", c.ID, err)
	}
	return uw.ContentType(), nil
}
