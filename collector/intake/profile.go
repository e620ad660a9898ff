package intake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/profiling/profileupload"
)

// ProfileSink stores the profile uploads the profile endpoint accepted (the store, in the collector).
type ProfileSink interface {
	// StoreProfile stores p durably and returns nil only then: the upload is answered 202 after it.
	// collector.ErrQueueFull (or an error that Is it) and collector.ErrShuttingDown are answered 503,
	// collector.ErrProfileExists 409, any other error 500. p, its parts' data included, is the sink's
	// to keep.
	StoreProfile(ctx context.Context, p *collector.Profile) error
}

// Defaults of ProfileConfig's fields: the limits of the upload's wire format (package profileupload's
// documentation), and what intake allows itself to spend on uploads.
const (
	// DefaultMaxMetadataBytes is the metadata part's limit (APM Server's).
	DefaultMaxMetadataBytes = profileupload.MaxMetadataSize
	// DefaultMaxCaptureBytes is the capture part's limit.
	DefaultMaxCaptureBytes = profileupload.MaxCaptureSize
	// DefaultMaxProfileBytes is the limit of all profile parts of an upload together, as sent (APM
	// Server's).
	DefaultMaxProfileBytes = profileupload.MaxProfilesSize
	// DefaultMaxTraceBytes is the trace part's limit, as sent (gzipped).
	DefaultMaxTraceBytes = profileupload.MaxTraceSize
	// DefaultMaxDecodedProfileBytes limits one profile part once decompressed: a gzip bomb must not make
	// the parser allocate gigabytes. runtime/pprof's profiles of a large service are a few MiB at most.
	DefaultMaxDecodedProfileBytes = 32 << 20
	// DefaultMaxDecodedTraceBytes limits the trace part once decompressed. The trace is checked as a
	// stream (never held decompressed), so this bounds CPU time, not memory.
	DefaultMaxDecodedTraceBytes = 256 << 20
	// DefaultMaxProfileParts bounds the number of parts of an upload (hotpath sends at most six).
	DefaultMaxProfileParts = 16
	// DefaultMaxConcurrentProfiles is the number of uploads read at once; each holds its parts in
	// memory (up to the limits above) until it is stored.
	DefaultMaxConcurrentProfiles = 2
	// DefaultProfileWait is how long an upload waits for one of the MaxConcurrent slots before a 503.
	DefaultProfileWait = 5 * time.Second
)

// ProfileConfig configures the profile endpoint (API.ProfileHandler). The zero value of every field but
// Sink means its default.
type ProfileConfig struct {
	// Sink stores accepted uploads. Required.
	Sink ProfileSink

	// MaxMetadataBytes and MaxCaptureBytes limit the metadata and capture parts; MaxProfileBytes all
	// profile parts together and MaxTraceBytes the trace part, as sent. A part past its limit is
	// answered 413 (APM Server's answer to an oversized profile). Defaults: DefaultMaxMetadataBytes,
	// DefaultMaxCaptureBytes, DefaultMaxProfileBytes, DefaultMaxTraceBytes.
	MaxMetadataBytes int
	MaxCaptureBytes  int
	MaxProfileBytes  int64
	MaxTraceBytes    int64

	// MaxDecodedProfileBytes limits one profile part decompressed, MaxDecodedTraceBytes the trace part
	// (413 past either). Defaults: DefaultMaxDecodedProfileBytes, DefaultMaxDecodedTraceBytes.
	MaxDecodedProfileBytes int64
	MaxDecodedTraceBytes   int64

	// MaxParts bounds the parts of one upload (400 past it). Default: DefaultMaxProfileParts.
	MaxParts int

	// MaxConcurrent is the number of uploads read at once, Wait how long an upload waits for one of
	// them before a 503. With them, the endpoint's memory is at most about MaxConcurrent times the sum
	// of the part limits plus MaxDecodedProfileBytes and the parsing of that much pprof.
	// Defaults: DefaultMaxConcurrentProfiles, DefaultProfileWait.
	MaxConcurrent int
	Wait          time.Duration
}

