// Package intaketest is the search example's view of agenttest.Intake, the library's one APM intake
// recorder: the transactions and spans its tests look at, with their service's name, so a test can
// follow the trace its requests produced.
package intaketest

import (
	"encoding/json"
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
)

// Event is the part of an intake v2 transaction or span the tests look at.
type Event struct {
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Subtype  string  `json:"subtype"`
	ID       string  `json:"id"`
	ParentID string  `json:"parent_id"`
	TraceID  string  `json:"trace_id"`
	Duration float64 `json:"duration"`
	Context  struct {
		Tags    map[string]any `json:"tags"`
		Service struct {
			Target struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"target"`
		} `json:"service"`
		DB struct {
			Statement string `json:"statement"`
		} `json:"db"`
	} `json:"context"`
	Service string // the metadata's service name
}

// Intake is an APM server on loopback (agenttest.Intake).
type Intake struct {
	t  testing.TB
	in *agenttest.Intake
}

// New starts an intake; it is closed when the test ends.
func New(t testing.TB) *Intake {
	return &Intake{t: t, in: agenttest.NewIntake(t)}
}

// Tracer returns a tracer named service that sends to the intake; it is closed when the test ends.
// Flush it before looking at what arrived.
func (in *Intake) Tracer(t testing.TB, service string) *apm.Tracer {
	t.Helper()
	return in.in.Tracer(t, agenttest.Options{Service: service})
}

// events returns the events of type kind received so far, with their service's name.
func (in *Intake) events(kind string) []Event {
	var out []Event
	for _, e := range in.in.Events(kind) {
		var ev Event
		if err := json.Unmarshal(e.JSON, &ev); err != nil {
			in.t.Errorf("intake: %s %s: %v", kind, e.JSON, err)
			continue
		}
		ev.Service = e.Service
		out = append(out, ev)
	}
	return out
}

// Transactions returns the transactions received so far.
func (in *Intake) Transactions() []Event { return in.events("transaction") }

// Spans returns the spans received so far.
func (in *Intake) Spans() []Event { return in.events("span") }

// Children returns the spans and transactions whose parent is id.
func (in *Intake) Children(id string) []Event {
	var out []Event
	for _, evs := range [][]Event{in.Spans(), in.Transactions()} {
		for _, e := range evs {
			if e.ParentID == id {
				out = append(out, e)
			}
		}
	}
	return out
}

// URL returns the intake's base URL, for ELASTIC_APM_SERVER_URL.
func (in *Intake) URL() string { return in.in.URL() }
