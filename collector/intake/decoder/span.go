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

// start reads a span's start, its offset in milliseconds from the request time (RUM agents send it).
func (d *Decoder) start() bool {
	v, ok := d.s.float()
	d.ev.start = v
	if ok && (v > maxMillis || v < -maxMillis) {
		d.v.fail("'start': validation rule 'max(9223372036854)' violated")
	}
	return ok
}

// compressionStrategy is a composite span's compression strategy if it is one apm-data knows, else "".
func compressionStrategy(s string) string {
	switch s {
	case "exact_match", "same_kind":
		return s
	}
	return ""
}

// spanHTTPBody reads a span's context.http.request.body, kept as normalized JSON.
func (d *Decoder) spanHTTPBody(h *spanHTTP) bool {
	if d.s.peek() == 'n' {
		d.s.null()
		return false
	}
	h.body, h.bodyKept = d.rawValue()
	return true
}

// spanHTTPResponse decodes a span's context.http.response, which a repeated key replaces whole.
func (d *Decoder) spanHTTPResponse(h *spanHTTP) bool {
	d.v.push("response")
	h.response = collector.HTTPResponse{}
	ok := d.httpResponse("v2.spanContextHTTPResponse", &h.response, nil)
	d.v.pop()
	h.responseSet = h.responseSet || ok
	h.response.Present = h.responseSet
	return ok
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
