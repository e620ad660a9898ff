// Package intaketest is an APM intake on loopback for the search example's tests: it receives what the
// real Elastic Go agent sends (/intake/v2/events, zlib ndjson) and keeps the transactions and spans, so
// a test can look at the trace its requests produced.
package intaketest

import (
	"bufio"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
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

// Intake is an APM server on loopback.
type Intake struct {
	srv *httptest.Server

	mu           sync.Mutex
	transactions []Event
	spans        []Event
}

// New starts an intake; it is closed when the test ends.
func New(t testing.TB) *Intake {
	in := &Intake{}
	in.srv = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(in.srv.Close)
	return in
}

// Tracer returns a tracer named service that sends to the intake; it is closed when the test ends.
// Flush it before looking at what arrived.
func (in *Intake) Tracer(t testing.TB, service string) *apm.Tracer {
	t.Helper()
	return agenttest.NewTracer(t, in.srv.URL, agenttest.Options{Service: service})
}

func (in *Intake) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/intake/v2/events" {
		io.WriteString(w, `{"version":"8.19.0"}`)
		return
	}
	body, err := zlib.NewReader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 1<<20)
	var service string
	var txs, spans []Event
	for sc.Scan() {
		var ev struct {
			Metadata *struct {
				Service struct {
					Name string `json:"name"`
				} `json:"service"`
			} `json:"metadata"`
			Transaction, Span *Event
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch {
		case ev.Metadata != nil:
			service = ev.Metadata.Service.Name
		case ev.Transaction != nil:
			ev.Transaction.Service = service
			txs = append(txs, *ev.Transaction)
		case ev.Span != nil:
			ev.Span.Service = service
			spans = append(spans, *ev.Span)
		}
	}
	in.mu.Lock()
	in.transactions = append(in.transactions, txs...)
	in.spans = append(in.spans, spans...)
	in.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// Transactions returns the transactions received so far.
func (in *Intake) Transactions() []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.transactions)
}

// Spans returns the spans received so far.
func (in *Intake) Spans() []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.spans)
}

// Children returns the spans and transactions whose parent is id.
func (in *Intake) Children(id string) []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []Event
	for _, evs := range [][]Event{in.spans, in.transactions} {
		for _, e := range evs {
			if e.ParentID == id {
				out = append(out, e)
			}
		}
	}
	return out
}

// URL returns the intake's base URL, for ELASTIC_APM_SERVER_URL.
func (in *Intake) URL() string { return in.srv.URL }