// profileEndpoint is the state of API.ProfileHandler.
type profileEndpoint struct {
	a     *API
	cfg   ProfileConfig
	slots chan struct{} // a token per upload being read
}

// Refusal reasons of the profile endpoint (values of hotpath_intake_rejected_total's reason label).
const (
	reasonInvalidProfile  = "invalid_profile"   // a malformed upload (400)
	reasonProfileTooLarge = "profile_too_large" // a part past its limit (413)
	reasonProfileLimit    = "profile_limit"     // MaxConcurrent uploads were being read for Wait (503)
	reasonProfileExists   = "profile_exists"    // the store holds a profile with its id (409)
)

const (
	endpointProfile = "profile"
	pathProfile     = "/intake/v2/profile"
)

// ProfileHandler returns the handler of POST /intake/v2/profile, to mount on that path beside Register's
// endpoints (the collector does):
//
//	mux.Handle("/intake/v2/profile", h)
//
// It accepts the multipart uploads of the profiling package (their format is package profileupload's,
// which reads them here: a metadata part, a capture part, profile parts, a trace part) and the Elastic
// Go agent's periodic profiles (a metadata part, then profile parts), with the same authentication as
// the events endpoint, checks them strictly (part names, order, headers and media types; the metadata
// decoded as intake v2 metadata; every profile parsed as pprof; the trace a gzipped Go execution trace;
// the limits of ProfileConfig) but takes a capture part's fields and triggers it does not know from a
// later profiler (the fields ignored, the trigger kept), hands
// the decoded collector.Profile to cfg.Sink, and answers as APM Server's profile endpoint did:
//
//	202 {"accepted": N}   stored; N is the number of parts (profiles and trace)
//	400 {"error": ...}    malformed: what is wrong, and in which part
//	401                   the events endpoint's authentication failed
//	405                   a method other than POST
//	409                   a profile with the capture's id is already stored
//	413                   a part past its limit
//	503                   MaxConcurrent uploads busy for Wait, the body slower than Config.MinStreamRate
//	                      after Config.StreamGrace (as the events' streams), the store's queue full, or
//	                      shutting down
//
// An error answer closes the connection.
func (a *API) ProfileHandler(cfg ProfileConfig) (http.Handler, error) {
	if cfg.Sink == nil {
		return nil, errors.New("intake: ProfileConfig.Sink is required")
	}
	setDefault(&cfg.MaxMetadataBytes, DefaultMaxMetadataBytes)
	setDefault(&cfg.MaxCaptureBytes, DefaultMaxCaptureBytes)
	setDefault(&cfg.MaxProfileBytes, DefaultMaxProfileBytes)
	setDefault(&cfg.MaxTraceBytes, DefaultMaxTraceBytes)
	setDefault(&cfg.MaxDecodedProfileBytes, DefaultMaxDecodedProfileBytes)
	setDefault(&cfg.MaxDecodedTraceBytes, DefaultMaxDecodedTraceBytes)
	setDefault(&cfg.MaxParts, DefaultMaxProfileParts)
	setDefault(&cfg.MaxConcurrent, DefaultMaxConcurrentProfiles)
	setDefault(&cfg.Wait, DefaultProfileWait)
	e := &profileEndpoint{a: a, cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent)}
	return a.route(endpointProfile, e.serve), nil
}

// maxBody is the largest request body the limits allow: every part at its limit, and room for the
// multipart framing (boundaries and part headers) of MaxParts parts.
func (e *profileEndpoint) maxBody() int64 {
	c := &e.cfg
	return int64(c.MaxMetadataBytes) + int64(c.MaxCaptureBytes) + c.MaxProfileBytes + c.MaxTraceBytes + int64(c.MaxParts)*1024
}

