package decoder

import (
	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

const typeTransaction = "v2.transaction"

func (d *Decoder) spanCount(sc *collector.SpanCount) bool {
	s := &d.s
	var startedSet bool
	set := d.object("v2.transactionSpanCount", func(key []byte) bool {
		switch string(key) {
		case "dropped":
			v, ok := s.int()
			if ok {
				sc.Dropped = collector.Some(int32(v))
			}
			return ok
		case "started":
			v, ok := s.int()
			if ok {
				sc.Started = collector.Some(int32(v))
				startedSet = true
			}
			return ok
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !startedSet {
		d.v.required("started")
	}
	return set
}

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

func (d *Decoder) experience(tx *collector.Transaction) bool {
	s := &d.s
	ux := d.pool.ux.one()
	min0 := func(dst *collector.Optional[float64], field string) bool {
		v, ok := d.floatMin0(field)
		if ok {
			*dst = collector.Some(v)
		}
		return ok
	}
	set := d.object("v2.transactionUserExperience", func(key []byte) bool {
		switch string(key) {
		case "cls":
			return min0(&ux.CLS, "cls")
		case "fid":
			return min0(&ux.FID, "fid")
		case "tbt":
			return min0(&ux.TBT, "tbt")
		case "longtask":
			return d.nested("longtask", func() bool { return d.longtask(ux) })
		}
		s.skip()
		return false
	})
	if set {
		tx.Experience = ux
	}
	return set
}

func (d *Decoder) longtask(ux *collector.UserExperience) bool {
	s := &d.s
	lt := d.pool.longtask.one()
	var countSet, maxSet, sumSet bool
	num := func(dst *float64, field string) bool {
		v, ok := d.floatMin0(field)
		if ok {
			*dst = v
		}
		return ok
	}
	set := d.object("v2.longtaskMetrics", func(key []byte) bool {
		switch string(key) {
		case "count":
			v, ok := d.intMin("count", 0)
			if ok {
				lt.Count, countSet = v, true
			}
			return ok
		case "max":
			maxSet = num(&lt.Max, "max") || maxSet
			return maxSet
		case "sum":
			sumSet = num(&lt.Sum, "sum") || sumSet
			return sumSet
		}
		s.skip()
		return false
	})
	if set && s.err == nil {
		switch {
		case !countSet:
			d.v.required("count")
		case !maxSet:
			d.v.required("max")
		case !sumSet:
			d.v.required("sum")
		}
	}
	if set {
		ux.LongTask = lt
	}
	return set
}

func (d *Decoder) session(sess *collector.Session) bool {
	s := &d.s
	var idSet bool
	set := d.object("v2.transactionSession", func(key []byte) bool {
		switch string(key) {
		case "id":
			return d.kwSet(&sess.ID, &idSet, "id")
		case "sequence":
			v, ok := d.intMin("sequence", 1)
			if ok {
				sess.Sequence = v
			}
			return ok
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !idSet {
		d.v.required("id")
	}
	return set
}

func (d *Decoder) faas(f *collector.Faas) bool {
	s := &d.s
	return d.object("v2.faas", func(key []byte) bool {
		switch string(key) {
		case "id":
			return d.text(&f.ID)
		case "execution":
			return d.text(&f.Execution)
		case "trigger":
			return d.nested("trigger", func() bool {
				return d.object("v2.trigger", func(key []byte) bool {
					switch string(key) {
					case "type":
						return d.text(&f.TriggerType)
					case "request_id":
						return d.text(&f.TriggerRequestID)
					}
					s.skip()
					return false
				})
			})
		case "name":
			return d.text(&f.Name)
		case "version":
			return d.text(&f.Version)
		case "coldstart":
			return d.optBool(&f.ColdStart)
		}
		s.skip()
		return false
	})
}

func (d *Decoder) droppedSpans(dst *[]collector.DroppedSpanStats) bool {
	s := &d.s
	if !s.beginArray() {
		return false
	}
	dr := &d.pool.dropped
	dr.begin()
	n := 0
	for first := true; s.nextElem(&first); {
		n++
		st := dr.add()
		d.v.push("dropped_spans_stats")
		set := d.object("v2.transactionDroppedSpanStats", func(key []byte) bool {
			switch string(key) {
			case "destination_service_resource":
				return d.kw(&st.DestinationServiceResource, "destination_service_resource")
			case "service_target_type":
				return d.kwN(&st.ServiceTargetType, "service_target_type", 512)
			case "service_target_name":
				return d.kwN(&st.ServiceTargetName, "service_target_name", 512)
			case "outcome":
				return d.enumOutcome(&st.Outcome)
			case "duration":
				return d.nested("duration", func() bool {
					return d.object("v2.transactionDroppedSpansDuration", func(key []byte) bool {
						switch string(key) {
						case "count":
							v, ok := d.intMin("count", 1)
							if ok {
								st.Count = v
							}
							return ok
						case "sum":
							return d.member("sum", "v2.transactionDroppedSpansDurationSum", "us", func() bool {
								v, ok := d.intMin("us", 0)
								if ok {
									st.SumMicros = v
								}
								return ok
							})
						}
						s.skip()
						return false
					})
				})
			}
			s.skip()
			return false
		})
		d.v.pop()
		if s.err != nil {
			break
		}
		if !set {
			d.v.fail("dropped_spans_stats slice element required")
		}
	}
	*dst = dr.end()
	return n > 0
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
