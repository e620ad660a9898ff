package decoder

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/hotpath-apm/hotpath/collector"
)

func headerKey(h *collector.Header) string { return h.Key }

// rawHeader is a member of a header object before canonicalization: apm-data reads the object into a
// map first, so a repeated key keeps its last value, and only final values are type-checked.
type rawHeader struct {
	key    string
	values []string
	bad    string // the decode error of a value that is not a string or an array of strings
}

func rawHeaderKey(h *rawHeader) string { return h.key }

// headers reads an HTTP (or message) header object, as apm-data's nullable.HTTPHeader does: each value
// a string or an array of strings, keys canonicalized (textproto.CanonicalMIMEHeaderKey) and values of
// keys that canonicalize alike merged. It reports false for null; an empty object counts as set.
func (d *Decoder) headers() ([]collector.Header, bool) {
	s := &d.s
	switch c := s.peek(); c {
	case 'n':
		s.null()
		return nil, false
	case '{':
	default:
		s.skip()
		s.fail("invalid input type for HTTPHeader,")
		return nil, false
	}
	s.beginObject()
	raw := d.hdrTmp[:0]
	d.rawHdrIdx.reset()
	var key []byte
	for first := true; s.nextKey(&first, &key); {
		h := rawHeader{key: d.arena.str(key)}
		values := &d.pool.strs
		values.begin()
		switch c := s.peek(); {
		case c == '"':
			v, _ := s.str()
			*values.add() = v
		case c == '[':
			s.beginArray()
			for first := true; s.nextElem(&first); {
				if c := s.peek(); c != '"' {
					if h.bad == "" {
						h.bad = "invalid input for HTTPHeader slice value type: " + jsonGoType(c) + ","
					}
					s.skip()
					continue
				}
				v, _ := s.str()
				*values.add() = v
			}
		default:
			h.bad = "invalid input for HTTPHeader value type: " + jsonGoType(c) + ","
			s.skip()
		}
		if s.err != nil {
			d.hdrTmp = raw
			return nil, false
		}
		h.values = values.end()
		if i := find(&d.rawHdrIdx, raw, h.key, rawHeaderKey); i >= 0 {
			raw[i] = h
		} else {
			raw = append(raw, h)
		}
	}
	d.hdrTmp = raw
	if s.err != nil {
		return nil, false
	}
	hs := &d.pool.headers
	hs.begin()
	d.hdrIdx.reset()
	for _, h := range raw {
		if h.bad != "" {
			s.fail(h.bad)
			return nil, false
		}
		if len(h.values) == 0 {
			continue // http.Header.Add is never called: no key
		}
		k := d.arena.headerKey([]byte(h.key))
		r := hs.region()
		if i := find(&d.hdrIdx, r, k, headerKey); i >= 0 {
			r[i].Values = append(r[i].Values, h.values...)
			continue
		}
		*hs.add() = collector.Header{Key: k, Values: h.values}
	}
	return hs.end(), true
}

// jsonGoType names the Go type jsoniter decodes a JSON value starting with c into, as %T prints it.
func jsonGoType(c byte) string {
	switch {
	case c == '{':
		return "map[string]interface {}"
	case c == '[':
		return "[]interface {}"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "<nil>"
	case isNumberStart(c):
		return "json.Number"
	}
	return "string"
}

// headerValues returns the values of the header named by a canonical key.
func headerValues(hs []collector.Header, key string) []string {
	for i := range hs {
		if hs[i].Key == key {
			return hs[i].Values
		}
	}
	return nil
}

// firstHeader is http.Header.Get for a canonical key.
func firstHeader(hs []collector.Header, key string) string {
	if v := headerValues(hs, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// clientAddrFromHeaders returns the client address from Forwarded, X-Real-IP or X-Forwarded-For, in
// that order, as apm-data's netutil does.
func clientAddrFromHeaders(hs []collector.Header) (netip.Addr, uint16) {
	if f := forwardedFor(firstHeader(hs, "Forwarded")); f != "" {
		if ip, port := splitAddrPort(f); ip.IsValid() {
			return ip, port
		}
	}
	if ip, port := splitAddrPort(firstHeader(hs, "X-Real-Ip")); ip.IsValid() {
		return ip, port
	}
	if xff := firstHeader(hs, "X-Forwarded-For"); xff != "" {
		if sep := strings.IndexByte(xff, ','); sep > 0 {
			xff = xff[:sep]
		}
		return splitAddrPort(strings.TrimSpace(xff))
	}
	return netip.Addr{}, 0
}

// forwardedFor returns the for= parameter of the first element of a Forwarded header.
func forwardedFor(f string) string {
	if comma := strings.IndexByte(f, ','); comma != -1 {
		f = f[:comma]
	}
	var result string
	for f != "" {
		field := f
		if semi := strings.IndexByte(f, ';'); semi != -1 {
			field, f = f[:semi], f[semi+1:]
		} else {
			f = ""
		}
		eq := strings.IndexByte(field, '=')
		if eq == -1 {
			continue
		}
		key := strings.TrimSpace(field[:eq])
		value := strings.TrimSpace(field[eq+1:])
		if len(value) > 0 && value[0] == '"' {
			var err error
			if value, err = strconv.Unquote(value); err != nil {
				continue
			}
		}
		if strings.EqualFold(key, "for") {
			result = value
		}
	}
	return result
}

// splitAddrPort parses "host", "host:port" or "[host]:port" where host is an IP address.
func splitAddrPort(in string) (netip.Addr, uint16) {
	if in == "" {
		return netip.Addr{}, 0
	}
	if in[0] == '[' || (strings.Contains(in, ".") && strings.Contains(in, ":")) {
		if ap, err := netip.ParseAddrPort(in); err == nil {
			return ap.Addr().WithZone(""), ap.Port()
		}
		return netip.Addr{}, 0
	}
	if ip, err := netip.ParseAddr(in); err == nil {
		return ip.WithZone(""), 0
	}
	return netip.Addr{}, 0
}
