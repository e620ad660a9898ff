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
	fwAny, langAny, rtAny                  bool
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

// context decodes the context of a transaction (tx true) or an error.
func (d *Decoder) context(ev *collector.Event, tx bool, custom *[]collector.KeyValue) bool {
	s := &d.s
	return d.object("v2.context", func(key []byte) bool {
		switch string(key) {
		case "custom":
			return d.keyValues(custom)
		case "tags":
			return d.labels(&d.pool.ls, "tags", false)
		case "service":
			c := d.coldW()
			return d.nested("service", func() bool { return d.contextService(&c.svc) })
		case "cloud":
			c := d.coldW()
			return d.nested("cloud", func() bool { return d.contextCloud(&c.cloudOrigin, &c.cloudSet) })
		case "user":
			c := d.coldW()
			c.userSet = d.nested("user", func() bool { return d.user(&c.user, "v2.user") })
			return c.userSet
		case "page":
			return d.nested("page", func() bool {
				p := &d.coldW().page
				return d.object("v2.contextPage", func(key []byte) bool {
					switch string(key) {
					case "referer":
						return d.textSet(&p.referer, &p.refererSet)
					case "url":
						return d.textSet(&p.url, &p.urlSet)
					}
					s.skip()
					return false
				})
			})
		case "request":
			c := d.coldW()
			return d.nested("request", func() bool { return d.request(&c.request) })
		case "message":
			c := d.coldW()
			return d.nested("message", func() bool { return d.message(&c.message, &c.messageSet, true) })
		case "response":
			c := d.coldW()
			return d.nested("response", func() bool { return d.response(&c.response) })
		}
		s.skip()
		return false
	})
}

func (d *Decoder) contextService(o *serviceOverride) bool {
	s := &d.s
	o.set = d.object("v2.contextService", func(key []byte) bool {
		switch string(key) {
		case "agent":
			return d.nested("agent", func() bool {
				return d.object("v2.contextServiceAgent", func(key []byte) bool {
					switch string(key) {
					case "ephemeral_id":
						return d.kwSet(&o.agentEphID, &o.agentEphSet, "ephemeral_id")
					case "name":
						return d.kwSet(&o.agentName, &o.agentNameSet, "name")
					case "version":
						return d.kwSet(&o.agentVersion, &o.agentVerSet, "version")
					}
					s.skip()
					return false
				})
			})
		case "environment":
			return d.kwSet(&o.environment, &o.envSet, "environment")
		case "framework":
			o.fwAny = d.nested("framework", func() bool {
				return d.nameVersionFlags(&o.framework, &o.frameworkSet, "v2.contextServiceFramework")
			}) || o.fwAny
			return o.fwAny
		case "id":
			_, ok := s.str()
			return ok
		case "language":
			o.langAny = d.nested("language", func() bool {
				return d.nameVersionFlags(&o.language, &o.languageSet, "v2.contextServiceLanguage")
			}) || o.langAny
			return o.langAny
		case "name":
			ok := d.kw(&o.name, "name")
			if ok && o.name != "" && !alphaNumericExt(o.name) {
				d.v.fail("'name': validation rule 'pattern(patternAlphaNumericExt)' violated")
			}
			o.nameSet = ok || o.nameSet
			return ok
		case "node":
			return d.member("node", "v2.contextServiceNode", "configured_name", func() bool {
				return d.kwSet(&o.nodeName, &o.nodeSet, "configured_name")
			})
		case "origin":
			o.originSet = d.nested("origin", func() bool {
				return d.object("v2.contextServiceOrigin", func(key []byte) bool {
					switch string(key) {
					case "id":
						return d.text(&o.origin.ID)
					case "name":
						return d.text(&o.origin.Name)
					case "version":
						return d.text(&o.origin.Version)
					}
					s.skip()
					return false
				})
			}) || o.originSet
			return o.originSet
		case "runtime":
			o.rtAny = d.nested("runtime", func() bool {
				return d.nameVersionFlags(&o.runtime, &o.runtimeSet, "v2.contextServiceRuntime")
			}) || o.rtAny
			return o.rtAny
		case "target":
			o.targetSet = d.nested("target", func() bool {
				return d.object("v2.contextServiceTarget", func(key []byte) bool {
					switch string(key) {
					case "name":
						return d.text(&o.target.Name)
					case "type":
						ok := d.text(&o.target.Type)
						o.targetTypeSet = ok || o.targetTypeSet
						return ok
					}
					s.skip()
					return false
				})
			}) || o.targetSet
			return o.targetSet
		case "version":
			return d.kw(&o.version, "version")
		}
		s.skip()
		return false
	}) || o.set
	return o.set
}

