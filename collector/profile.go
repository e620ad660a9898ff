package collector

import (
	"errors"
	"time"
)

// Profile is one upload to /intake/v2/profile: a slow-request or resource capture of hotpath's profiler,
// or a periodic profile of the Elastic Go agent (ELASTIC_APM_CPU_PROFILE_INTERVAL). The upload's wire
// format is package profileupload's documentation; intake decodes it into a Profile, the store keeps
// it, the query API serves it.
type Profile struct {
	// ID is 32 lower-case hex digits: the capture's ID, which its slow transaction carries as
	// labels.profile_id; for an Elastic agent's upload, which has none, an ID the collector chose.
	ID string
	// Trigger is what started the capture: "slow_request", "cpu", "heap", "goroutines",
	// "sched_latency", a trigger a later profiler added (kept as it was sent), or ProfilePeriodic for an
	// Elastic agent's upload.
	Trigger string
	// Timestamp is when the capture was triggered and Duration how long it collected; for an Elastic
	// agent's upload, the first profile's own time and duration (when the collector received it, and
	// zero, if the profile has none).
	Timestamp time.Time
	Duration  time.Duration
	// Received is when the collector received the upload.
	Received time.Time

	// Metadata is the upload's metadata part (intake v2 metadata: service, agent, host, process,
	// labels, cloud...), decoded as the events intake decodes a stream's metadata line onto its events:
	// an Event of KindUnknown with only those fields (and Timestamp, the time it was received) set.
	Metadata Event

	// TraceID is the slow request's trace.id; Transaction describes the slow request. Both only for
	// TriggerSlowRequest.
	TraceID     string
	Transaction *ProfileTransaction
	// Resource describes what fired a resource trigger; nil otherwise.
	Resource *ProfileResource
	// CPU describes the cpu part, when there is one and the uploader described it (hotpath's captures).
	CPU *ProfileCPU
	// GoroutineSnapshots is how many goroutine profiles the goroutine part merges (0: no goroutine part,
	// or not described).
	GoroutineSnapshots int
	// Errors are the uploader's sentences about missing or partial parts.
	Errors []string

	// Parts are the profiles and the trace, in the order they were uploaded.
	Parts []ProfilePart
}

// ProfilePeriodic is the Trigger of an Elastic agent's periodic profile.
const ProfilePeriodic = "periodic"

// ProfileTriggerSlowRequest is the Trigger of a slow request's capture.
const ProfileTriggerSlowRequest = "slow_request"

// ProfileTransaction is the slow request of a capture.
type ProfileTransaction struct {
	ID        string // transaction.id, 16 lower-case hex digits
	Name      string // the route
	Sampled   bool   // false: the agent does not send the transaction
	Ended     bool   // false: still running when the capture stopped
	Start     time.Time
	Threshold time.Duration // its slow threshold
}

// ProfileResource describes the resource reading that fired a trigger.
type ProfileResource struct {
	Name      string  // as Trigger
	Value     float64 // cpu: percent of GOMAXPROCS; heap: bytes; goroutines: count; sched_latency: seconds
	Rule      string  // "abs" or "diff"
	Threshold float64
	Average   Optional[float64] // of the previous checks
}

// ProfileCPU describes a capture's CPU profile.
type ProfileCPU struct {
	Start    time.Time
	Duration time.Duration
	Samples  int64 // 10 ms of CPU each; for a slow request, the request's only
}

// ProfilePart is one part of an upload.
type ProfilePart struct {
	// Kind is "cpu", "goroutine", "heap" or "trace"; an Elastic agent's profile part, which is not
	// named, gets the kind of its sample types ("profile" when they are none of those).
	Kind string
	// Data is the part as stored: a gzipped pprof protobuf (go tool pprof opens it) or a gzipped Go
	// execution trace (go tool trace opens it once decompressed). Listings leave it nil.
	Data []byte
	// Size is len(Data), also when Data is left out.
	Size int64
}

// Part returns the part of the given kind, or nil.
func (p *Profile) Part(kind string) *ProfilePart {
	for i := range p.Parts {
		if p.Parts[i].Kind == kind {
			return &p.Parts[i]
		}
	}
	return nil
}

// ErrProfileExists is what a profile store returns for a Profile whose ID it already holds; intake
// answers 409.
var ErrProfileExists = errors.New("a profile with this id is already stored")
