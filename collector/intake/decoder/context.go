package decoder

import (
	"strconv"
	"strings"

	"github.com/hotpath-apm/hotpath/collector"
)

// serviceOverride is context.service of an event: what it sets replaces the metadata's service fields
// (apm-data's mapToServiceModel and mapToAgentModel).
type serviceOverride struct {
	set                                    bool
	environment, name, version, nodeName   string
	envSet, nameSet, nodeSet               bool
	framework, language, runtime           collector.NameVersion
	frameworkSet, languageSet, runtimeSet  [2]bool // name, version set
	origin                                 collector.ServiceOrigin
	originSet                              bool
	target                                 collector.ServiceTarget
	targetSet, targetTypeSet               bool
	agentName, agentVersion, agentEphID    string
	agentNameSet, agentVerSet, agentEphSet bool
}

// requestContext is context.request of a transaction or error.
type requestContext struct {
	set        bool
	req        collector.HTTPRequest
	version    string
	versionSet bool
	headers    []collector.Header
	headersSet bool
	socketAddr string
	url        collector.URL
	urlSet     bool
}

// pageContext is context.page (RUM).
type pageContext struct {
	url, referer       string
	urlSet, refererSet bool
}

// applyService applies context.service over the metadata's service and agent.
func applyService(o *serviceOverride, svc *collector.Service, agent *collector.Agent) {
	if o.envSet {
		svc.Environment = o.environment
	}
	applyNameVersion(&svc.Framework, &o.framework, o.frameworkSet)
	applyNameVersion(&svc.Language, &o.language, o.languageSet)
	if o.nameSet {
		svc.Name = o.name
		svc.Version = o.version // set together with the name, even when absent
	}
	if o.nodeSet {
		svc.NodeName = o.nodeName
	}
	applyNameVersion(&svc.Runtime, &o.runtime, o.runtimeSet)
	if o.originSet {
		svc.Origin = o.origin
	}
	if o.targetSet {
		svc.Target = o.target
	}
	if o.agentNameSet {
		agent.Name = o.agentName
	}
	if o.agentVerSet {
		agent.Version = o.agentVersion
	}
	if o.agentEphSet {
		agent.EphemeralID = o.agentEphID
	}
}

// serviceName reads a service name, which must match apm-data's patternAlphaNumericExt; the metadata's
// (required) must not be empty either.
func (d *Decoder) serviceName(dst *string, required bool) bool {
	var ok bool
	if required {
		ok = d.kwMin1(dst, "name")
	} else {
		ok = d.kw(dst, "name")
	}
	if ok && *dst != "" && !alphaNumericExt(*dst) {
		d.v.fail("'name': validation rule 'pattern(patternAlphaNumericExt)' violated")
	}
	return ok
}

func applyNameVersion(dst, src *collector.NameVersion, set [2]bool) {
	if set[0] {
		dst.Name = src.Name
	}
	if set[1] {
		dst.Version = src.Version
	}
}

// contextUser decodes context.user, which replaces the metadata's user whole.
func (d *Decoder) contextUser() bool {
	c := d.coldW()
	c.userSet = d.user(&c.user)
	return c.userSet
}

// requestBody reads context.request.body, a string or an object kept as normalized JSON.
func (d *Decoder) requestBody(dst *collector.RawJSON) bool {
	s := &d.s
	switch c := s.peek(); c {
	case 'n':
		s.null()
		return false
	case '"', '{':
	default:
		d.v.fail("'body': validation rule 'inputTypes(string;object)' violated ")
	}
	*dst, _ = d.rawValue()
	return true
}

// port reads context.request.url.port, a string or a number; u.Port is set when it is a port number.
func (d *Decoder) port(u *collector.URL) bool {
	var port string
	ok := d.stringOrInt(&port, "port", true)
	if ok {
		if p, err := strconv.Atoi(port); err == nil {
			u.Port = uint16(p)
		}
	}
	return ok
}

// protocol reads context.request.url.protocol, without the ':' that ends it in a browser's location.
func (d *Decoder) protocol(u *collector.URL) bool {
	ok := d.kw(&u.Scheme, "protocol")
	u.Scheme = strings.TrimSuffix(u.Scheme, ":")
	return ok
}

// response decodes the context.response of a transaction or an error.
func (d *Decoder) response() bool {
	c := d.coldW()
	r := &c.response
	set := d.httpResponse("v2.contextResponse", r, &c.statusSet)
	c.responseSet = set || c.responseSet
	r.Present = r.Present || set
	return set
}

// responseFlag reads finished or headers_sent of a response that has them (read true: a transaction's
// or an error's); a span's has neither, and skips them.
func (d *Decoder) responseFlag(dst *collector.Optional[bool], read bool) bool {
	if read {
		return d.optBool(dst)
	}
	d.s.skip()
	return false
}

func (d *Decoder) optInt(dst *collector.Optional[int64]) bool {
	v, ok := d.s.int()
	if ok {
		*dst = collector.Some(v)
	}
	return ok
}

func (d *Decoder) optBool(dst *collector.Optional[bool]) bool {
	v, ok := d.s.bool()
	if ok {
		*dst = collector.Some(v)
	}
	return ok
}

// applyClient sets user agent, client and source the way apm-data derives them from
// context.request, over what the base event and metadata set.
func applyClient(ev *collector.Event, r *requestContext) {
	if r.headersSet {
		if ua := headerValues(r.headers, "User-Agent"); len(ua) > 0 {
			if len(ua) == 1 {
				ev.UserAgent.Original = ua[0]
			} else {
				ev.UserAgent.Original = strings.Join(ua, ", ")
			}
		}
	}
	if !ev.Source.IP.IsValid() && r.socketAddr != "" {
		if ip, port := splitAddrPort(r.socketAddr); ip.IsValid() {
			ev.Source.IP, ev.Source.Port = ip, port
		}
	}
	if !ev.Client.IP.IsValid() {
		if ev.Source.IP.IsValid() {
			ev.Client.IP = ev.Source.IP
		}
		if len(r.headers) == 0 {
			return
		}
		if ip, port := clientAddrFromHeaders(r.headers); ip.IsValid() {
			if ev.Source.IP.IsValid() {
				ev.Source.NATIP = ev.Source.IP
			}
			ev.Client.IP, ev.Client.Port = ip, port
			ev.Source.IP, ev.Source.Port = ip, port
		}
	}
}
