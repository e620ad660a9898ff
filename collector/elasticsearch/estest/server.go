// Package estest is a strict in-process implementation of the parts of the Elasticsearch HTTP API that
// hotpath's exporter uses: GET / (cluster info, for the version check) and POST /_bulk (plus, for tests
// that count what was indexed as they would on a real cluster, _refresh and a size-0 _search with a
// term or ids query). It is one of hotpath's two fakes, both of Elasticsearch, the one thing that cannot
// run on a developer machine or in CI: this one stands in for the cluster the collector exports to;
// examples/search/esstandin, a small search engine, for the one the search example queries. It is
// strict where Elasticsearch is strict, so that a test passing against it means something:
//
//   - the product header the official client checks, authentication (basic or API key) when
//     configured, Content-Type and Content-Encoding (gzip) as Elasticsearch accepts them;
//   - the NDJSON body: action and source lines in pairs, a final newline, known actions and metadata
//     keys only, malformed lines refused with Elasticsearch's 400 answers;
//   - each source document: valid UTF-8 JSON object with no duplicate member names, and, in a data
//     stream (traces-*, logs-*, metrics-*), op_type create and an @timestamp;
//   - APM Server's aggregated metricsets (metrics-apm.transaction.1m-* ...) as the APM index templates
//     map them: histogram values ascending with whole counts, aggregate_metric_double summaries,
//     whole _doc_count and response times, metricset.name and interval matching the data stream
//     (metricsets.go);
//   - per-item results with errors:true, 409 for a create whose _id exists;
//   - injected faults: whole-request statuses (429, 503...), an outage that lasts until it is lifted,
//     requests that hang or whose connection drops, before or after the documents were indexed (as a
//     real cluster may have indexed a bulk whose answer never arrived), and per-item failures.
//
// Everything it accepted is recorded (Docs) for the test to compare with what it expected.
package estest

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// DefaultVersion is the Elasticsearch version a Server reports unless WithVersion says otherwise.
const DefaultVersion = "9.1.0"

// Doc is one document the server indexed.
type Doc struct {
	// Index is the target named in the action line (the data stream name, for data streams).
	Index string
	// ID is the document's _id: the one sent, or the one the server generated.
	ID string
	// GeneratedID is true when the client sent no _id.
	GeneratedID bool
	// Source is the document exactly as it was sent.
	Source []byte
}

// Fault is a failure a Server applies to bulk requests (see Server.Inject).
type Fault struct {
	// Status answers the request with this HTTP status (429, 500, 503...) and an Elasticsearch error
	// body, without indexing anything.
	Status int
	// Hang never answers: the request stays open until the client gives up (or the server closes).
	Hang bool
	// Drop closes the connection without an answer.
	Drop bool
	// After applies Hang or Drop after the documents were indexed, as when a cluster indexed a bulk
	// whose answer was lost.
	After bool
}

// ItemFailure is a per-document failure returned by the function given to FailItems.
type ItemFailure struct {
	Status int    // the item's status: 400, 429, 503...
	Type   string // Elasticsearch's error type, e.g. "document_parsing_exception"
	Reason string
}

// Option configures a Server.
type Option func(*Server)

// WithVersion makes the server report version (e.g. "8.14.3") in GET /. Default: DefaultVersion.
func WithVersion(version string) Option { return func(s *Server) { s.version = version } }

// WithBasicAuth requires HTTP basic authentication with these credentials. Default: none required.
func WithBasicAuth(username, password string) Option {
	return func(s *Server) {
		s.authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
	}
}

// WithAPIKey requires the header "Authorization: ApiKey <key>" (key is the encoded id:api_key).
// Default: none required.
func WithAPIKey(key string) Option { return func(s *Server) { s.authorization = "ApiKey " + key } }

// WithTLS serves HTTPS with a self-signed certificate; Server.CACert returns it in PEM for clients.
// Default: plain HTTP.
func WithTLS() Option { return func(s *Server) { s.tls = true } }

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port (or https:// with WithTLS).
	URL string

	srv           *httptest.Server
	version       string
	authorization string
	tls           bool
	closed        chan struct{}
	closeOnce     sync.Once

	mu sync.Mutex
	// docs and byID hold what was indexed; byID maps index+"\x00"+_id to its position in docs.
	docs []Doc
	byID map[string]int
	// faults are applied to the next bulk requests, one each, in order; outage applies to every bulk
	// request while it is not zero.
	faults    []Fault
	outage    int
	itemFault func(Doc) *ItemFailure
	// changed is closed and replaced whenever docs or bulkRequests change (see WaitFor).
	changed chan struct{}
	// counters
	bulkRequests int
	gzipRequests int
	nextID       uint64
	seqNo        int64
}

