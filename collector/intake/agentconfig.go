package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Agent central configuration ("central config" in Kibana): agents poll GET or POST /config/v1/agents
// with their service name and environment, and apply the settings they get (sample rate, log level,
// capture_body...). APM Server reads them from Kibana; hotpath reads them from a JSON file, an array of
// entries:
//
//	[
//	  {"service": {"name": "search", "environment": "production"}, "settings": {"transaction_sample_rate": 0.2}},
//	  {"service": {"name": "search"}, "settings": {"transaction_sample_rate": "0.5", "log_level": "info"}},
//	  {"settings": {"capture_body": "errors"}}
//	]
//
// A query takes the first entry matching both name and environment; failing that the entry with its
// name and no environment, then the entry with its environment and no name, then the entry with
// neither (APM Server's precedence). Setting values may be strings, numbers or booleans; agents get them
// as strings. "etag" may be given per entry; otherwise it is a digest of the entry, so it is stable
// across restarts and changes exactly when the entry does. A service with no entry gets {} and the ETag
// "-". The file is re-read when its modification time or size changes; a file that stops parsing keeps
// the last good configuration in use (and is logged).

// etagNone is APM Server's ETag for "no configuration".
const etagNone = "-"

// agentConfigEntry is one entry of the configuration file.
type agentConfigEntry struct {
	Service struct {
		Name        string `json:"name"`
		Environment string `json:"environment"`
	} `json:"service"`
	AgentName string                     `json:"agent_name,omitempty"`
	Etag      string                     `json:"etag,omitempty"`
	Settings  map[string]json.RawMessage `json:"settings"`

	settings map[string]string // Settings as strings
}

// agentConfigs is the parsed file.
type agentConfigs []agentConfigEntry

// parseAgentConfigs parses and validates the file's content.
func parseAgentConfigs(b []byte) (agentConfigs, error) {
	var cfgs agentConfigs
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfgs); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected content after the array")
	}
	seen := make(map[[2]string]bool, len(cfgs))
	for i := range cfgs {
		c := &cfgs[i]
		key := [2]string{c.Service.Name, c.Service.Environment}
		if seen[key] {
			return nil, fmt.Errorf("entry %d: a second entry for service.name %q, service.environment %q", i, key[0], key[1])
		}
		seen[key] = true
		c.settings = make(map[string]string, len(c.Settings))
		for k, raw := range c.Settings {
			v, err := settingString(raw)
			if err != nil {
				return nil, fmt.Errorf("entry %d: setting %q: %w", i, k, err)
			}
			c.settings[k] = v
		}
		if c.Etag == "" {
			c.Etag = c.digest()
		}
	}
	return cfgs, nil
}

// settingString turns a setting's JSON value into the string agents get.
func settingString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return "", errors.New("empty value")
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case raw[0] == '{' || raw[0] == '[' || string(raw) == "null":
		return "", errors.New("must be a string, number or boolean")
	}
	return string(raw), nil // a number as written, or true/false
}

