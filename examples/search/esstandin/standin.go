package esstandin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Version is the Elasticsearch version the stand-in says it is (GET /): the go-elasticsearch client's.
const Version = "8.19.3"

const productHeader = "X-Elastic-Product"

// Defaults for Config's zero values.
const (
	DefaultMaxBulkBytes   = 100 << 20 // http.max_content_length
	DefaultMaxSearchBytes = 10 << 20
	DefaultMaxDocuments   = 1_000_000
)

// Config configures a StandIn. The zero value is a working, empty stand-in.
type Config struct {
	// MaxBulkBytes bounds a _bulk body; larger ones get 413. Default: DefaultMaxBulkBytes (100 MiB).
	MaxBulkBytes int64
	// MaxSearchBytes bounds every other body. Default: DefaultMaxSearchBytes (10 MiB).
	MaxSearchBytes int64
	// MaxDocuments bounds the documents (live and deleted) an index holds; writes past it fail with
	// 429. Default: DefaultMaxDocuments.
	MaxDocuments int
	// Logger logs requests answered with a 5xx. Default: no logs.
	Logger *zap.Logger
	// Overload schedules overload episodes, during which searches are slow. Default: none.
	Overload Overload
}

// StandIn is the Elasticsearch stand-in. Serve its Handler (loopback.Serve does it on 127.0.0.1).
type StandIn struct {
	cfg Config

	mu      sync.RWMutex // guards indices
	indices map[string]*index

	start              time.Time // when New was called: the origin of Overload's schedule
	searches           atomic.Int64
	work               atomic.Int64
	overloadedSearches atomic.Int64
}

// New returns an empty stand-in.
func New(cfg Config) *StandIn {
	if cfg.MaxBulkBytes <= 0 {
		cfg.MaxBulkBytes = DefaultMaxBulkBytes
	}
	if cfg.MaxSearchBytes <= 0 {
		cfg.MaxSearchBytes = DefaultMaxSearchBytes
	}
	if cfg.MaxDocuments <= 0 {
		cfg.MaxDocuments = DefaultMaxDocuments
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &StandIn{cfg: cfg, indices: map[string]*index{}, start: time.Now()}
}

// Stats are counters of the work the stand-in did.
type Stats struct {
	Searches int64 // searches answered (not failed)
	// Work is the searches' cost in units: postings read, documents scanned, hits sorted, and script
	// expression nodes evaluated (a script of n nodes on m documents is n × m). It grows with the
	// query: more terms, more clauses, larger scripts.
	Work int64
	// Overloaded is the searches slowed by an overload episode (Config.Overload).
	Overloaded int64
}

// Stats returns the counters since New.
func (s *StandIn) Stats() Stats {
	return Stats{Searches: s.searches.Load(), Work: s.work.Load(), Overloaded: s.overloadedSearches.Load()}
}

func (s *StandIn) index(name string) *index {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.indices[name]
}

// Handler returns the stand-in's HTTP handler: the subset of the Elasticsearch REST API described in the
// package documentation.
func (s *StandIn) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *StandIn) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	var status int
	var body []byte
	e := checkParams(r)
	if accept := r.Header.Get("Accept"); e == nil && strings.Contains(accept, "compatible-with=") && !strings.Contains(accept, "compatible-with=8") {
		e = errorf(http.StatusBadRequest, "media_type_header_exception", "Invalid media-type value on headers [Accept]: the stand-in speaks version 8 only")
	}
	switch {
	case e != nil:
	case len(parts) == 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		status, body = http.StatusOK, s.info()
	case len(parts) == 1 && parts[0] == "_bulk" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		status, body, e = s.serveBulk(w, r, "", start)
	case len(parts) == 2 && parts[1] == "_bulk" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		status, body, e = s.serveBulk(w, r, parts[0], start)
	case len(parts) == 1 && !strings.HasPrefix(parts[0], "_"):
		status, body, e = s.serveIndex(w, r, parts[0])
	case len(parts) == 2 && parts[1] == "_search" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		status, body, e = s.serveSearch(w, r, parts[0], start)
	case len(parts) == 2 && parts[1] == "_count" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		status, body, e = s.serveCount(w, r, parts[0])
	case len(parts) == 2 && parts[1] == "_refresh" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		if s.index(parts[0]) == nil {
			e = indexNotFound(parts[0])
		} else {
			status, body = http.StatusOK, []byte(`{"_shards":{"total":1,"successful":1,"failed":0}}`)
		}
	default:
		e = errorf(http.StatusBadRequest, "illegal_argument_exception",
			"no handler found for uri [%s] and method [%s] (the stand-in answers /, /_bulk and an index's PUT, HEAD, DELETE, _bulk, _search, _count, _refresh)", r.URL.Path, r.Method)
	}
	if e != nil {
		if e.Status >= 500 {
			s.cfg.Logger.Error("esstandin: request failed", zap.String("path", r.URL.Path), zap.String("error", e.Error()))
		}
		status, body = e.Status, e.body()
	}
	h := w.Header()
	h.Set(productHeader, "Elasticsearch")
	if strings.Contains(r.Header.Get("Accept"), "compatible-with=8") {
		h.Set("Content-Type", "application/vnd.elasticsearch+json;compatible-with=8")
	} else {
		h.Set("Content-Type", "application/json")
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	w.Write(body)
}

