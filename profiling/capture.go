package profiling

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"time"

	"github.com/hotpath-apm/hotpath/agent"
)

// Trigger names what started a capture.
type Trigger string

// The triggers.
const (
	// TriggerSlowRequest: a request crossed its slow threshold while running (agent.Listener.RequestSlow).
	TriggerSlowRequest Trigger = "slow_request"
	// The resource triggers (WithTrigger), named as their Resource.
	TriggerCPU          = Trigger(ResourceCPU)
	TriggerHeap         = Trigger(ResourceHeap)
	TriggerGoroutines   = Trigger(ResourceGoroutines)
	TriggerSchedLatency = Trigger(ResourceSchedLatency)
)

// LabelProfileID is the transaction label the profiler sets on a request it captures, with the capture's
// ID as value, before the transaction ends: the trace points at the profile, and the profile (Capture,
// the upload's capture part, the pprof samples' transaction.id label) points at the trace. It is the
// issue's "profile.id" spelled as Elastic label keys must be (the Go agent replaces dots in label keys
// with underscores): the transaction document has labels.profile_id.
const LabelProfileID = "profile_id"

// Capture is what the profiler keeps about one capture: what triggered it and its parts. It is handed to
// the Uploader once complete and not modified afterwards.
type Capture struct {
	// ID identifies the capture: 32 lower-case hex digits (16 random bytes). A slow request's
	// transaction carries it as the label profile.id.
	ID string
	// Trigger says what started the capture.
	Trigger Trigger
	// Time is when the capture was triggered; End is when it stopped collecting (the request ended, or
	// WithMaxCaptureDuration passed, or the profiler was closed).
	Time, End time.Time
	// Request describes the slow request, for TriggerSlowRequest; nil otherwise.
	Request *CapturedRequest
	// Resource describes what fired a resource trigger; nil otherwise.
	Resource *ResourceEvent

	// CPU is the CPU profile (gzipped pprof protobuf, as runtime/pprof writes it) from CPUStart to
	// CPUEnd; for a slow request, only the samples labelled with its transaction.id. CPUSamples is the
	// number of samples it holds (10 ms of CPU each): few samples mean little is known. nil if there is
	// no CPU profile (see Errors).
	CPU              []byte
	CPUStart, CPUEnd time.Time
	CPUSamples       int64
	// Goroutine is the goroutine profile (gzipped pprof), for a slow request only the goroutines
	// labelled with its transaction.id, summed over GoroutineSnapshots snapshots taken while it ran:
	// a stack's count is how many snapshots found a goroutine of the request there.
	Goroutine          []byte
	GoroutineSnapshots int
	// Heap is the heap profile (gzipped pprof) when the capture started, for resource triggers only.
	Heap []byte
	// Trace is the flight recorder's execution trace (go tool trace) of the last seconds before End,
	// uncompressed; nil without a flight recorder.
	Trace []byte
	// Errors says why parts are missing or partial, one sentence each.
	Errors []string
}

// CapturedRequest describes the request a TriggerSlowRequest capture is about.
type CapturedRequest struct {
	TraceID       string // 32 lower-case hex digits
	TransactionID string // 16 lower-case hex digits
	Sampled       bool   // whether the transaction is sampled (sent to the collector)
	Route         string // agent.Request.Route
	Start         time.Time
	Threshold     time.Duration
	// Ended tells whether the request ended before the capture did; when false, End is when the
	// capture gave up waiting (WithMaxCaptureDuration, Close) and the request was still running.
	Ended bool
}

// maxGoroutineSnapshots bounds the goroutine snapshots of one capture.
const maxGoroutineSnapshots = 64

// goroutineProfile returns the goroutine profile, with each goroutine's pprof labels.
func goroutineProfile() ([]byte, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("profiling: goroutine profile: %w", err)
	}
	return buf.Bytes(), nil
}

// slowCapture is a slow request's capture while it collects.
type slowCapture struct {
	c          *Capture
	hold       *cpuHold       // nil if the CPU profiler could not be had
	goroutines [][]byte       // snapshots, the first taken in RequestSlow
	ended      chan time.Time // capacity 1: the request's end, sent by ServeRequest
}

