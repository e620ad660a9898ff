package agent

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// redacted is what the agent records instead of a secret; the same marker the Elastic agent's sanitizer uses.
const redacted = "[REDACTED]"

// envSanitizeFieldNames is the Elastic agent's setting of the field names it redacts.
const envSanitizeFieldNames = "ELASTIC_APM_SANITIZE_FIELD_NAMES"

// defaultSanitizedFieldNames are the Elastic Go agent's default sanitized field names (its
// ELASTIC_APM_SANITIZE_FIELD_NAMES default), which the agent applies to query strings whatever that
// variable says.
const defaultSanitizedFieldNames = "password,passwd,pwd,secret,*key,*token*,*session*,*credit*,*card*,*auth*," +
	"set-cookie,*principal*"

// fieldNames are the sanitizer's field names as lower-case wildcard patterns ("*" matches any run of
// characters), matched without regard to ASCII case.
type fieldNames []string

// sanitizedFieldNames returns the Elastic agent's default names plus those of
// ELASTIC_APM_SANITIZE_FIELD_NAMES (comma-separated; a "(?-i)" prefix is dropped: matching without case
// only redacts more), as read from getenv.
func sanitizedFieldNames(getenv func(string) string) fieldNames {
	var names fieldNames
	for p := range strings.SplitSeq(defaultSanitizedFieldNames+","+getenv(envSanitizeFieldNames), ",") {
		p = strings.TrimPrefix(strings.TrimSpace(p), "(?-i)")
		if p != "" {
			names = append(names, strings.ToLower(p))
		}
	}
	return names
}

// match reports whether name matches one of the patterns. It does not allocate.
func (f fieldNames) match(name string) bool {
	for _, p := range f {
		if globFold(p, name) {
			return true
		}
	}
	return false
}

// globFold reports whether s matches the lower-case pattern p, in which "*" matches any run of bytes,
// folding s's ASCII letters to lower case.
func globFold(p, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0 // the last star seen, and where s resumes if matching after it fails
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; {
			case c == '*':
				starPx, starSx = px, sx+1
				px++
				continue
			case sx < len(s) && lowerASCII(s[sx]) == c:
				px++
				sx++
				continue
			}
		}
		if starPx >= 0 && starSx <= len(s) {
			px, sx = starPx+1, starSx
			starSx++
			continue
		}
		return false
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// The headers that are always redacted, whatever the sanitizer's names, besides Cookie.
const (
	headerAuthorization      = "Authorization"
	headerProxyAuthorization = "Proxy-Authorization"
	headerAPIKey             = "X-Api-Key"
)

// hasCredentials reports whether h holds one of the always-redacted headers or a cookie.
func hasCredentials(h http.Header) bool {
	return h[headerAuthorization] != nil || h[headerProxyAuthorization] != nil || h[headerAPIKey] != nil ||
		h["Cookie"] != nil
}

// redactedCopy returns the request the tracer records instead of r when r carries something the agent
// never records, or nil when it does not (then r is recorded as it is, at no cost but a few map lookups
// and a scan of the query string), and whether r's body is kept from the tracer (form):
//
//   - Authorization, Proxy-Authorization and X-Api-Key are "[REDACTED]", every cookie keeps its name
//     but not its value (the Elastic agent redacts a cookie only when its name matches a sanitized
//     field name, so a cookie called "sid" would otherwise be sent);
//   - the values of query parameters whose names match names are "[REDACTED]" (the Elastic agent
//     sends the query string as it is, in url.full and url.search);
//   - a form body (application/x-www-form-urlencoded, multipart/form-data) is not given to the tracer
//     at all: with ELASTIC_APM_CAPTURE_BODY on, the agent would send it raw when the handler parsed it
//     from another request value, unsanitized.
//
// This happens before the tracer sees the request, so the errors captured during the handler
// (apm.CaptureError(r.Context(), err), which records the request the body capturer holds) carry the
// redacted request too; the handler is given r as it came.
func (f fieldNames) redactedCopy(r *http.Request) (c *http.Request, form bool) {
	h := r.Header
	headers := hasCredentials(h)
	query := r.URL != nil && r.URL.RawQuery != "" && f.sensitiveQuery(r.URL.RawQuery)
	form = r.Body != nil && r.Body != http.NoBody && isForm(h["Content-Type"])
	if !headers && !query && !form {
		return nil, false
	}
	return f.redact(r, headers, query, form), form
}

