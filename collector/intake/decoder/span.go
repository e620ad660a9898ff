package decoder

import (
	"strings"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

const typeSpan = "v2.span"

// spanHTTP is context.http of a span.
type spanHTTP struct {
	method      string
	methodSet   bool
	reqID       string
	reqIDSet    bool
	body        collector.RawJSON
	bodyKept    bool
	requestSet  bool
	response    collector.HTTPResponse
	responseSet bool
	statusCode  int64
	statusSet   bool
	url         string
	urlSet      bool
}

func (d *Decoder) composite(sp *collector.Span) bool {
	s := &d.s
	c := d.pool.composite.one()
	var strategySet, countSet, sumSet bool
	set := d.object("v2.spanComposite", func(key []byte) bool {
		switch string(key) {
		case "compression_strategy":
			return d.textSet(&c.CompressionStrategy, &strategySet)
		case "count":
			v, ok := d.intMin("count", 2)
			if ok {
				c.Count, countSet = int32(v), true
			}
			return ok
		case "sum":
			v, ok := d.floatMin0("sum")
			if ok {
				c.SumMillis, sumSet = v, true
			}
			return ok
		}
		s.skip()
		return false
	})
	if set && s.err == nil {
		switch {
		case !strategySet:
			d.v.required("compression_strategy")
		case !countSet:
			d.v.required("count")
		case !sumSet:
			d.v.required("sum")
		}
	}
	if set {
		switch c.CompressionStrategy {
		case "exact_match", "same_kind":
		default:
			c.CompressionStrategy = ""
		}
		sp.Composite = c
	}
	return set
}

func (d *Decoder) spanContext(ev *collector.Event, sp *collector.Span) bool {
	s := &d.s
	return d.object("v2.spanContext", func(key []byte) bool {
		switch string(key) {
		case "tags":
			return d.labels(&d.pool.ls, "tags", false)
		case "service":
			c := d.coldW()
			return d.nested("service", func() bool { return d.contextService(&c.svc) })
		case "message":
			c := d.coldW()
			return d.nested("message", func() bool { return d.message(&c.message, &c.messageSet, false) })
		case "db":
			return d.nested("db", func() bool { return d.db(sp) })
		case "destination":
			return d.nested("destination", d.destination)
		case "http":
			return d.nested("http", d.spanContextHTTP)
		}
		s.skip()
		return false
	})
}

func (d *Decoder) db(sp *collector.Span) bool {
	s := &d.s
	db := d.pool.db.one()
	set := d.object("v2.spanContextDatabase", func(key []byte) bool {
		switch string(key) {
		case "instance":
			return d.text(&db.Instance)
		case "link":
			return d.kw(&db.Link, "link")
		case "statement":
			return d.text(&db.Statement)
		case "type":
			return d.text(&db.Type)
		case "user":
			return d.text(&db.UserName)
		case "rows_affected":
			v, ok := s.int()
			if ok {
				db.RowsAffected = collector.Some(int64(uint32(v)))
			}
			return ok
		}
		s.skip()
		return false
	})
	if set {
		sp.DB = db
	}
	return set
}

func (d *Decoder) destination() bool {
	s := &d.s
	e := d.coldW()
	return d.object("v2.spanContextDestination", func(key []byte) bool {
		switch string(key) {
		case "service":
			return d.nested("service", func() bool {
				ds := d.pool.destsvc.one()
				var resourceSet bool
				set := d.object("v2.spanContextDestinationService", func(key []byte) bool {
					switch string(key) {
					case "name":
						return d.kw(&ds.Name, "name")
					case "resource":
						ok := d.kw(&ds.Resource, "resource")
						resourceSet = resourceSet || ok
						return ok
					case "type":
						return d.kw(&ds.Type, "type")
					}
					s.skip()
					return false
				})
				if set && s.err == nil && !resourceSet {
					d.v.required("resource")
				}
				if set {
					e.destSvc = ds
					e.destResource, e.destResourceSet = ds.Resource, resourceSet
				}
				return set
			})
		case "address":
			ok := d.kw(&e.destAddress, "address")
			e.destAddressSet = e.destAddressSet || ok
			return ok
		case "port":
			v, ok := s.int()
			if ok {
				e.destPort, e.destPortSet = v, true
			}
			return ok
		}
		s.skip()
		return false
	})
}

func (d *Decoder) spanContextHTTP() bool {
	s := &d.s
	h := &d.coldW().spanHTTP
	return d.object("v2.spanContextHTTP", func(key []byte) bool {
		switch string(key) {
		case "request":
			ok := d.nested("request", func() bool {
				return d.object("v2.spanContextHTTPRequest", func(key []byte) bool {
					switch string(key) {
					case "body":
						if s.peek() == 'n' {
							s.null()
							return false
						}
						h.body, h.bodyKept = d.rawValue()
						return true
					case "id":
						ok := d.text(&h.reqID)
						h.reqIDSet = h.reqIDSet || ok
						return ok
					}
					s.skip()
					return false
				})
			})
			h.requestSet = h.requestSet || ok
			return ok
		case "method":
			ok := d.kw(&h.method, "method")
			h.methodSet = h.methodSet || ok
			return ok
		case "url":
			ok := d.text(&h.url)
			h.urlSet = h.urlSet || ok
			return ok
		case "response":
			ok := d.nested("response", func() bool {
				h.response = collector.HTTPResponse{}
				return d.httpResponse("v2.spanContextHTTPResponse", &h.response, nil)
			})
			h.responseSet = h.responseSet || ok
			h.response.Present = h.responseSet
			return ok
		case "status_code":
			v, ok := s.int()
			if ok {
				h.statusCode, h.statusSet = v, true
			}
			return ok
		}
		s.skip()
		return false
	})
}

// finishSpan applies apm-data's mapToSpanModel.
func (d *Decoder) finishSpan(ev *collector.Event) {
	e := &d.ev
	c := d.coldR()
	sp := ev.Span
	if !e.actionSet && !e.subtypeSet {
		before, after, ok := strings.Cut(e.typ, ".")
		sp.Type = before
		if ok {
			sp.Subtype, sp.Action, _ = strings.Cut(after, ".")
		}
	} else {
		sp.Action, sp.Subtype, sp.Type = e.action, e.subtype, e.typ
	}
	if c.destAddressSet || c.destPortSet {
		if c.destAddressSet {
			ev.Destination.Address = c.destAddress
		}
		if c.destPortSet {
			ev.Destination.Port = uint16(c.destPort)
		}
	}
	if c.destSvc != nil {
		sp.DestinationService = c.destSvc
	}
	h := &c.spanHTTP
	if h.methodSet || h.requestSet || h.responseSet || h.statusSet || h.urlSet {
		if h.methodSet || h.requestSet || h.responseSet || h.statusSet {
			ev.HTTP = d.pool.http.one()
		}
		if h.methodSet {
			ev.HTTP.Request.Method = h.method
		}
		if h.requestSet {
			if h.reqIDSet {
				ev.HTTP.Request.ID = h.reqID
			}
			if h.bodyKept {
				ev.HTTP.Request.Body = h.body
			}
		}
		if h.responseSet {
			ev.HTTP.Response = h.response
		}
		if h.statusSet {
			ev.HTTP.Response.StatusCode = int32(h.statusCode)
		}
		if h.urlSet {
			ev.URL.Original = h.url
		}
	}
	if c.messageSet {
		m := d.pool.msg.one()
		*m = c.message
		sp.Message = m
	}
	if c.svc.set {
		applyService(&c.svc, &ev.Service, &ev.Agent)
	}
	if !c.svc.targetTypeSet && c.destResourceSet {
		ev.Service.Target = targetFromDestinationResource(c.destResource)
	}
	ev.Event.Outcome = e.outcomeOr(h.statusSet, h.statusCode >= 400)
	sp.RepresentativeCount = representativeCount(e.rateSet, e.sampleRate)
	if !d.applyTiming(ev) && e.startSet {
		// The base event's timestamp is the request time; RUM agents send the offset from it.
		ev.Timestamp = d.baseTime.Add(time.Duration(float64(time.Millisecond) * e.start))
	}
	if e.txIDSet {
		ev.Transaction = d.pool.tx.one()
		ev.Transaction.ID = e.txID
	}
	if e.otelSet {
		d.otelSpan(ev)
	}
	if len(e.links) > 0 {
		sp.Links = e.links
	}
	if sp.Type == "" {
		sp.Type = "unknown"
	}
	ev.Labels, ev.NumericLabels = d.pool.ls.result()
}

// targetFromDestinationResource derives service.target from a destination resource "type[/name]"
// (apm-data's ^([a-z0-9]+)(?:/(\w+))?$); anything else becomes the target's name.
func targetFromDestinationResource(res string) collector.ServiceTarget {
	i := 0
	for i < len(res) && (res[i] >= 'a' && res[i] <= 'z' || res[i] >= '0' && res[i] <= '9') {
		i++
	}
	if i > 0 {
		if i == len(res) {
			return collector.ServiceTarget{Type: res}
		}
		if res[i] == '/' && i+1 < len(res) {
			name := res[i+1:]
			word := true
			for j := 0; j < len(name); j++ {
				c := name[j]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
					word = false
					break
				}
			}
			if word {
				return collector.ServiceTarget{Type: res[:i], Name: name}
			}
		}
	}
	return collector.ServiceTarget{Name: res}
}
