package profileupload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Triggers of a capture (Capture.Trigger). A collector keeps a trigger it does not know as it is.
const (
	TriggerSlowRequest   = "slow_request"
	TriggerCPU           = "cpu"
	TriggerHeap          = "heap"
	TriggerGoroutines    = "goroutines"
	TriggerSchedLatency  = "sched_latency"
	ruleAbs, ruleDiff    = "abs", "diff"
	maxMicros, maxMillis = 1e16, 365 * 24 * 3600 * 1e3 // year 2286, and a year: no overflow converting
)

// isResourceTrigger reports whether t is one of the resource triggers, whose capture has a resource.
func isResourceTrigger(t string) bool {
	return t == TriggerCPU || t == TriggerHeap || t == TriggerGoroutines || t == TriggerSchedLatency
}

// Capture is the capture part: what started the capture and what the parts that follow hold (the
// package documentation gives each field's meaning). Timestamps are integer microseconds since the
// Unix epoch, durations float milliseconds (Micros, Millis, Time, Duration convert).
type Capture struct {
	ID          string       `json:"id"`
	Trigger     string       `json:"trigger"`
	Timestamp   int64        `json:"timestamp"`
	Duration    float64      `json:"duration"`
	Transaction *Transaction `json:"transaction,omitempty"`
	Trace       *Trace       `json:"trace,omitempty"`
	Resource    *Resource    `json:"resource,omitempty"`
	CPU         *CPU         `json:"cpu,omitempty"`
	Goroutine   *Goroutine   `json:"goroutine,omitempty"`
	Parts       []string     `json:"parts"`
	Errors      []string     `json:"errors,omitempty"`
}

// Transaction is a slow request's transaction.
type Transaction struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Sampled   bool    `json:"sampled"`
	Timestamp int64   `json:"timestamp"`
	Threshold float64 `json:"threshold"`
	Ended     bool    `json:"ended"`
}

// Trace is a slow request's trace.
type Trace struct {
	ID string `json:"id"`
}

// Resource is what a resource trigger saw.
type Resource struct {
	Name      string   `json:"name"`
	Value     float64  `json:"value"`
	Rule      string   `json:"rule"`
	Threshold float64  `json:"threshold"`
	Average   *float64 `json:"average,omitempty"`
}

// CPU describes the cpu profile part.
type CPU struct {
	Timestamp int64   `json:"timestamp"`
	Duration  float64 `json:"duration"`
	Samples   int64   `json:"samples"`
}

// Goroutine describes the goroutine profile part.
type Goroutine struct {
	Snapshots int `json:"snapshots"`
}

// Micros is t as the format writes a timestamp: microseconds since the Unix epoch.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Millis is d as the format writes a duration: milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Time is the time of a timestamp the format wrote, in UTC.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Duration is the duration the format wrote as ms.
func Duration(ms float64) time.Duration { return time.Duration(math.Round(ms * 1e6)) }

// DecodeCapture decodes a capture part: one JSON object. Fields it does not know are ignored, so that
// a later profiler's uploads are accepted; what it knows is checked by Check.
func DecodeCapture(data []byte) (*Capture, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var c Capture
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("invalid capture part: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid capture part: data after its object")
	}
	return &c, nil
}

// Check applies the capture part's own rules, and its agreement with the kinds of the parts that
// followed it, in their order. A trigger it does not know needs only what every capture has.
func (c *Capture) Check(kinds []string) error {
	if !isHex(c.ID, 32) || !validTimestamp(c.Timestamp) || !validDuration(c.Duration) {
		return fmt.Errorf("capture: id %q (32 lower-case hex digits), timestamp %d (µs since the epoch), duration %v (ms, not negative)",
			c.ID, c.Timestamp, c.Duration)
	}
	if !slices.Equal(c.Parts, kinds) {
		return fmt.Errorf("capture: parts %q, but the upload has %q", c.Parts, kinds)
	}
	if (c.CPU != nil) != slices.Contains(kinds, KindCPU) || (c.Goroutine != nil) != slices.Contains(kinds, KindGoroutine) {
		return fmt.Errorf("capture: the cpu and goroutine descriptions do not match the parts %q", kinds)
	}
	if c.CPU != nil && (!validTimestamp(c.CPU.Timestamp) || !validDuration(c.CPU.Duration) || c.CPU.Samples < 0) {
		return fmt.Errorf("capture: cpu %+v", *c.CPU)
	}
	if c.Goroutine != nil && c.Goroutine.Snapshots < 0 {
		return fmt.Errorf("capture: goroutine snapshots %d", c.Goroutine.Snapshots)
	}
	switch t := c.Transaction; {
	case c.Trigger == "":
		return errors.New("capture: no trigger")
	case c.Trigger == TriggerSlowRequest:
		if t == nil || c.Trace == nil || c.Resource != nil || !isHex(t.ID, 16) || !isHex(c.Trace.ID, 32) || t.Name == "" ||
			!validTimestamp(t.Timestamp) || t.Threshold <= 0 || !validDuration(t.Threshold) {
			return errors.New("capture: a slow_request needs a transaction (16-hex id, name, timestamp, threshold > 0) and a trace (32-hex id), and no resource")
		}
	case isResourceTrigger(c.Trigger):
		r := c.Resource
		if r == nil || r.Name != c.Trigger || c.Transaction != nil || c.Trace != nil || (r.Rule != ruleAbs && r.Rule != ruleDiff) {
			return fmt.Errorf("capture: a %s trigger needs a resource named %s with rule abs or diff, and no transaction or trace", c.Trigger, c.Trigger)
		}
	default: // a later profiler's trigger: what it carries is checked as far as it is known
		if t != nil && (!isHex(t.ID, 16) || !validTimestamp(t.Timestamp) || !validDuration(t.Threshold)) {
			return fmt.Errorf("capture: a %s trigger's transaction %+v", c.Trigger, *t)
		}
		if c.Trace != nil && !isHex(c.Trace.ID, 32) {
			return fmt.Errorf("capture: a %s trigger's trace id %q", c.Trigger, c.Trace.ID)
		}
	}
	return nil
}

func validDuration(ms float64) bool { return ms >= 0 && ms <= maxMillis }

func validTimestamp(us int64) bool { return us > 0 && us <= maxMicros }

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