// checkParams refuses query string parameters the stand-in does not implement, as Elasticsearch refuses
// unknown ones; "refresh" is accepted (documents are searchable once written, whatever it says).
func checkParams(r *http.Request) *esError {
	for k, v := range r.URL.Query() {
		switch k {
		case "pretty", "human", "error_trace":
		case "refresh":
			switch v[0] {
			case "", "true", "false", "wait_for":
			default:
				return illegalArgument("Unknown value for refresh: [%s].", v[0])
			}
		default:
			return illegalArgument("request [%s] contains unrecognized parameter: [%s] (the stand-in implements few)", r.URL.Path, k)
		}
	}
	return nil
}

// readBody reads a request body of the given kind ("json" or "ndjson"), up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, ndjson bool) ([]byte, *esError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "content_too_long", "Request body is larger than %d bytes", limit)
		}
		return nil, illegalArgument("read body: %v", err)
	}
	if len(body) == 0 {
		return body, nil
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	ok := err == nil
	if ok {
		switch mt {
		case "application/json":
		case "application/x-ndjson":
			ok = ndjson
		case "application/vnd.elasticsearch+json", "application/vnd.elasticsearch+x-ndjson":
			ok = params["compatible-with"] == "8" && (ndjson || mt == "application/vnd.elasticsearch+json")
		default:
			ok = false
		}
	}
	if !ok {
		return nil, errorf(http.StatusNotAcceptable, "media_type_header_exception", "Content-Type header [%s] is not supported", ct)
	}
	return body, nil
}

