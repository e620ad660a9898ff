package agent

import (
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

// patternNames turns http.ServeMux patterns into transaction names: a pattern that names a method
// ("GET /items/{id}") is the name; one that does not ("/items/{id}") gets the request's method in front.
// Those names are cached per pattern and standard method, so naming does not allocate once a route has been
// seen. The cache is bounded: patterns come from the mux's registrations, methods from the standard nine.
type patternNames struct {
	names atomic.Pointer[map[string]*[numMethods]string] // copy-on-write; the arrays are never modified
	mu    sync.Mutex                                     // serializes writers of names
}

func (p *patternNames) name(method, pattern string) string {
	if strings.ContainsAny(pattern, " \t") { // ServeMux: a pattern with a method has a blank after it
		return pattern
	}
	i := methodIndex(method)
	if i < 0 {
		return method + " " + pattern
	}
	if m := p.names.Load(); m != nil {
		if byMethod := (*m)[pattern]; byMethod != nil && byMethod[i] != "" {
			return byMethod[i]
		}
	}
	return p.add(i, method, pattern)
}

func (p *patternNames) add(i int, method, pattern string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.names.Load()
	next := make(map[string]*[numMethods]string, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	byMethod := new([numMethods]string)
	if prev := next[pattern]; prev != nil {
		*byMethod = *prev
	}
	if byMethod[i] == "" {
		byMethod[i] = method + " " + pattern
	}
	next[pattern] = byMethod
	p.names.Store(&next)
	return byMethod[i]
}