// redact returns redactedCopy's copy of r.
func (f fieldNames) redact(r *http.Request, headers, query, form bool) *http.Request {
	h := r.Header
	c := new(http.Request)
	*c = *r
	if headers {
		c.Header = redactHeader(h)
	}
	if query {
		u := *r.URL
		u.RawQuery = f.redactQuery(u.RawQuery)
		c.URL = &u
	}
	if form {
		c.Body, c.GetBody, c.ContentLength = http.NoBody, nil, 0
	}
	return c
}

func isForm(contentType []string) bool {
	if len(contentType) == 0 {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType[0])
	return err == nil && (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data")
}

// redactHeader returns a copy of h with the always-redacted headers "[REDACTED]" and the cookie values
// redacted; h is not modified.
func redactHeader(h http.Header) http.Header {
	c := make(http.Header, len(h))
	for k, v := range h {
		c[k] = v
	}
	for _, name := range [...]string{headerAuthorization, headerProxyAuthorization, headerAPIKey} {
		if h[name] != nil {
			c[name] = []string{redacted}
		}
	}
	if cookies := h["Cookie"]; cookies != nil {
		c["Cookie"] = []string{redactCookies(cookies)}
	}
	return c
}

// redactRequest redacts, in place, the always-redacted headers and cookies of r, the agent's own copy
// of the request (apmhttp's), when the handler has returned: a handler that added credentials to the
// header map it was given does not have them recorded either. A request without those headers costs
// four map lookups.
func redactRequest(r *http.Request) {
	if hasCredentials(r.Header) {
		r.Header = redactHeader(r.Header)
	}
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

// sensitiveQuery reports whether a parameter of the raw query string q has a name that matches f.
func (f fieldNames) sensitiveQuery(q string) bool {
	for q != "" {
		var part string
		part, q, _ = strings.Cut(q, "&")
		if f.sensitiveParam(part) {
			return true
		}
	}
	return false
}

// sensitiveParam reports whether the name of the raw parameter part ("name=value", "name") matches f,
// as it is or unescaped.
func (f fieldNames) sensitiveParam(part string) bool {
	name, _, _ := strings.Cut(part, "=")
	if f.match(name) {
		return true
	}
	if strings.ContainsAny(name, "%+") {
		if u, err := url.QueryUnescape(name); err == nil && f.match(u) {
			return true
		}
	}
	return false
}

// redactQuery returns the raw query string q with the values of the parameters whose names match f
// replaced by "[REDACTED]"; the other parameters and the order are kept as they were.
func (f fieldNames) redactQuery(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; q != ""; i++ {
		var part string
		part, q, _ = strings.Cut(q, "&")
		if i > 0 {
			b.WriteByte('&')
		}
		if f.sensitiveParam(part) {
			name, _, _ := strings.Cut(part, "=")
			b.WriteString(name)
			b.WriteString("=" + redacted)
			continue
		}
		b.WriteString(part)
	}
	return b.String()
}

// redactURL returns u, or a copy of it without what it must not record: the values of sensitive query
// parameters and the password of its user information.
func (f fieldNames) redactURL(u *url.URL) *url.URL {
	_, hasPassword := u.User.Password()
	query := f.sensitiveQuery(u.RawQuery)
	if !hasPassword && !query {
		return u
	}
	c := *u
	if hasPassword {
		c.User = url.UserPassword(u.User.Username(), redacted)
	}
	if query {
		c.RawQuery = f.redactQuery(u.RawQuery)
	}
	return &c
}