// digest is the entry's ETag when the file gives none: SHA-256 of its canonical content, as 32 hex
// digits (APM Server's are MD5-sized).
func (c *agentConfigEntry) digest() string {
	keys := make([]string, 0, len(c.settings))
	for k := range c.settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, s := range []string{c.Service.Name, c.Service.Environment, c.AgentName} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(c.settings[k]), c.settings[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// match returns the settings and ETag for a service, by APM Server's precedence.
func (cfgs agentConfigs) match(name, env string) (map[string]string, string) {
	var nameOnly, envOnly, neither *agentConfigEntry
	for i := range cfgs {
		c := &cfgs[i]
		switch {
		case c.Service.Name == name && c.Service.Environment == env:
			return c.settings, c.Etag
		case c.Service.Name == name && c.Service.Environment == "":
			nameOnly = c
		case c.Service.Name == "" && c.Service.Environment == env:
			envOnly = c
		case c.Service.Name == "" && c.Service.Environment == "":
			neither = c
		}
	}
	for _, c := range []*agentConfigEntry{nameOnly, envOnly, neither} {
		if c != nil {
			return c.settings, c.Etag
		}
	}
	return map[string]string{}, etagNone
}

// agentConfigFile serves the configuration file, re-reading it when it changes.
type agentConfigFile struct {
	path string
	log  *zap.Logger

	mu      sync.Mutex // guards the fields below
	cfgs    agentConfigs
	seen    bool // modTime and size describe the version of the file last read
	modTime time.Time
	size    int64
}

// maxAgentConfigFile bounds the file read into memory.
const maxAgentConfigFile = 8 << 20

// newAgentConfigFile loads path; an empty path or a missing file means no configuration, an invalid
// file is an error.
func newAgentConfigFile(path string, log *zap.Logger) (*agentConfigFile, error) {
	f := &agentConfigFile{path: path, log: log}
	if path == "" {
		return f, nil
	}
	if err := f.reload(); err != nil {
		return nil, fmt.Errorf("intake: agent configuration %s: %w", path, err)
	}
	return f, nil
}

// current returns the configuration, re-reading the file first if its size or modification time
// changed. A stat per query is cheap: agents poll every 30 s or so.
func (f *agentConfigFile) current() agentConfigs {
	if f.path == "" {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.reload(); err != nil {
		f.log.Error("agent configuration file unreadable; serving the previous one",
			zap.String("file.path", f.path), zap.Error(err))
	}
	return f.cfgs
}

// reload re-reads the file if it changed since it was last read; f.mu must be held (or f unshared). A
// version that fails to parse is remembered, so it is reported once, and the previous configuration
// stays in use.
func (f *agentConfigFile) reload() error {
	st, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		f.cfgs, f.seen = nil, false
		return nil
	}
	if err != nil {
		return err
	}
	if f.seen && st.ModTime().Equal(f.modTime) && st.Size() == f.size {
		return nil
	}
	f.seen, f.modTime, f.size = true, st.ModTime(), st.Size()
	b, err := readAtMost(f.path, maxAgentConfigFile)
	if err != nil {
		return err
	}
	cfgs, err := parseAgentConfigs(b)
	if err != nil {
		return err
	}
	f.cfgs = cfgs
	return nil
}

// readAtMost reads a file of at most limit bytes.
func readAtMost(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// agentConfigQuery is the body of POST /config/v1/agents (the GET form has the same in its query).
type agentConfigQuery struct {
	Service struct {
		Name        string `json:"name"`
		Environment string `json:"environment"`
	} `json:"service"`
	Etag string `json:"etag"`
}

// maxAgentConfigQuery bounds the body of POST /config/v1/agents.
const maxAgentConfigQuery = 64 << 10

// serveAgentConfig answers GET|POST /config/v1/agents as APM Server's agent config handler: errors with
// Cache-Control max-age=300, success with the configured max-age and the ETag (quoted), and 304 when
// If-None-Match (or the ifnonematch query parameter) names the current ETag.
func (a *API) serveAgentConfig(w http.ResponseWriter, r *http.Request, x *exchange) {
	if _, err := a.auth.authenticate(r.Header.Get("Authorization")); err != nil {
		// APM Server's auth middleware answers before the handler sets any header.
		x.fail(w, r, http.StatusUnauthorized, reasonUnauthorized, err.Error())
		return
	}
	w.Header().Set("Cache-Control", "max-age=300, must-revalidate")
	var q agentConfigQuery
	switch r.Method {
	case http.MethodGet:
		params := r.URL.Query()
		q.Service.Name, q.Service.Environment = params.Get("service.name"), params.Get("service.environment")
	case http.MethodPost:
		if err := json.NewDecoder(io.LimitReader(r.Body, maxAgentConfigQuery)).Decode(&q); err != nil {
			x.fail(w, r, http.StatusBadRequest, reasonInvalidQuery, err.Error())
			return
		}
	default:
		x.fail(w, r, http.StatusMethodNotAllowed, reasonMethod, "method not supported: "+r.Method)
		return
	}
	if q.Service.Name == "" {
		x.fail(w, r, http.StatusBadRequest, reasonInvalidQuery, "service.name is required")
		return
	}
	settings, etag := a.agentConfig.current().match(q.Service.Name, q.Service.Environment)

	h := w.Header()
	h.Set("Cache-Control", a.agentConfigCacheControl)
	h.Set("Etag", `"`+etag+`"`)
	h.Set("Access-Control-Expose-Headers", "Etag")
	if etag == ifNoneMatch(r) {
		x.reply(w, r, http.StatusNotModified, nil)
		return
	}
	x.reply(w, r, http.StatusOK, settings)
}

// ifNoneMatch returns the ETag the agent already has, without quotes.
func ifNoneMatch(r *http.Request) string {
	if h := r.Header.Get("If-None-Match"); h != "" {
		return strings.ReplaceAll(h, `"`, "")
	}
	return r.URL.Query().Get("ifnonematch")
}
