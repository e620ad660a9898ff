package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// Prefix is the path under which the API is served.
const Prefix = "/api/v1/"

// DefaultTimeout bounds the time one request may spend reading the store.
const DefaultTimeout = 10 * time.Second

// Config configures the API. The zero value of every field but Store means its default.
type Config struct {
	// Store is what the API reads. Required.
	Store Store

	// Profiles reads the stored profiles (profiles.go). Default: none, and the profile endpoints
	// answer 404.
	Profiles ProfileReader

	// Queries reads the query shapes' aggregates (queries.go). Default: none, and /queries and /query
	// answer 404.
	Queries QueryShapeReader

	// Dependencies reads the dependencies' aggregates (dependencies.go). Default: none, and
	// /dependencies and /dependency answer 404.
	Dependencies DependencyReader

	// Compare reads what comparisons need beyond Store (compare_store.go). Default: none, and
	// /api/v1/versions and /api/v1/compare answer 404.
	Compare CompareReader

	// Logger receives the errors the API answers 500 with (the request's path and the error; never
	// the Authorization header). Default: no logging.
	Logger *zap.Logger

	// Timeout bounds the time a request may spend reading the store; past it the API answers 503.
	// Default: DefaultTimeout.
	Timeout time.Duration

	// Now is the clock that "now" in time parameters and default ranges refer to. Default: time.Now.
	Now func() time.Time
}

// API answers the JSON query API. It is an http.Handler for the paths under Prefix; it serves only
// GET and HEAD (it is read-only) and checks no credentials: mount it behind the collector's
// authentication (intake.API.RequireAuth).
type API struct {
	cfg Config
	log *zap.Logger
	mux *http.ServeMux
}

// New returns the API, or an error if cfg.Store is nil.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("query: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	a.handle("services", a.services)
	a.handle("endpoints", a.endpoints)
	a.handle("endpoint", a.endpointStats)
	a.handle("breakdown", a.breakdown)
	a.handle("transactions", a.transactions)
	a.handle("traces/{trace_id}", a.trace)
	a.handle("errors", a.errorGroups)
	a.handle("failover", a.failover)
	a.handleProfiles()
	if cfg.Queries != nil {
		a.handle("queries", a.queries)
		a.handle("query", a.query)
	}
	if cfg.Dependencies != nil {
		a.handle("dependencies", a.dependencies)
		a.handle("dependency", a.dependency)
	}
	a.handleCompare()
	a.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusNotFound, errorJSON{Error: "no such API endpoint: " + r.URL.Path +
			" (see the query package's documentation for the endpoints)"})
	})
	return a, nil
}

// handlerFunc answers a request with a value to encode as JSON (or a file to send as it is), or an
// error that writeErr maps to a status.
type handlerFunc func(ctx context.Context, r *http.Request, p *params) (any, error)

func (a *API) handle(path string, h handlerFunc) {
	a.mux.HandleFunc(Prefix+path, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
		defer cancel()
		p := newParams(r.URL.Query(), a.cfg.Now())
		v, err := h(ctx, r, p)
		if err != nil {
			a.writeErr(w, r, err)
			return
		}
		if f, ok := v.(file); ok {
			writeFile(w, r, f)
			return
		}
		if err := writeJSON(w, r, http.StatusOK, v); err != nil {
			a.log.Error("query failed", zap.String("path", r.URL.Path), zap.Error(err))
		}
	})
}

// ServeHTTP serves the API's paths (under Prefix).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, r, http.StatusMethodNotAllowed, errorJSON{Error: "the query API is read-only: only GET and HEAD"})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// errorJSON is the body of every failure: {"error": message}, and the parameter at fault for a 400.
type errorJSON struct {
	Error     string `json:"error"`
	Parameter string `json:"parameter,omitempty"`
}

// errNotFound is answered 404 with its message.
type errNotFound struct{ msg string }

func (e errNotFound) Error() string { return e.msg }

// writeErr maps an error to its answer: 400 for a bad parameter (or cursor), 404 for nothing found,
// 503 when the store is closing or the request ran out of time, 500 otherwise (logged; the client
// gets no internals).
func (a *API) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var pe *ParamError
	var nf errNotFound
	switch {
	case errors.As(err, &pe):
		writeJSON(w, r, http.StatusBadRequest, errorJSON{Error: pe.Error(), Parameter: pe.Param})
	case errors.Is(err, collector.ErrBadCursor):
		writeJSON(w, r, http.StatusBadRequest, errorJSON{Error: `parameter "cursor": not a cursor of this query`, Parameter: "cursor"})
	case errors.As(err, &nf):
		writeJSON(w, r, http.StatusNotFound, errorJSON{Error: nf.msg})
	case errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, r, http.StatusServiceUnavailable, errorJSON{Error: "the query took longer than " + a.cfg.Timeout.String() + "; ask for a shorter range"})
	case errors.Is(err, context.Canceled):
		writeJSON(w, r, http.StatusServiceUnavailable, errorJSON{Error: "the request was canceled"})
	case errors.Is(err, collector.ErrShuttingDown):
		writeJSON(w, r, http.StatusServiceUnavailable, errorJSON{Error: "the collector is shutting down"})
	default:
		a.log.Error("query failed", zap.String("path", r.URL.Path), zap.Error(err))
		writeJSON(w, r, http.StatusInternalServerError, errorJSON{Error: "internal error reading the store (logged by the collector)"})
	}
}

// writeJSON answers status with v encoded as JSON. v is encoded before anything is written, so a value
// that does not encode (a time past year 9999 in a stored event...) is answered 500 rather than a 200
// with an empty or cut body; the error is returned for the caller to log.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		err = fmt.Errorf("query: encode the answer: %w", err)
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorJSON{Error: "internal error encoding the answer (logged by the collector)"})
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client went away: nothing left to tell it
	}
	return err
}

// file is an answer sent as a download (a profile's part) rather than as JSON.
type file struct {
	name string // safe in a quoted header value (fileNamePart)
	body []byte
}

func writeFile(w http.ResponseWriter, r *http.Request, f file) {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+f.name+`"`)
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(f.body) // the client went away: nothing left to tell it
	}
}
