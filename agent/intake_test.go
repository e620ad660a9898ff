package agent_test

import (
	"strings"
	"testing"

	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent/agenttest"
)

// newIntake returns the recorder the agent's tests send to (agenttest.Intake).
func newIntake(t *testing.T) *agenttest.Intake { return agenttest.NewIntake(t) }

// tracer returns a real tracer that sends to in; it is closed when the test ends.
func tracer(t *testing.T, in *agenttest.Intake) *apm.Tracer {
	t.Helper()
	return in.Tracer(t, agenttest.Options{Service: "agent-test", Version: "1.0.0"})
}

// decoded event shapes: the fields the tests look at, in the intake v2 JSON names.
type (
	sentTransaction struct {
		ID       string          `json:"id"`
		TraceID  string          `json:"trace_id"`
		ParentID string          `json:"parent_id"`
		Name     string          `json:"name"`
		Type     string          `json:"type"`
		Result   string          `json:"result"`
		Outcome  string          `json:"outcome"`
		Context  sentHTTPContext `json:"context"`
	}
	sentHTTPContext struct {
		Request *struct {
			Method  string         `json:"method"`
			Headers map[string]any `json:"headers"`
			Cookies map[string]any `json:"cookies"`
		} `json:"request"`
		Response *struct {
			StatusCode int            `json:"status_code"`
			Headers    map[string]any `json:"headers"`
		} `json:"response"`
		Tags map[string]any `json:"tags"`
	}
	sentSpan struct {
		ID            string  `json:"id"`
		TraceID       string  `json:"trace_id"`
		TransactionID string  `json:"transaction_id"`
		ParentID      string  `json:"parent_id"`
		Name          string  `json:"name"`
		Type          string  `json:"type"`
		Subtype       string  `json:"subtype"`
		Outcome       string  `json:"outcome"`
		Duration      float64 `json:"duration"`
		Context       struct {
			DB *struct {
				Statement string `json:"statement"`
				Type      string `json:"type"`
			} `json:"db"`
			Service *struct {
				Target struct {
					Type string `json:"type"`
					Name string `json:"name"`
				} `json:"target"`
			} `json:"service"`
			Tags map[string]any `json:"tags"`
		} `json:"context"`
	}
	sentError struct {
		ID            string `json:"id"`
		TraceID       string `json:"trace_id"`
		TransactionID string `json:"transaction_id"`
		ParentID      string `json:"parent_id"`
		Exception     *struct {
			Message string `json:"message"`
		} `json:"exception"`
		Log *struct {
			Message string `json:"message"`
		} `json:"log"`
		Context sentHTTPContext `json:"context"`
	}
)

// decode returns the events of type kind ("transaction", "span", "error") received so far.
func decode[T any](t *testing.T, in *agenttest.Intake, kind string) []T {
	t.Helper()
	return agenttest.Decode[T](t, in, kind)
}

// oneTransaction returns the only transaction named name.
func oneTransaction(t *testing.T, in *agenttest.Intake, name string) sentTransaction {
	t.Helper()
	var found []sentTransaction
	for _, tx := range decode[sentTransaction](t, in, "transaction") {
		if tx.Name == name {
			found = append(found, tx)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want 1 transaction %q, got %d (raw: %s)", name, len(found), strings.TrimSpace(in.Payload()))
	}
	return found[0]
}