// NewServer starts a Server on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{version: DefaultVersion, closed: make(chan struct{}), byID: make(map[string]int),
		changed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.serve)
	s.srv = httptest.NewUnstartedServer(mux)
	// Handshake failures are what some tests provoke; the client reports them.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if s.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	return s
}

// Close stops the server, releasing requests that hang.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// CACert returns the PEM certificate a client must trust to reach a WithTLS server (nil otherwise).
func (s *Server) CACert() []byte {
	if !s.tls {
		return nil
	}
	return certPEM(s.srv.Certificate())
}

// Inject queues faults: each applies to one of the next bulk requests, in order.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// SetOutage makes every bulk request fail with status (e.g. 503) until SetOutage(0).
func (s *Server) SetOutage(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = status
}

// FailItems makes f decide, for each document of later bulk requests, whether it fails (a non-nil
// result) instead of being indexed. f(nil) turns this off. f is called with the server's lock held:
// it must not call the server.
func (s *Server) FailItems(f func(Doc) *ItemFailure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemFault = f
}

// Docs returns a copy of the list of indexed documents, in the order they were indexed.
func (s *Server) Docs() []Doc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Doc(nil), s.docs...)
}

// DocCount returns how many documents were indexed.
func (s *Server) DocCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

// BulkRequests returns how many bulk requests reached the server (including failed ones).
func (s *Server) BulkRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bulkRequests
}

// GzipRequests returns how many bulk requests came with a gzip body.
func (s *Server) GzipRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gzipRequests
}

// WaitFor blocks until cond returns true or ctx ends (returning ctx's error). cond is called with the
// docs indexed so far and the number of bulk requests received, each time they change; it must not
// keep docs.
func (s *Server) WaitFor(ctx context.Context, cond func(docs []Doc, bulkRequests int) bool) error {
	for {
		s.mu.Lock()
		ok := cond(s.docs, s.bulkRequests)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return errors.New("estest: server closed")
		}
	}
}

// notify wakes WaitFor callers. s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Elastic-Product", "Elasticsearch")
	if s.authorization != "" {
		// The scheme is case-insensitive (the Go client sends "APIKey"); the credentials are not.
		scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		wantScheme, wantCred, _ := strings.Cut(s.authorization, " ")
		if !strings.EqualFold(scheme, wantScheme) || subtle.ConstantTimeCompare([]byte(cred), []byte(wantCred)) != 1 {
			h.Set("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
			h.Add("WWW-Authenticate", "ApiKey")
			writeError(w, http.StatusUnauthorized, "security_exception",
				"missing authentication credentials for REST request ["+r.URL.Path+"]")
			return
		}
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.info(w)
	case path == "/_bulk" || (strings.HasSuffix(path, "/_bulk") && strings.Count(path, "/") == 2):
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			writeError(w, http.StatusMethodNotAllowed, "",
				"Incorrect HTTP method for uri ["+r.URL.Path+"] and method ["+r.Method+"], allowed: [POST, PUT]")
			return
		}
		s.bulk(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/"), "_bulk"))
	case strings.HasSuffix(path, "/_refresh") && strings.Count(path, "/") == 2 && (r.Method == http.MethodPost || r.Method == http.MethodGet):
		s.refresh(w)
	case strings.HasSuffix(path, "/_search") && strings.Count(path, "/") == 2 && (r.Method == http.MethodPost || r.Method == http.MethodGet):
		s.search(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/_search"))
	default:
		writeError(w, http.StatusBadRequest, "illegal_argument_exception",
			"no handler found for uri ["+r.URL.Path+"] and method ["+r.Method+"] (estest implements GET /, _bulk, _refresh and counting _search)")
	}
}

func (s *Server) info(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"name":"estest","cluster_name":"estest","cluster_uuid":"estest-cluster",` +
		`"version":{"number":"` + s.version + `","build_flavor":"default","build_type":"docker",` +
		`"build_snapshot":false,"lucene_version":"10.2.2","minimum_wire_compatibility_version":"8.19.0",` +
		`"minimum_index_compatibility_version":"8.0.0"},"tagline":"You Know, for Search"}`))
}

// writeError writes an Elasticsearch error body.
func writeError(w http.ResponseWriter, status int, typ, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if typ == "" {
		_, _ = w.Write([]byte(`{"error":` + quote(reason) + `,"status":` + itoa(status) + `}`))
		return
	}
	cause := `{"type":` + quote(typ) + `,"reason":` + quote(reason) + `}`
	_, _ = w.Write([]byte(`{"error":{"root_cause":[` + cause + `],"type":` + quote(typ) + `,"reason":` +
		quote(reason) + `},"status":` + itoa(status) + `}`))
}
