package otelattr

import (
	"net/url"
	"strconv"

	"github.com/hotpath-apm/hotpath/collector"
)

// ParseURL is apm-data's modelpb.ParseURL: url.* from a URL, with defaults for host and scheme.
func ParseURL(original, defaultHost, defaultScheme string) collector.URL {
	original = Truncate(original)
	u, err := url.Parse(original)
	if err != nil {
		return collector.URL{Original: original}
	}
	if u.Scheme == "" {
		u.Scheme = defaultScheme
		if u.Scheme == "" {
			u.Scheme = "http"
		}
	}
	if u.Host == "" {
		u.Host = defaultHost
	}
	out := collector.URL{
		Original: original,
		Scheme:   u.Scheme,
		Full:     Truncate(u.String()),
		Domain:   Truncate(u.Hostname()),
		Path:     Truncate(u.Path),
		Query:    Truncate(u.RawQuery),
		Fragment: u.Fragment,
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			out.Port = uint16(n)
		}
	}
	return out
}
