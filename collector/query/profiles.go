package query

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hotpath-apm/hotpath/collector"
)

// ProfileReader reads the stored profiles (the uploads of /intake/v2/profile). Every method must be safe
// for concurrent use and honour ctx.
type ProfileReader interface {
	// Profiles lists profiles, newest first, a page at a time; their parts carry no data.
	Profiles(ctx context.Context, q collector.ProfileQuery) (collector.ProfilePage, error)
	// Profile returns a profile, its parts without their data; ok is false when there is none.
	Profile(ctx context.Context, id string) (p collector.Profile, ok bool, err error)
	// ProfilePart returns a part's data as stored (a gzipped pprof profile, or a gzipped Go execution
	// trace); ok is false when there is no such profile or part.
	ProfilePart(ctx context.Context, id, kind string) (data []byte, ok bool, err error)
}

// handleProfiles mounts the profile endpoints (see the package documentation, "Profiles").
func (a *API) handleProfiles() {
	a.handle("profiles", a.profiles)
	a.handle("profiles/{id}", a.profile)
	a.handle("profiles/{id}/flamegraph", a.flamegraph)
	a.handle("profiles/{id}/{part}", a.download)
	a.handle("transactions/{transaction_id}/profile", a.transactionProfile)
}

var errNoProfiles = errNotFound{msg: "this collector keeps no profiles"}

// profileJSON is a profile as the API shows it.
type profileJSON struct {
	ID                 string             `json:"id"`
	Trigger            string             `json:"trigger"`
	Timestamp          time.Time          `json:"timestamp"`
	DurationUS         int64              `json:"duration_us"`
	Received           time.Time          `json:"received"`
	Service            profileServiceJSON `json:"service"`
	Agent              profileAgentJSON   `json:"agent"`
	Host               string             `json:"host,omitempty"`
	TraceID            string             `json:"trace_id,omitempty"`
	Transaction        *profileTxJSON     `json:"transaction"`
	Resource           *profileResJSON    `json:"resource"`
	CPU                *profileCPUJSON    `json:"cpu"`
	GoroutineSnapshots int                `json:"goroutine_snapshots,omitempty"`
	Errors             []string           `json:"errors"`
	Parts              []profilePartRef   `json:"parts"`
}

type profileServiceJSON struct {
	Name        string `json:"name"`
	Version     string `json:"version,omitempty"`
	Environment string `json:"environment,omitempty"`
	Node        string `json:"node,omitempty"`
}

type profileAgentJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type profileTxJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Sampled     bool      `json:"sampled"`
	Ended       bool      `json:"ended"`
	Start       time.Time `json:"start"`
	ThresholdUS int64     `json:"threshold_us"`
}

type profileResJSON struct {
	Name      string   `json:"name"`
	Value     float64  `json:"value"`
	Rule      string   `json:"rule"`
	Threshold float64  `json:"threshold"`
	Average   *float64 `json:"average"`
}

type profileCPUJSON struct {
	Start      time.Time `json:"start"`
	DurationUS int64     `json:"duration_us"`
	Samples    int64     `json:"samples"`
}