func (d *Decoder) nameVersionFlags(nv *collector.NameVersion, set *[2]bool, typeName string) bool {
	s := &d.s
	return d.object(typeName, func(key []byte) bool {
		switch string(key) {
		case "name":
			set[0] = d.kw(&nv.Name, "name") || set[0]
			return set[0]
		case "version":
			set[1] = d.kw(&nv.Version, "version") || set[1]
			return set[1]
		}
		s.skip()
		return false
	})
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

func applyNameVersion(dst, src *collector.NameVersion, set [2]bool) {
	if set[0] {
		dst.Name = src.Name
	}
	if set[1] {
		dst.Version = src.Version
	}
}

func (d *Decoder) contextCloud(origin *collector.CloudOrigin, set *bool) bool {
	s := &d.s
	ok := d.only("v2.contextCloud", "origin", func() bool {
		return d.nested("origin", func() bool {
			return d.object("v2.contextCloudOrigin", func(key []byte) bool {
				switch string(key) {
				case "account":
					return d.member("account", "v2.contextCloudOriginAccount", "id", func() bool {
						return d.text(&origin.AccountID)
					})
				case "provider":
					return d.text(&origin.Provider)
				case "region":
					return d.text(&origin.Region)
				case "service":
					return d.member("service", "v2.contextCloudOriginService", "name", func() bool {
						return d.text(&origin.ServiceName)
					})
				}
				s.skip()
				return false
			})
		})
	})
	*set = ok || *set
	return ok
}

func (d *Decoder) request(r *requestContext) bool {
	s := &d.s
	var methodSet bool
	set := d.object("v2.contextRequest", func(key []byte) bool {
		switch string(key) {
		case "cookies":
			return d.keyValues(&r.req.Cookies)
		case "env":
			return d.keyValues(&r.req.Env)
		case "body":
			switch c := s.peek(); c {
			case 'n':
				s.null()
				return false
			case '"', '{':
			default:
				d.v.fail("'body': validation rule 'inputTypes(string;object)' violated ")
			}
			r.req.Body, _ = d.rawValue()
			return true
		case "headers":
			hs, ok := d.headers()
			if ok {
				r.headers, r.headersSet = hs, true
				r.req.Headers = hs
			}
			return ok
		case "url":
			ok := d.nested("url", func() bool { return d.requestURL(&r.url) })
			r.urlSet = ok || r.urlSet
			return ok
		case "http_version":
			ok := d.kw(&r.version, "http_version")
			r.versionSet = ok || r.versionSet
			return ok
		case "method":
			ok := d.kw(&r.req.Method, "method")
			methodSet = ok || methodSet
			return ok
		case "socket":
			return d.nested("socket", func() bool {
				return d.object("v2.contextRequestSocket", func(key []byte) bool {
					switch string(key) {
					case "remote_address":
						return d.text(&r.socketAddr)
					case "encrypted":
						_, ok := s.bool()
						return ok
					}
					s.skip()
					return false
				})
			})
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !methodSet {
		d.v.required("method")
	}
	r.set = set || r.set
	return set
}

func (d *Decoder) requestURL(u *collector.URL) bool {
	s := &d.s
	return d.object("v2.contextRequestURL", func(key []byte) bool {
		switch string(key) {
		case "port":
			var port string
			ok := d.stringOrInt(&port, "port", true)
			if ok {
				if p, err := strconv.Atoi(port); err == nil {
					u.Port = uint16(p)
				}
			}
			return ok
		case "full":
			return d.kw(&u.Full, "full")
		case "hash":
			return d.kw(&u.Fragment, "hash")
		case "hostname":
			return d.kw(&u.Domain, "hostname")
		case "pathname":
			return d.kw(&u.Path, "pathname")
		case "protocol":
			ok := d.kw(&u.Scheme, "protocol")
			u.Scheme = strings.TrimSuffix(u.Scheme, ":")
			return ok
		case "raw":
			return d.kw(&u.Original, "raw")
		case "search":
			return d.kw(&u.Query, "search")
		}
		s.skip()
		return false
	})
}

func (d *Decoder) response(r *collector.HTTPResponse) bool {
	set := d.httpResponse("v2.contextResponse", r, &d.coldW().statusSet)
	c := d.coldW()
	c.responseSet = set || c.responseSet
	r.Present = r.Present || set
	return set
}

// httpResponse decodes an HTTP response object into r (typeName is apm-data's struct): a transaction's
// or an error's context.response, with finished and headers_sent, and *statusSet set when it has a
// status code; or, with statusSet nil, a span's context.http.response, which has neither.
func (d *Decoder) httpResponse(typeName string, r *collector.HTTPResponse, statusSet *bool) bool {
	s := &d.s
	return d.object(typeName, func(key []byte) bool {
		switch string(key) {
		case "headers":
			hs, ok := d.headers()
			if ok {
				r.Headers = hs
			}
			return ok
		case "status_code":
			v, ok := s.int()
			if ok {
				r.StatusCode = int32(v)
				if statusSet != nil {
					*statusSet = true
				}
			}
			return ok
		case "transfer_size":
			return d.optInt(&r.TransferSize)
		case "decoded_body_size":
			return d.optInt(&r.DecodedBodySize)
		case "encoded_body_size":
			return d.optInt(&r.EncodedBodySize)
		case "finished":
			if statusSet != nil {
				return d.optBool(&r.Finished)
			}
		case "headers_sent":
			if statusSet != nil {
				return d.optBool(&r.HeadersSent)
			}
		}
		s.skip()
		return false
	})
}

// message decodes context.message (transactions and spans).
func (d *Decoder) message(m *collector.Message, set *bool, tx bool) bool {
	s := &d.s
	ok := d.object("v2.contextMessage", func(key []byte) bool {
		switch string(key) {
		case "headers":
			hs, ok := d.headers()
			if ok {
				m.Headers = hs
			}
			return ok
		case "body":
			return d.text(&m.Body)
		case "queue":
			return d.member("queue", "v2.contextMessageQueue", "name", func() bool {
				return d.kw(&m.QueueName, "name")
			})
		case "routing_key":
			return d.text(&m.RoutingKey)
		case "age":
			return d.member("age", "v2.contextMessageAge", "ms", func() bool {
				return d.optInt(&m.AgeMillis)
			})
		}
		s.skip()
		return false
	})
	*set = ok || *set
	return ok
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
