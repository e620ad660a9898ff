package intake

import (
	"net/http"
	"runtime/debug"
	"time"
)

// serverInfo is the body of GET / for an authenticated caller (or any caller when auth is off). Its
// fields are in the order APM Server writes them (sorted: it marshals a map).
type serverInfo struct {
	BuildDate    string `json:"build_date"`
	BuildSHA     string `json:"build_sha"`
	PublishReady bool   `json:"publish_ready"`
	Version      string `json:"version"`
}

// buildInfo reads the commit and its time from the binary's VCS stamp; without one (go test, go run
// outside a checkout) they are APM Server's zero values.
func buildInfo() (date, sha string) {
	date = time.Time{}.Format(time.RFC3339)
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return date, ""
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			sha = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				date = t.UTC().Format(time.RFC3339)
			}
		}
	}
	return date, sha
}

// serveRoot answers GET and HEAD / as APM Server's root handler: the server information to an
// authenticated caller, an empty 200 to an anonymous one (auth is optional here, so that load balancers
// can health-check), and 405 with a hint to other methods. Agents read "version" from it: the Go agent
// drops unsampled transactions only when the major version is 8 or more.
func (a *API) serveRoot(w http.ResponseWriter, r *http.Request, x *exchange) {
	method, _ := a.auth.authenticate(r.Header.Get("Authorization"))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		x.fail(w, r, http.StatusMethodNotAllowed, reasonMethod,
			"method not supported: this is the server information endpoint; did you mean to send data to another endpoint instead?")
		return
	}
	var body any
	if method != authAnonymous {
		info := a.info
		info.PublishReady = a.publishReady()
		body = info
	}
	x.reply(w, r, http.StatusOK, body)
}
