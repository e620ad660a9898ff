package intake

import (
	"net/http"
	"os"
	"runtime/debug"
	"strings"
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

// buildInfo returns the build date and commit reported at GET /, from what the binary knows of its
// build (see buildInfoFrom).
func buildInfo() (date, sha string) {
	info, _ := debug.ReadBuildInfo()
	var built time.Time
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			built = fi.ModTime()
		}
	}
	return buildInfoFrom(info, built)
}

// pseudoVersion returns the commit time and short hash at the end of a Go pseudo-version
// (v0.0.0-20260101120000-abcdef123456, v1.2.4-0.20260101120000-abcdef123456), or ok false.
func pseudoVersion(v string) (t time.Time, sha string, ok bool) {
	v = strings.TrimSuffix(v, "+incompatible")
	const shaLen, timeLen = 12, 14
	if len(v) < shaLen+timeLen+2 || v[len(v)-shaLen-1] != '-' {
		return t, "", false
	}
	sha, v = v[len(v)-shaLen:], v[:len(v)-shaLen-1]
	stamp := v[len(v)-timeLen:]
	if c := v[len(v)-timeLen-1]; c != '-' && c != '.' || strings.Trim(sha, "0123456789abcdef") != "" {
		return t, "", false
	}
	t, err := time.Parse("20060102150405", stamp)
	return t, sha, err == nil
}

// buildInfoFrom takes the commit and its time from the binary's VCS stamp (go build in a checkout); else
// from the main module's pseudo-version (go install of a commit); else the date is built, the
// executable's modification time (go run builds it just before it runs), and the commit unknown ("").
// Without any, the date is APM Server's zero value.
func buildInfoFrom(info *debug.BuildInfo, built time.Time) (date, sha string) {
	var t time.Time
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				sha = s.Value
			case "vcs.time":
				t, _ = time.Parse(time.RFC3339, s.Value)
			}
		}
		if sha == "" {
			if pt, psha, ok := pseudoVersion(info.Main.Version); ok {
				t, sha = pt, psha
			}
		}
	}
	if t.IsZero() {
		t = built
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339), sha
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
