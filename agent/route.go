package agent

import (
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// The standard methods, in the order methodIndex numbers them.
const numMethods = 9

// methodIndex numbers the standard HTTP methods so names can be cached and precomputed per method; -1 for
// any other method.
func methodIndex(method string) int {
	switch method {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodPatch:
		return 4
	case http.MethodDelete:
		return 5
	case http.MethodConnect:
		return 6
	case http.MethodOptions:
		return 7
	case http.MethodTrace:
		return 8
	}
	return -1
}

// unknownRoute returns "METHOD unknown route", without allocating for the standard methods.
func unknownRoute(method string) string {
	switch method {
	case http.MethodGet:
		return "GET unknown route"
	case http.MethodHead:
		return "HEAD unknown route"
	case http.MethodPost:
		return "POST unknown route"
	case http.MethodPut:
		return "PUT unknown route"
	case http.MethodPatch:
		return "PATCH unknown route"
	case http.MethodDelete:
		return "DELETE unknown route"
	case http.MethodConnect:
		return "CONNECT unknown route"
	case http.MethodOptions:
		return "OPTIONS unknown route"
	case http.MethodTrace:
		return "TRACE unknown route"
	}
	return method + " unknown route"
}

// patternNames turns http.ServeMux patterns into transaction names and dispatchable routes (see route): a
// pattern that names a method ("GET /items/{id}") is the name; one that does not ("/items/{id}") gets the
// request's method in front. A pattern is parsed once, when it is first seen, so that naming and
// dispatching do not allocate once a route has been seen. The cache is bounded: patterns come from the
// mux's registrations.
type patternNames struct {
	routes atomic.Pointer[map[string]*route] // copy-on-write; the routes are never modified
	mu     sync.Mutex                        // serializes writers of routes
}

// route is what the agent knows of one ServeMux pattern.
type route struct {
	names    [numMethods]string // the transaction name per standard method
	pattern  string             // the pattern, and the name, if it names a method
	hasBlank bool               // the pattern names a method: it is the name
	segs     []segment          // the path's segments; nil if the pattern is not understood (then no dispatch)
	wild     int                // named wildcards among segs
}

// segment is one segment of a pattern's path, as the ServeMux parses it.
type segment struct {
	name   string // a wildcard's name; "" for a literal, {$} or the anonymous wildcard of a trailing slash
	wild   bool   // {name}, {name...} or a trailing slash
	multi  bool   // {name...}, or a trailing slash: the rest of the path
	dollar bool   // {$}: the path ends with a slash here
}

func (p *patternNames) name(method, pattern string) string {
	if namesMethod(pattern) { // the name, as it is: no lookup
		return pattern
	}
	return p.route(pattern).name(method)
}

// namesMethod reports whether a pattern the ServeMux accepted names a method ("GET /items/{id}"): its
// first blank, if any, ends the method, which comes before the host and the path's first slash.
func namesMethod(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case ' ', '\t':
			return true
		case '/':
			return false
		}
	}
	return false
}

// name is the transaction name of a request with method served by the route.
func (rt *route) name(method string) string {
	if rt.hasBlank {
		return rt.pattern
	}
	if i := methodIndex(method); i >= 0 {
		return rt.names[i]
	}
	return method + " " + rt.pattern
}

// route returns the route of pattern, parsing it the first time.
func (p *patternNames) route(pattern string) *route {
	if m := p.routes.Load(); m != nil {
		if rt := (*m)[pattern]; rt != nil {
			return rt
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.routes.Load()
	if old != nil {
		if rt := (*old)[pattern]; rt != nil {
			return rt
		}
	}
	next := make(map[string]*route, 1)
	if old != nil {
		maps.Copy(next, *old)
	}
	rt := parseRoute(pattern)
	next[pattern] = rt
	p.routes.Store(&next)
	return rt
}

// parseRoute parses a pattern the ServeMux accepted: "[METHOD ][HOST]/[PATH]", where METHOD is followed by
// blanks and PATH's segments are literals, {name}, {name...} (last), {$} (last), or a trailing slash.
func parseRoute(pattern string) *route {
	rt := &route{pattern: pattern}
	rest := pattern
	if i := strings.IndexAny(pattern, " \t"); i >= 0 {
		rt.hasBlank = true
		rest = strings.TrimLeft(pattern[i+1:], " \t")
	} else {
		for i := range rt.names {
			rt.names[i] = methodNames[i] + " " + pattern
		}
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return rt
	}
	rest = rest[i:]
	var segs []segment
	for rest != "" {
		rest = rest[1:] // the slash
		if rest == "" {
			segs = append(segs, segment{wild: true, multi: true})
			break
		}
		seg := rest
		rest = ""
		if i := strings.IndexByte(seg, '/'); i >= 0 {
			seg, rest = seg[:i], seg[i:]
		}
		if !strings.HasPrefix(seg, "{") {
			if strings.ContainsAny(seg, "{}") {
				return rt
			}
			segs = append(segs, segment{})
			continue
		}
		name, ok := strings.CutSuffix(seg[1:], "}")
		if !ok || rest != "" && (name == "$" || strings.HasSuffix(name, "...")) {
			return rt
		}
		switch {
		case name == "$":
			segs = append(segs, segment{dollar: true})
		case strings.HasSuffix(name, "..."):
			segs = append(segs, segment{name: strings.TrimSuffix(name, "..."), wild: true, multi: true})
			rt.wild++
		default:
			segs = append(segs, segment{name: name, wild: true})
			rt.wild++
		}
	}
	rt.segs = segs
	return rt
}

// methodNames are the standard methods in methodIndex's order.
var methodNames = [numMethods]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace}

// serves reports whether the ServeMux, having matched r to the route (ServeMux.Handler), dispatches r to
// the route's handler with nothing but the pattern to give it, and if so sets r.Pattern as the ServeMux
// would: the route has no named wildcard (a ServeMux gives a handler its path values, which only it can
// store without a map: Request.SetPathValue costs more than the match it would save), and r's path
// matches the pattern segment for segment (otherwise the ServeMux answers with a redirect: an unclean
// path, a missing trailing slash). It does not modify r when it reports false.
func (rt *route) serves(r *http.Request) bool {
	if rt.segs == nil || rt.wild > 0 {
		return false
	}
	// The ServeMux matches the escaped path's segments. Without a RawPath, they are URL.Path's: escaping
	// keeps the slashes and dots, which are all that is looked at here.
	path := r.URL.Path
	if r.URL.RawPath != "" {
		path = r.URL.EscapedPath()
	}
	rest := path
	for _, s := range rt.segs {
		if rest == "" || rest[0] != '/' {
			return false
		}
		if s.dollar {
			if rest != "/" {
				return false
			}
			rest = ""
			break
		}
		if s.multi {
			if !cleanPath(rest) {
				return false
			}
			rest = ""
			break
		}
		seg := rest[1:]
		rest = ""
		if i := strings.IndexByte(seg, '/'); i >= 0 {
			seg, rest = seg[:i], seg[i:]
		}
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	if rest != "" {
		return false
	}
	r.Pattern = rt.pattern
	return true
}

// cleanPath reports whether the path (starting with a slash) has no empty, "." or ".." segment but
// perhaps a last empty one: path.Clean keeps it (ServeMux cleans paths so, and redirects unclean ones).
func cleanPath(p string) bool {
	for p != "" {
		p = p[1:]
		seg := p
		p = ""
		if i := strings.IndexByte(seg, '/'); i >= 0 {
			seg, p = seg[:i], seg[i:]
		}
		if seg == "." || seg == ".." || seg == "" && p != "" {
			return false
		}
	}
	return true
}
