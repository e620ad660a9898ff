package agent

import (
	"net/http"
	"strings"
)

// redacted is what the agent records instead of a secret; the same marker the Elastic agent's sanitizer uses.
const redacted = "[REDACTED]"

// redactRequest makes sure the credentials a request carries are not recorded, whatever the tracer's
// ELASTIC_APM_SANITIZE_FIELD_NAMES says: it replaces r.Header by a copy in which Authorization and
// Proxy-Authorization are "[REDACTED]" and every cookie keeps its name but not its value. (The Elastic
// agent redacts cookies only when their name matches a sanitized field name, so a cookie called "sid" would
// otherwise be sent.)
//
// r must be the agent's own copy of the request (the one apmhttp made and records from), and the handler
// must have returned: the handler's request and the header map it saw are not modified. A request without
// those headers costs three map lookups.
func redactRequest(r *http.Request) {
	h := r.Header
	auth, proxyAuth, cookies := h["Authorization"], h["Proxy-Authorization"], h["Cookie"]
	if auth == nil && proxyAuth == nil && cookies == nil {
		return
	}
	c := make(http.Header, len(h))
	for k, v := range h {
		c[k] = v
	}
	if auth != nil {
		c["Authorization"] = []string{redacted}
	}
	if proxyAuth != nil {
		c["Proxy-Authorization"] = []string{redacted}
	}
	if cookies != nil {
		c["Cookie"] = []string{redactCookies(cookies)}
	}
	r.Header = c
}

// redactCookies turns Cookie header lines into one line with the same cookie names and redacted values:
// "sid=abc; theme=dark" becomes "sid=[REDACTED]; theme=[REDACTED]". Parts that are not name=value are
// dropped.
func redactCookies(lines []string) string {
	var b strings.Builder
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			name, _, ok := strings.Cut(part, "=")
			name = strings.TrimSpace(name)
			if !ok || name == "" { // a part without "=" is no cookie, and may be a bare secret: drop it
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(name)
			b.WriteString("=" + redacted)
		}
	}
	return b.String()
}
