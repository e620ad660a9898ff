package intake

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// clientIP returns the address of the agent that sent r, as APM Server records it in host.ip of
// backend events: the first address of the Forwarded, X-Real-IP or X-Forwarded-For header (in that
// order), else the connection's peer. Headers are trusted as APM Server trusts them: a proxy in front
// of the collector is expected to set them.
func clientIP(r *http.Request) netip.Addr {
	if ip := ForwardedIP(r.Header.Get); ip.IsValid() {
		return ip
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// ForwardedIP returns the client address a proxy recorded, as APM Server reads it: the first address
// of the Forwarded, X-Real-IP or X-Forwarded-For header, in that order; the zero Addr without one.
// header returns a header's first value (http.Header.Get, or a lookup in gRPC metadata).
func ForwardedIP(header func(name string) string) netip.Addr {
	if ip := forwardedFor(header("Forwarded")); ip.IsValid() {
		return ip
	}
	if ip := splitAddr(header("X-Real-Ip")); ip.IsValid() {
		return ip
	}
	if xff := header("X-Forwarded-For"); xff != "" {
		if i := strings.IndexByte(xff, ','); i > 0 {
			xff = xff[:i]
		}
		if ip := splitAddr(strings.TrimSpace(xff)); ip.IsValid() {
			return ip
		}
	}
	return netip.Addr{}
}

// forwardedFor returns the for= address of the first element of a Forwarded header (RFC 7239).
func forwardedFor(f string) netip.Addr {
	if i := strings.IndexByte(f, ','); i >= 0 {
		f = f[:i]
	}
	for f != "" {
		var field string
		field, f, _ = strings.Cut(f, ";")
		key, value, ok := strings.Cut(field, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(key), "for") {
			continue
		}
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, `"`) {
			var err error
			if value, err = strconv.Unquote(value); err != nil {
				continue
			}
		}
		return splitAddr(value)
	}
	return netip.Addr{}
}

// splitAddr parses "host", "host:port" or "[host]:port" and returns the address.
func splitAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	if s[0] == '[' || (strings.Contains(s, ".") && strings.Contains(s, ":")) {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr()
		}
		return netip.Addr{}
	}
	ip, _ := netip.ParseAddr(s)
	return ip
}