// runSlow collects a slow request's capture until the request ends, then assembles and submits it.
func (p *Profiler) runSlow(sc *slowCapture, key *agent.Request) {
	defer p.wg.Done()
	defer p.adm.done()
	c := sc.c
	maxC := time.NewTimer(p.cfg.maxCapture)
	defer maxC.Stop()
	var tick <-chan time.Time
	if p.cfg.goroutineEvery > 0 {
		t := time.NewTicker(p.cfg.goroutineEvery)
		defer t.Stop()
		tick = t.C
	}
wait:
	for {
		select {
		case end := <-sc.ended:
			c.End = end
			c.Request.Ended = true
			break wait
		case <-maxC.C:
			break wait
		case <-p.quit:
			break wait
		case <-tick:
			if len(sc.goroutines) < maxGoroutineSnapshots {
				if g, err := goroutineProfile(); err == nil {
					sc.goroutines = append(sc.goroutines, g)
				}
			}
		}
	}
	if !c.Request.Ended {
		c.End = time.Now()
		p.forgetSlow(key)
	}
	p.assemble(c, sc.hold, c.Request.Start, LabelTransactionID, c.Request.TransactionID, sc.goroutines)
	p.submit(c)
}

// assemble fills c's CPU (from the sampler, from cpuFrom to c.End, released afterwards), goroutine (from
// snapshots) and trace parts, keeping only the samples labelled key=value when key is set.
func (p *Profiler) assemble(c *Capture, hold *cpuHold, cpuFrom time.Time, key, value string, goroutines [][]byte) {
	comment := "hotpath profile.id=" + c.ID + " trigger=" + string(c.Trigger)
	if r := c.Request; r != nil {
		comment += " trace.id=" + r.TraceID + " transaction.id=" + r.TransactionID + " route=" + r.Route
	}
	if hold != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		chunks, err := p.cpu.window(ctx, cpuFrom, c.End)
		cancel()
		p.cpu.release(hold)
		if err != nil {
			c.addError("cpu: %v", err)
		} else if err := p.assembleCPU(c, chunks, cpuFrom, key, value, comment); err != nil {
			c.addError("cpu: %v", err)
		}
	}
	if len(goroutines) > 0 {
		prof, _, err := mergeProfiles(goroutines, key, value)
		if err == nil {
			prof.Comments = append(prof.Comments, comment)
			c.Goroutine, err = encodeProfile(prof)
			c.GoroutineSnapshots = len(goroutines)
		}
		if err != nil {
			c.addError("goroutine: %v", err)
		}
	}
	if p.fr != nil {
		tr, err := p.fr.snapshot()
		if err != nil {
			c.addError("trace: %v", err)
		}
		c.Trace = tr
	}
}

// assembleCPU merges chunks into c.CPU.
func (p *Profiler) assembleCPU(c *Capture, chunks []*cpuChunk, from time.Time, key, value, comment string) error {
	datas := make([][]byte, len(chunks))
	for i, ch := range chunks {
		datas[i] = ch.data
	}
	prof, n, err := mergeProfiles(datas, key, value)
	if err != nil {
		return err
	}
	// The samples are those of the chunks, which may start before from and end after c.End. Kept by a
	// request's label, they are the request's only: the profile covers the request, from its start (or
	// the first chunk's, if the ring did not reach back that far) to its end.
	c.CPUStart, c.CPUEnd = chunks[0].start, chunks[len(chunks)-1].end
	if key != "" {
		if c.CPUStart.Before(from) {
			c.CPUStart = from
		} else if c.CPUStart.After(from) {
			c.addError("cpu: the profile starts %v after the request did (the CPU ring did not reach back that far)",
				c.CPUStart.Sub(from).Round(time.Millisecond))
		}
		if c.CPUEnd.After(c.End) {
			c.CPUEnd = c.End
		}
	}
	prof.TimeNanos = c.CPUStart.UnixNano()
	prof.DurationNanos = c.CPUEnd.Sub(c.CPUStart).Nanoseconds()
	prof.Comments = append(prof.Comments, comment)
	c.CPUSamples = n
	c.CPU, err = encodeProfile(prof)
	return err
}

func (c *Capture) addError(format string, args ...any) {
	c.Errors = append(c.Errors, fmt.Sprintf(format, args...))
}
