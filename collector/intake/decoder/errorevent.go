package decoder

import (
	"github.com/hotpath-apm/hotpath/collector"
)

const typeError = "v2.errorEvent"

func (d *Decoder) errorLog(er *collector.Error) bool {
	s := &d.s
	l := d.pool.errlog.one()
	var messageSet, levelSet bool
	set := d.object("v2.errorLog", func(key []byte) bool {
		switch string(key) {
		case "level":
			return d.kwSet(&l.Level, &levelSet, "level")
		case "logger_name":
			return d.kw(&l.LoggerName, "logger_name")
		case "message":
			return d.textSet(&l.Message, &messageSet)
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
			return d.textSet(&x.Message, &messageSet)
		case "module":
			return d.kw(&x.Module, "module")
		case "type":
			return d.kwSet(&x.Type, &typeSet, "type")
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
	er := ev.Error
	d.applyContext(ev)
	d.applyTiming(ev)
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