// profilePartRef names a part and where to download it (a path of this API).
type profilePartRef struct {
	Kind string `json:"kind"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

func toProfileJSON(p *collector.Profile) profileJSON {
	m := &p.Metadata
	out := profileJSON{
		ID: p.ID, Trigger: p.Trigger, Timestamp: p.Timestamp.UTC(), DurationUS: p.Duration.Microseconds(), Received: p.Received.UTC(),
		Service: profileServiceJSON{Name: m.Service.Name, Version: m.Service.Version, Environment: m.Service.Environment, Node: m.Service.NodeName},
		Agent:   profileAgentJSON{Name: m.Agent.Name, Version: m.Agent.Version},
		Host:    m.Host.Name, TraceID: p.TraceID, GoroutineSnapshots: p.GoroutineSnapshots, Errors: p.Errors,
		Parts: make([]profilePartRef, len(p.Parts)),
	}
	if out.Host == "" {
		out.Host = m.Host.Hostname
	}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	if t := p.Transaction; t != nil {
		out.Transaction = &profileTxJSON{ID: t.ID, Name: t.Name, Sampled: t.Sampled, Ended: t.Ended, Start: t.Start.UTC(), ThresholdUS: t.Threshold.Microseconds()}
	}
	if r := p.Resource; r != nil {
		out.Resource = &profileResJSON{Name: r.Name, Value: r.Value, Rule: r.Rule, Threshold: r.Threshold}
		if r.Average.Valid {
			out.Resource.Average = &r.Average.V
		}
	}
	if c := p.CPU; c != nil {
		out.CPU = &profileCPUJSON{Start: c.Start.UTC(), DurationUS: c.Duration.Microseconds(), Samples: c.Samples}
	}
	for i, part := range p.Parts {
		out.Parts[i] = profilePartRef{Kind: part.Kind, Size: part.Size, URL: Prefix + "profiles/" + p.ID + "/" + part.Kind}
	}
	return out
}

// checkProfileID refuses what cannot be a profile id (32 lower-case hex digits).
func checkProfileID(id string) error {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return badParam("id", "%q: a profile id is 32 lower-case hex digits", id)
	}
	return nil
}

// profiles answers GET /api/v1/profiles: a page of profiles, newest first.
func (a *API) profiles(ctx context.Context, r *http.Request, p *params) (any, error) {
	pr := a.cfg.Profiles
	q := collector.ProfileQuery{Service: p.str("service"), TransactionID: p.str("transaction_id"), TraceID: p.str("trace_id"),
		Limit: p.intIn("limit", 1, 1000, 50), Cursor: p.str("cursor")}
	// By transaction or trace, every time unless a range is given; otherwise the usual range.
	var from, to *time.Time
	if (q.TransactionID == "" && q.TraceID == "") || p.v.Has("from") || p.v.Has("to") {
		f, t := p.timeRange()
		q.From, q.To, from, to = f, t, &f, &t
	}
	if err := p.done(); err != nil {
		return nil, err
	}
	if pr == nil {
		return nil, errNoProfiles
	}
	page, err := pr.Profiles(ctx, q)
	if err != nil {
		return nil, err
	}
	out := struct {
		From     *time.Time    `json:"from"`
		To       *time.Time    `json:"to"`
		Profiles []profileJSON `json:"profiles"`
		Next     *string       `json:"next"`
	}{From: from, To: to, Profiles: make([]profileJSON, len(page.Profiles))}
	for i := range page.Profiles {
		out.Profiles[i] = toProfileJSON(&page.Profiles[i])
	}
	if page.Next != "" {
		out.Next = &page.Next
	}
	return out, nil
}

// lookupProfile reads the profile of the path's {id}, once p has no error and no parameter the path
// does not take (p.done).
func (a *API) lookupProfile(ctx context.Context, r *http.Request, p *params) (collector.Profile, error) {
	if err := p.done(); err != nil {
		return collector.Profile{}, err
	}
	id := r.PathValue("id")
	if err := checkProfileID(id); err != nil {
		return collector.Profile{}, err
	}
	if a.cfg.Profiles == nil {
		return collector.Profile{}, errNoProfiles
	}
	prof, ok, err := a.cfg.Profiles.Profile(ctx, id)
	if err != nil {
		return collector.Profile{}, err
	}
	if !ok {
		return collector.Profile{}, errNotFound{msg: "no profile " + id}
	}
	return prof, nil
}

// profile answers GET /api/v1/profiles/{id}.
func (a *API) profile(ctx context.Context, r *http.Request, p *params) (any, error) {
	prof, err := a.lookupProfile(ctx, r, p)
	if err != nil {
		return nil, err
	}
	return toProfileJSON(&prof), nil
}

// pprofPart reads and parses a profile's pprof part, keeping only the samples labelled transaction.id =
// txID when txID is set.
func (a *API) pprofPart(ctx context.Context, prof *collector.Profile, kind, txID string) (*profile.Profile, error) {
	if kind == "trace" {
		return nil, badParam("part", "the trace is not a pprof profile: download it and open it with go tool trace")
	}
	data, err := a.readPart(ctx, prof, kind)
	if err != nil {
		return nil, err
	}
	pp, err := parsePprof(data)
	if err != nil {
		return nil, err
	}
	if txID != "" {
		keepLabel(pp, "transaction.id", txID)
	}
	return pp, nil
}

// readPart reads a profile's part as stored; a part the profile does not have is not found.
func (a *API) readPart(ctx context.Context, prof *collector.Profile, kind string) ([]byte, error) {
	what := kind + " part"
	if kind == "trace" {
		what = kind
	}
	if prof.Part(kind) == nil {
		return nil, errNotFound{msg: fmt.Sprintf("profile %s has no %s (it has %s)", prof.ID, what, partKinds(prof))}
	}
	data, ok, err := a.cfg.Profiles.ProfilePart(ctx, prof.ID, kind)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound{msg: fmt.Sprintf("profile %s has no %s", prof.ID, what)}
	}
	return data, nil
}

func partKinds(p *collector.Profile) string {
	var ks []string
	for _, part := range p.Parts {
		ks = append(ks, part.Kind)
	}
	if len(ks) == 0 {
		return "none"
	}
	return strings.Join(ks, ", ")
}

// flame builds the flame graph JSON of a profile's part.
func (a *API) flame(ctx context.Context, prof *collector.Profile, kind, txID, sampleType string) (*flameGraph, error) {
	pp, err := a.pprofPart(ctx, prof, kind, txID)
	if err != nil {
		return nil, err
	}
	vi, err := sampleIndex(pp, sampleType)
	if err != nil {
		return nil, badParam("sample_type", "%v", err)
	}
	g := buildFlame(pp, vi)
	g.ProfileID, g.Part, g.TransactionID = prof.ID, kind, txID
	g.CPU = cpuOf(pp)
	return g, nil
}

// flamegraph answers GET /api/v1/profiles/{id}/flamegraph?part=&transaction_id=&sample_type=.
func (a *API) flamegraph(ctx context.Context, r *http.Request, p *params) (any, error) {
	kind := p.str("part")
	txID := p.str("transaction_id")
	sampleType := p.str("sample_type")
	prof, err := a.lookupProfile(ctx, r, p)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		kind = defaultFlamePart(&prof)
		if kind == "" {
			return nil, errNotFound{msg: "profile " + prof.ID + " has no pprof part"}
		}
	}
	return a.flame(ctx, &prof, kind, txID, sampleType)
}

// defaultFlamePart is the part a flame graph shows when none is asked for: cpu, else goroutine, else
// the first pprof part.
func defaultFlamePart(p *collector.Profile) string {
	for _, k := range []string{"cpu", "goroutine"} {
		if p.Part(k) != nil {
			return k
		}
	}
	for _, part := range p.Parts {
		if part.Kind != "trace" {
			return part.Kind
		}
	}
	return ""
}

// download answers GET /api/v1/profiles/{id}/{part}: the part as a file, a pprof profile that go tool
// pprof opens (with transaction_id, only that transaction's samples), or the execution trace that go
// tool trace opens (decompressed).
func (a *API) download(ctx context.Context, r *http.Request, p *params) (any, error) {
	txID := p.str("transaction_id")
	kind := r.PathValue("part")
	prof, err := a.lookupProfile(ctx, r, p)
	if err != nil {
		return nil, err
	}
	service := fileNamePart(prof.Metadata.Service.Name)
	switch {
	case kind == "trace":
		if txID != "" {
			return nil, badParam("transaction_id", "the trace is the whole process's; it cannot be filtered")
		}
		data, err := a.readPart(ctx, &prof, kind)
		if err != nil {
			return nil, err
		}
		body, err := gunzip(data, maxTraceDecoded, "stored trace")
		if err != nil {
			return nil, err
		}
		return file{name: fmt.Sprintf("%s-%s.trace", service, prof.ID), body: body}, nil
	case txID != "":
		pp, err := a.pprofPart(ctx, &prof, kind, txID)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := pp.Write(&buf); err != nil { // gzipped, as runtime/pprof writes profiles
			return nil, fmt.Errorf("query: write profile: %w", err)
		}
		return file{name: fmt.Sprintf("%s-%s-%s-%s.pb.gz", service, kind, prof.ID, fileNamePart(txID)), body: buf.Bytes()}, nil
	default:
		data, err := a.readPart(ctx, &prof, kind)
		if err != nil {
			return nil, err
		}
		return file{name: fmt.Sprintf("%s-%s-%s.pb.gz", service, kind, prof.ID), body: data}, nil
	}
}

// fileNamePart keeps the characters of s that are safe in a file name (and a quoted header value).
func fileNamePart(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			out[i] = '_'
		}
	}
	if len(out) == 0 {
		return "profile"
	}
	return string(out)
}

// maxTraceDecoded bounds a trace once decompressed (intake allows 256 MiB).
const maxTraceDecoded = 256 << 20

// transactionProfile answers GET /api/v1/transactions/{transaction_id}/profile?trace_id=: the profile
// of one transaction, with its CPU and goroutine flame graphs. The profile is found by the
// transaction's label profile_id (with trace_id, which finds the transaction), else as the capture of
// that transaction, else (with trace_id) as a CPU profile of its service covering its time whose samples
// carry its transaction.id label: then only those samples are shown.
func (a *API) transactionProfile(ctx context.Context, r *http.Request, p *params) (any, error) {
	txID := r.PathValue("transaction_id")
	traceID := p.str("trace_id")
	if err := p.done(); err != nil {
		return nil, err
	}
	if len(txID) > 64 || checkTraceID(txID) != nil {
		return nil, badParam("transaction_id", "%q is not a transaction id", txID)
	}
	if traceID != "" {
		if err := checkTraceID(traceID); err != nil {
			return nil, badParam("trace_id", "%v", err)
		}
	}
	pr := a.cfg.Profiles
	if pr == nil {
		return nil, errNoProfiles
	}
	var tx *collector.Event
	if traceID != "" {
		recs, err := a.cfg.Store.GetTrace(ctx, traceID, maxTraceEvents)
		if err != nil {
			return nil, err
		}
		for i := range recs {
			if e := &recs[i].Event; e.Kind == collector.KindTransaction && e.Transaction != nil && e.Transaction.ID == txID {
				tx = e
				break
			}
		}
		if tx == nil {
			return nil, errNotFound{msg: fmt.Sprintf("no transaction %s in trace %s", txID, traceID)}
		}
	}
	prof, foundBy, err := a.findTransactionProfile(ctx, txID, tx)
	if err != nil {
		return nil, err
	}
	out := struct {
		TransactionID string      `json:"transaction_id"`
		TraceID       string      `json:"trace_id,omitempty"`
		ProfileID     string      `json:"profile_id"`
		FoundBy       string      `json:"found_by"`
		Profile       profileJSON `json:"profile"`
		CPU           *flameGraph `json:"cpu"`
		Goroutine     *flameGraph `json:"goroutine"`
	}{TransactionID: txID, TraceID: traceID, ProfileID: prof.ID, FoundBy: foundBy, Profile: toProfileJSON(prof)}
	filter := ""
	if foundBy == foundBySampleLabels {
		filter = txID
	}
	if prof.Part("cpu") != nil {
		if out.CPU, err = a.flame(ctx, prof, "cpu", filter, ""); err != nil {
			return nil, err
		}
	}
	if prof.Part("goroutine") != nil {
		if out.Goroutine, err = a.flame(ctx, prof, "goroutine", filter, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// How a transaction's profile was found.
const (
	foundByLabel        = "label"         // the transaction's labels.profile_id
	foundByCapture      = "capture"       // a capture of the transaction (the profile names it)
	foundBySampleLabels = "sample_labels" // a CPU profile of its time whose samples carry its transaction.id
)

// findTransactionProfile finds the profile of transaction txID; tx is the transaction, when known.
func (a *API) findTransactionProfile(ctx context.Context, txID string, tx *collector.Event) (*collector.Profile, string, error) {
	pr := a.cfg.Profiles
	if tx != nil {
		for _, l := range tx.Labels {
			if l.Key == "profile_id" && !l.Global && checkProfileID(l.Value) == nil {
				prof, ok, err := pr.Profile(ctx, l.Value)
				if err != nil {
					return nil, "", err
				}
				if ok {
					return &prof, foundByLabel, nil
				}
				// Named, but not (or no longer) stored: say so rather than show another.
				return nil, "", errNotFound{msg: fmt.Sprintf("transaction %s names profile %s, which is not stored (not uploaded yet, refused, or deleted by retention)", txID, l.Value)}
			}
		}
	}
	page, err := pr.Profiles(ctx, collector.ProfileQuery{TransactionID: txID, Limit: 10})
	if err != nil {
		return nil, "", err
	}
	for i := range page.Profiles {
		if t := page.Profiles[i].Transaction; t != nil && t.ID == txID {
			return &page.Profiles[i], foundByCapture, nil
		}
	}
	if tx == nil {
		return nil, "", errNotFound{msg: "no profile of transaction " + txID + " (with trace_id, CPU profiles of its service are searched too)"}
	}
	// A CPU profile of the service covering the transaction, whose samples carry its label.
	start, end := tx.Timestamp, tx.Timestamp.Add(tx.Event.Duration)
	page, err = pr.Profiles(ctx, collector.ProfileQuery{Service: tx.Service.Name, From: start.Add(-time.Hour), To: end.Add(time.Minute), Limit: 50})
	if err != nil {
		return nil, "", err
	}
	var best *collector.Profile
	bestSamples := 0
	for i := range page.Profiles {
		c := &page.Profiles[i]
		if c.Part("cpu") == nil || c.Timestamp.After(end) || (c.Duration > 0 && c.Timestamp.Add(c.Duration).Before(start)) {
			continue
		}
		pp, err := a.pprofPart(ctx, c, "cpu", txID)
		if err != nil {
			return nil, "", err
		}
		if n := len(pp.Sample); n > bestSamples {
			best, bestSamples = c, n
		}
	}
	if best == nil {
		return nil, "", errNotFound{msg: "no profile of transaction " + txID}
	}
	return best, foundBySampleLabels, nil
}