func (e *profileEndpoint) serve(w http.ResponseWriter, r *http.Request, x *exchange) {
	a := e.a
	fail := func(status int, reason, msg string) {
		w.Header().Set("Connection", "Close")
		x.fail(w, r, status, reason, msg)
	}
	if _, err := a.auth.authenticate(r.Header.Get("Authorization")); err != nil {
		fail(http.StatusUnauthorized, reasonUnauthorized, err.Error())
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, reasonMethod, msgMethodNotAllowed)
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		fail(http.StatusBadRequest, reasonContentType, fmt.Sprintf("unsupported Content-Encoding %q: the profile and trace parts are compressed, the upload is not", ce))
		return
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		fail(http.StatusBadRequest, reasonContentType, fmt.Sprintf("invalid content type %q, expected multipart/form-data with a boundary", ct))
		return
	}
	maxBody := e.maxBody()
	if r.ContentLength > maxBody {
		fail(http.StatusRequestEntityTooLarge, reasonProfileTooLarge,
			"request body of "+strconv.FormatInt(r.ContentLength, 10)+" bytes exceeds the permitted size of "+strconv.FormatInt(maxBody, 10)+" bytes")
		return
	}
	if err := takeSlot(r.Context(), e.slots, e.cfg.Wait, nil, errProfileLimit); err != nil {
		if errors.Is(err, errProfileLimit) {
			fail(http.StatusServiceUnavailable, reasonProfileLimit, err.Error())
		} else {
			fail(http.StatusServiceUnavailable, reasonTimeout, msgTimeout)
		}
		return
	}
	defer func() { <-e.slots }()

	received := time.Now()
	base := collector.Event{Timestamp: received}
	if ip := clientIP(r); ip.IsValid() {
		base.Host.IP = []netip.Addr{ip}
	}
	// Held to the events' minimum transfer rate: a slow upload loses its slot after the grace.
	body := &limitedReader{r: a.newPacer(w, r), limit: maxBody, what: "request body"}
	up := uploadReader{
		cfg:  &e.cfg,
		meta: decoder.New(decoder.Options{MaxEventSize: e.cfg.MaxMetadataBytes + 64, BatchSize: 1}),
		base: &base,
	}
	p, uerr := up.read(body, params["boundary"])
	a.metrics.bodyBytes.Add(float64(body.n))
	if uerr != nil {
		status, reason, msg := uerr.status, uerr.reason, uerr.msg
		var tooLarge *bodyTooLargeError
		switch {
		case errors.As(body.err, &tooLarge):
			status, reason, msg = http.StatusRequestEntityTooLarge, reasonProfileTooLarge, tooLarge.Error()
		case errors.Is(body.err, errTooSlow):
			status, reason, msg = http.StatusServiceUnavailable, reasonTooSlow, msgTimeout
		case body.err != nil && isTimeout(body.err), r.Context().Err() != nil:
			status, reason, msg = http.StatusServiceUnavailable, reasonTimeout, msgTimeout
		}
		fail(status, reason, msg)
		return
	}
	p.Received = received
	if err := e.cfg.Sink.StoreProfile(r.Context(), p); err != nil {
		switch {
		case errors.Is(err, collector.ErrQueueFull):
			fail(http.StatusServiceUnavailable, reasonQueueFull, prefixProcessBatch+err.Error())
		case errors.Is(err, collector.ErrShuttingDown):
			fail(http.StatusServiceUnavailable, reasonShuttingDown, msgShuttingDown)
		case errors.Is(err, collector.ErrStorageUnavailable):
			fail(http.StatusServiceUnavailable, reasonStorage, "cannot store the profile: "+err.Error())
		case errors.Is(err, collector.ErrProfileExists):
			fail(http.StatusConflict, reasonProfileExists, "profile "+p.ID+" is already stored")
		case r.Context().Err() != nil:
			fail(http.StatusServiceUnavailable, reasonTimeout, msgTimeout)
		default:
			// The request's log line (error level) has the message.
			fail(http.StatusInternalServerError, reasonInternal, "cannot store the profile: "+err.Error())
		}
		return
	}
	x.reply(w, r, http.StatusAccepted, streamResult{Accepted: len(p.Parts)})
}

// newProfileID returns 32 random lower-case hex digits: the ID of an upload that has none (the Elastic
// agent's).
func newProfileID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// errProfileLimit is the answer (503) to an upload that found every slot busy for Wait.
var errProfileLimit = errors.New("unable to service request: too many concurrent profile uploads")