func (s *StandIn) info() []byte {
	b, _ := json.Marshal(map[string]any{
		"name":         "esstandin",
		"cluster_name": "esstandin",
		"cluster_uuid": "esstandin-not-elasticsearch",
		"version": map[string]any{
			"number":                              Version,
			"build_flavor":                        "default",
			"build_type":                          "stand-in",
			"build_snapshot":                      false,
			"lucene_version":                      "9.12.2",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
	return b
}

// validIndexName checks a name as Elasticsearch does, in short: lower case, not starting with - _ +,
// none of \ / * ? " < > | space , #, not . or .., at most 255 bytes.
func validIndexName(name string) *esError {
	bad := name == "" || name == "." || name == ".." || len(name) > 255 || strings.ToLower(name) != name ||
		strings.ContainsAny(name, `\/*?"<>| ,#:`) || strings.IndexAny(name[:1], "-_+") == 0
	if bad {
		return errorf(http.StatusBadRequest, "invalid_index_name_exception", "Invalid index name [%s]", name)
	}
	return nil
}

func (s *StandIn) serveIndex(w http.ResponseWriter, r *http.Request, name string) (int, []byte, *esError) {
	switch r.Method {
	case http.MethodHead:
		if s.index(name) == nil {
			return http.StatusNotFound, nil, nil
		}
		return http.StatusOK, nil, nil
	case http.MethodPut:
		if e := validIndexName(name); e != nil {
			return 0, nil, e
		}
		body, e := readBody(w, r, s.cfg.MaxSearchBytes, false)
		if e != nil {
			return 0, nil, e
		}
		m, e := parseCreate(body)
		if e != nil {
			return 0, nil, e
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.indices[name]; ok {
			return 0, nil, errorf(http.StatusBadRequest, "resource_already_exists_exception", "index [%s/standin] already exists", name)
		}
		s.indices[name] = newIndex(name, m)
		b, _ := json.Marshal(map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
		return http.StatusOK, b, nil
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.indices[name]; !ok {
			return 0, nil, indexNotFound(name)
		}
		delete(s.indices, name)
		return http.StatusOK, []byte(`{"acknowledged":true}`), nil
	}
	return 0, nil, errorf(http.StatusMethodNotAllowed, "illegal_argument_exception", "Incorrect HTTP method for uri [%s] and method [%s], allowed: [HEAD, PUT, DELETE]", r.URL.Path, r.Method)
}

func (s *StandIn) serveBulk(w http.ResponseWriter, r *http.Request, index string, start time.Time) (int, []byte, *esError) {
	body, e := readBody(w, r, s.cfg.MaxBulkBytes, true)
	if e != nil {
		return 0, nil, e
	}
	actions, e := parseBulk(body, index)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, s.bulk(actions, start), nil
}

func (s *StandIn) serveSearch(w http.ResponseWriter, r *http.Request, name string, start time.Time) (int, []byte, *esError) {
	ix := s.index(name)
	if ix == nil {
		return 0, nil, indexNotFound(name)
	}
	body, e := readBody(w, r, s.cfg.MaxSearchBytes, false)
	if e != nil {
		return 0, nil, e
	}
	req, e := parseSearch(ix, body)
	if e != nil {
		return 0, nil, e
	}
	if !s.overloaded(r.Context(), start) {
		return 0, nil, errorf(http.StatusServiceUnavailable, "task_cancelled_exception", "the search was cancelled while the stand-in was overloaded")
	}
	out, e := s.search(ix, req, start)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, out, nil
}

func (s *StandIn) serveCount(w http.ResponseWriter, r *http.Request, name string) (int, []byte, *esError) {
	ix := s.index(name)
	if ix == nil {
		return 0, nil, indexNotFound(name)
	}
	body, e := readBody(w, r, s.cfg.MaxSearchBytes, false)
	if e != nil {
		return 0, nil, e
	}
	var q query = matchAllQuery{boost: 1}
	if len(bytes.TrimSpace(body)) > 0 {
		var top map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&top); err != nil {
			return 0, nil, errorf(http.StatusBadRequest, "x_content_parse_exception", "failed to parse the count body: %v", err)
		}
		for k, v := range top {
			if k != "query" {
				return 0, nil, parseError("request does not support [%s]", k)
			}
			p := &queryParser{ix: ix}
			if q, e = p.parse(v, 0); e != nil {
				return 0, nil, e
			}
		}
	}
	ix.mu.RLock()
	x := executor{ix: ix}
	h, e := x.run(q)
	ix.mu.RUnlock()
	if e != nil {
		return 0, nil, e
	}
	b, _ := json.Marshal(map[string]any{"count": len(h.docs),
		"_shards": map[string]int{"total": 1, "successful": 1, "skipped": 0, "failed": 0}})
	return http.StatusOK, b, nil
}
