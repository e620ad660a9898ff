package decoder

import (
	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

const typeTransaction = "v2.transaction"

func (d *Decoder) marks(dst *[]collector.Mark) bool {
	s := &d.s
	groups := &d.pool.marks
	groups.begin()
	d.markIdx.reset()
	any := false
	d.object("v2.transactionMarks", func(key []byte) bool {
		any = true
		group := d.arena.str(key)
		// encoding/json semantics (transactionMarks unmarshals with it): numbers, null as 0.
		ms := &d.pool.measures
		ms.begin()
		d.measureIdx.reset()
		if s.beginObject() {
			var name []byte
			for first := true; s.nextKey(&first, &name); {
				// encoding/json reads the marks: null is 0, and numbers are strict JSON.
				var v float64
				switch s.peek() {
				case 'n':
					s.null()
				case '+':
					s.fail("invalid character '+' looking for beginning of value,")
				default:
					v, _ = s.float()
				}
				if s.err != nil {
					return false
				}
				n := d.arena.str(name)
				ms.put(&d.measureIdx, collector.Measurement{Name: n, Value: v}, n, measureName)
			}
		}
		m := ms.end()
		r := groups.region()
		i := find(&d.markIdx, r, group, markGroup)
		switch {
		case i >= 0 && len(m) > 0:
			r[i].Measurements = m
		case i >= 0:
			r[i] = r[len(r)-1]
			groups.pop()
			d.markIdx.reset()
		case len(m) > 0:
			*groups.add() = collector.Mark{Group: group, Measurements: m}
		}
		return true
	})
	*dst = groups.end()
	return any
}

func measureName(m *collector.Measurement) string { return m.Name }
func markGroup(m *collector.Mark) string          { return m.Group }

// droppedSpans decodes a transaction's dropped_spans_stats (droppedSpanStats, generated) into a region of
// the slab.
func (d *Decoder) droppedSpans(dst *[]collector.DroppedSpanStats) bool {
	stats, ok := objectArray(d, &d.pool.dropped, "dropped_spans_stats", d.droppedSpanStats)
	if ok {
		*dst = stats
	}
	return len(stats) > 0
}

// finishTransaction applies the rest of apm-data's mapToTransactionModel.
func (d *Decoder) finishTransaction(ev *collector.Event) {
	e := &d.ev
	c := d.coldR()
	tx := ev.Transaction
	d.applyContext(ev)
	d.applyTiming(ev)
	ev.Event.Outcome = e.outcomeOr(c.statusSet, c.response.StatusCode >= 500)
	if c.cloudSet {
		ev.Cloud.Origin = c.cloudOrigin
	}
	if c.messageSet {
		m := d.pool.msg.one()
		*m = c.message
		tx.Message = m
	}
	tx.Sampled = true
	if e.sampledSet {
		tx.Sampled = e.sampled
	}
	tx.RepresentativeCount = representativeCount(e.rateSet, e.sampleRate)
	ev.Span = d.pool.span.one()
	ev.Span.ID = tx.ID
	if e.otelSet {
		d.otelTransaction(ev)
	}
	if len(e.links) > 0 {
		ev.Span.Links = e.links
	}
	if tx.Type == "" {
		tx.Type = "unknown"
	}
	ev.Labels, ev.NumericLabels = d.pool.ls.result()
}

// applyContext applies what the context of a transaction or error gives beyond its own fields: service,
// user, client and source, http.* and url.*.
func (d *Decoder) applyContext(ev *collector.Event) {
	e := d.coldR()
	applyService(&e.svc, &ev.Service, &ev.Agent)
	if e.userSet {
		ev.User = e.user
	}
	applyClient(ev, &e.request)
	if e.request.set || e.responseSet {
		if ev.HTTP == nil {
			ev.HTTP = d.pool.http.one()
		}
		if e.request.set {
			ev.HTTP.Request = e.request.req
			if e.request.versionSet {
				ev.HTTP.Version = e.request.version
			}
		}
		if e.responseSet {
			ev.HTTP.Response = e.response
		}
	}
	if e.request.urlSet {
		ev.URL = e.request.url
	}
	if e.page.urlSet && !e.request.urlSet {
		ev.URL = otelattr.ParseURL(e.page.url, "", "")
	}
	if e.page.refererSet {
		if ev.HTTP == nil {
			ev.HTTP = d.pool.http.one()
		}
		if ev.HTTP.Request.Referrer == "" {
			ev.HTTP.Request.Referrer = e.page.referer
		}
	}
}
