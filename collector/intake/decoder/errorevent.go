package decoder

import (
	"github.com/hotpath-apm/hotpath/collector"
)

const typeError = "v2.errorEvent"

// errorEvent decodes the value of an "error" line into ev.
func (d *Decoder) errorEvent(ev *collector.Event) bool {
	s := &d.s
	e := &d.ev
	if ev.Error == nil {
		ev.Error = d.pool.errs.one()
	}
	er := ev.Error
	if !s.beginObject() {
		return false
	}
	set := false
	var idSet, parentSet, traceSet, excSet, logSet bool
	var key []byte
	for first := true; s.nextKey(&first, &key); {
		ok := false
		switch string(key) {
		case "id":
			ok = d.kw(&er.ID, "id")
			idSet = idSet || ok
		case "trace_id":
			ok = d.kw(&ev.TraceID, "trace_id")
			traceSet = traceSet || ok
		case "parent_id":
			ok = d.kw(&ev.ParentID, "parent_id")
			parentSet = parentSet || ok
		case "transaction_id":
			ok = d.kw(&e.txID, "transaction_id")
			e.txIDSet = e.txIDSet || ok
		case "culprit":
			ok = d.kw(&er.Culprit, "culprit")
		case "timestamp":
			ok = d.timestamp("timestamp")
		case "log":
			ok = d.nested("log", func() bool { return d.errorLog(er) })
			logSet = logSet || ok
		case "exception":
			ok = d.nested("exception", func() bool {
				x := d.pool.exc.one()
				set := d.exception(x)
				if set {
					er.Exception = x
				}
				return set
			})
			excSet = excSet || ok
		case "transaction":
			ok = d.nested("transaction", d.errorTransactionRef)
			e.txRefSet = e.txRefSet || ok
		case "context":
			ok = d.nested("context", func() bool { return d.context(ev, false, &er.Custom) })
		default:
			s.skip()
		}
		set = set || ok
		if s.err != nil {
			s.frame(typeError, key)
			return set
		}
	}
	if s.err != nil {
		if s.err.inKey {
			s.frame(typeError, nil)
		}
		return set
	}
	if set {
		switch {
		case !excSet && !logSet:
			d.v.fail("requires at least one of the fields 'exception;log'")
		case !idSet:
			d.v.required("id")
		case !parentSet && e.txIDSet:
			d.v.fail("'parent_id' required when 'transaction_id' is set")
		case !parentSet && traceSet:
			d.v.fail("'parent_id' required when 'trace_id' is set")
		case !traceSet && e.txIDSet:
			d.v.fail("'trace_id' required when 'transaction_id' is set")
		case !traceSet && parentSet:
			d.v.fail("'trace_id' required when 'parent_id' is set")
		}
	}
	return set
}

func (d *Decoder) errorLog(er *collector.Error) bool {
	s := &d.s
	l := d.pool.errlog.one()
	var messageSet, levelSet bool
	set := d.object("v2.errorLog", func(key []byte) bool {
		switch string(key) {
		case "level":
			levelSet = d.kw(&l.Level, "level") || levelSet
			return levelSet
		case "logger_name":
			return d.kw(&l.LoggerName, "logger_name")
		case "message":
			messageSet = d.text(&l.Message) || messageSet
			return messageSet
		case "param_message":
			return d.kw(&l.ParamMessage, "param_message")
		case "stacktrace":
			st, ok := d.stacktrace()
			l.Stacktrace = st
			return ok
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !messageSet {
		d.v.required("message")
	}
	if set {
		if !levelSet {
			l.Level = "error"
		}
		er.Log = l
	}
	return set
}

// exception decodes an exception and, recursively, its causes into x.
func (d *Decoder) exception(x *collector.Exception) bool {
	s := &d.s
	var messageSet, typeSet bool
	set := d.object("v2.errorException", func(key []byte) bool {
		switch string(key) {
		case "attributes":
			return d.keyValues(&x.Attributes)
		case "code":
			return d.stringOrInt(&x.Code, "code", false)
		case "cause":
			if !s.beginArray() {
				return false
			}
			n := 0
			for first := true; s.nextElem(&first); {
				n++
				var c collector.Exception
				d.v.push("cause")
				cset := d.exception(&c)
				d.v.pop()
				if s.err != nil {
					break
				}
				if !cset {
					d.v.fail("cause slice element required")
				}
				// Causes are rare and nest: they get their own slices.
				x.Cause = append(x.Cause, c)
			}
			return n > 0
		case "stacktrace":
			st, ok := d.stacktrace()
			x.Stacktrace = st
			return ok
		case "message":
			messageSet = d.text(&x.Message) || messageSet
			return messageSet
		case "module":
			return d.kw(&x.Module, "module")
		case "type":
			typeSet = d.kw(&x.Type, "type") || typeSet
			return typeSet
		case "handled":
			return d.optBool(&x.Handled)
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !messageSet && !typeSet {
		d.v.fail("requires at least one of the fields 'message;type'")
	}
	return set
}

func (d *Decoder) errorTransactionRef() bool {
	s := &d.s
	e := &d.ev
	return d.object("v2.errorTransactionRef", func(key []byte) bool {
		switch string(key) {
		case "name":
			ok := d.kw(&e.txName, "name")
			e.txNameSet = e.txNameSet || ok
			return ok
		case "type":
			ok := d.kw(&e.txType, "type")
			e.txTypeSet = e.txTypeSet || ok
			return ok
		case "sampled":
			v, ok := s.bool()
			if ok {
				e.txSampled, e.txSampSet = v, true
			}
			return ok
		}
		s.skip()
		return false
	})
}

// finishError applies the rest of apm-data's mapToErrorModel, and APM Server's SetErrorMessage.
func (d *Decoder) finishError(ev *collector.Event) {
	e := &d.ev
	c := d.coldR()
	er := ev.Error
	applyService(&c.svc, &ev.Service, &ev.Agent)
	if c.userSet {
		ev.User = c.user
	}
	applyClient(ev, &c.request)
	d.applyHTTP(ev)
	if e.tsSet && !e.ts.IsZero() {
		ev.Timestamp = e.ts
	}
	if e.txIDSet || e.txRefSet {
		ev.Transaction = d.pool.tx.one()
	}
	if e.txIDSet {
		ev.Transaction.ID = e.txID
		ev.Span = d.pool.span.one()
		ev.Span.ID = e.txID
	}
	if e.txRefSet {
		if e.txSampSet {
			ev.Transaction.Sampled = e.txSampled
		}
		if e.txNameSet {
			ev.Transaction.Name = e.txName
		}
		if e.txTypeSet {
			ev.Transaction.Type = e.txType
		}
	}
	ev.Labels, ev.NumericLabels = d.pool.ls.result()
	// SetErrorMessage, the first of APM Server's processors: message is the log message, else the
	// exception's.
	if ev.Message == "" {
		if er.Log != nil && er.Log.Message != "" {
			ev.Message = er.Log.Message
		} else if er.Exception != nil {
			ev.Message = er.Exception.Message
		}
	}
}
