package agenttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"go.elastic.co/apm/v2"
)

// Intake is an APM Server on loopback for tests, recording what the real Elastic Go agent sends, as
// apmtest's recorder does in memory: the events of /intake/v2/events, checked as APM Server checks them
// (POST, ndjson, gzip or zlib, the metadata first and only first, known event types), each with its
// metadata's service name, and the raw ndjson (decompressed); and the profile uploads of
// /intake/v2/profile as they were sent (package profiling/profileupload reads them). GET / answers as
// APM Server 8.19 and /config/v1/agents with no configuration; any other request, or a stream APM
// Server would refuse, fails the test. It is closed when the test ends.
type Intake struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	raw      bytes.Buffer
	events   []Event
	uploads  []Upload
	uploaded chan struct{} // closed, and replaced, at each upload
}

// Upload is one request to /intake/v2/profile, as sent.
type Upload struct {
	Header http.Header
	Body   []byte
}

// Event is one event the intake received.
type Event struct {
	Type    string          // "transaction", "span", "error", "metricset", "log"
	Service string          // the service.name of the stream's metadata
	JSON    json.RawMessage // the event's object, as sent
}

// NewIntake starts an Intake.
func NewIntake(t testing.TB) *Intake {
	t.Helper()
	in := &Intake{t: t, uploaded: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"build_date":"2026-01-01T00:00:00Z","build_sha":"test","publish_ready":true,"version":"8.19.0"}`)
	})
	mux.HandleFunc("/config/v1/agents", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Etag", `"1"`)
		io.WriteString(w, `{}`)
	})
	mux.HandleFunc("/intake/v2/events", in.handleEvents)
	mux.HandleFunc("POST /intake/v2/profile", in.handleProfile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("intake: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	in.srv = httptest.NewServer(mux)
	t.Cleanup(in.srv.Close)
	return in
}

// URL is the intake's base URL (ELASTIC_APM_SERVER_URL).
func (in *Intake) URL() string { return in.srv.URL }

// Tracer returns a tracer sending to the intake (NewTracer); flush it before looking at what arrived.
func (in *Intake) Tracer(t testing.TB, o Options) *apm.Tracer {
	t.Helper()
	return NewTracer(t, in.URL(), o)
}

// Events returns the events of type kind received so far, in order; "" for all.
func (in *Intake) Events(kind string) []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	if kind == "" {
		return slices.Clone(in.events)
	}
	var out []Event
	for _, e := range in.events {
		if e.Type == kind {
			out = append(out, e)
		}
	}
	return out
}

// Uploads returns the profile uploads received so far, in order.
func (in *Intake) Uploads() []Upload {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.uploads)
}

// WaitUploads returns the first n profile uploads once they have arrived, failing the test if they do
// not in a time no correct run comes near (30 s, as Receive).
func (in *Intake) WaitUploads(t testing.TB, n int) []Upload {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		in.mu.Lock()
		got, uploaded := slices.Clone(in.uploads), in.uploaded
		in.mu.Unlock()
		if len(got) >= n {
			return got[:n]
		}
		select {
		case <-uploaded:
		case <-timeout:
			t.Fatalf("timed out waiting for profile upload %d (%d arrived)", n, len(got))
		}
	}
}

// Payload returns every stream received so far, decompressed.
func (in *Intake) Payload() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.raw.String()
}

// Decode returns the events of type kind received so far decoded into T (the fields a test looks at,
// with the intake v2 JSON names).
func Decode[T any](t testing.TB, in *Intake, kind string) []T {
	t.Helper()
	var out []T
	for _, e := range in.Events(kind) {
		var v T
		if err := json.Unmarshal(e.JSON, &v); err != nil {
			t.Fatalf("decode %s %s: %v", kind, e.JSON, err)
		}
		out = append(out, v)
	}
	return out
}

func (in *Intake) handleEvents(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, args ...any) {
		in.t.Errorf("intake: "+format, args...)
		w.Header().Set("Connection", "Close")
		http.Error(w, `{"errors":[{"message":"bad request"}]}`, http.StatusBadRequest)
	}
	if r.Method != http.MethodPost {
		fail("method %s", r.Method)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		fail("content type %q", ct)
		return
	}
	var body io.Reader = r.Body
	var err error
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "deflate":
		body, err = zlib.NewReader(r.Body)
	case "gzip":
		body, err = gzip.NewReader(r.Body)
	case "":
	default:
		fail("content encoding %q", enc)
		return
	}
	if err != nil {
		cut(w)
		return
	}
	data, err := io.ReadAll(io.LimitReader(body, 10<<20))
	if err != nil {
		cut(w)
		return
	}
	var (
		events  []Event
		service string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 1 {
			fail("line %d: not one JSON object with one key: %q", i, sc.Bytes())
			return
		}
		if _, ok := ev["metadata"]; ok != (i == 0) {
			fail("line %d: metadata must come first and only first: %q", i, sc.Bytes())
			return
		}
		for k, v := range ev {
			switch k {
			case "metadata":
				var m struct {
					Service struct {
						Name string `json:"name"`
					} `json:"service"`
				}
				if err := json.Unmarshal(v, &m); err != nil || m.Service.Name == "" {
					fail("metadata without a service name: %s", v)
					return
				}
				service = m.Service.Name
			case "transaction", "span", "error", "metricset", "log":
				events = append(events, Event{Type: k, Service: service, JSON: v})
			default:
				fail("line %d: unknown event type %q", i, k)
				return
			}
		}
	}
	in.mu.Lock()
	in.raw.Write(data)
	in.events = append(in.events, events...)
	in.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (in *Intake) handleProfile(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		in.t.Errorf("intake: read profile upload: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.mu.Lock()
	in.uploads = append(in.uploads, Upload{Header: r.Header.Clone(), Body: body})
	close(in.uploaded)
	in.uploaded = make(chan struct{})
	in.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"accepted":1}`)
}

// cut answers a stream cut short (the tracer closed, the connection dropped: its compression does not
// end) as APM Server does, without failing the test: the agent did nothing the protocol forbids.
func cut(w http.ResponseWriter) {
	w.Header().Set("Connection", "Close")
	http.Error(w, `{"errors":[{"message":"bad request"}]}`, http.StatusBadRequest)
}

// Receive returns what ch delivers, failing the test if it does not in a time no correct run comes near
// (30 s; in a synctest bubble, of the bubble's clock).
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
