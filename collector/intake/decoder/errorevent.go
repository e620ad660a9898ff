package decoder

import (
	"github.com/hotpath-apm/hotpath/collector"
)

const typeError = "v2.errorEvent"

// errorException decodes an error's exception (exception, generated) into er.Exception.
func (d *Decoder) errorException(er *collector.Error) bool {
	x := d.pool.exc.one()
	set := d.exception(x)
	if set {
		er.Exception = x
	}
	return set
}

// causes decodes the causes of exception x, exceptions in turn. Causes are rare and nest: they get
// their own slices.
func (d *Decoder) causes(x *collector.Exception) bool {
	n := len(x.Cause)
	d.elements("cause", func() bool {
		x.Cause = append(x.Cause, collector.Exception{})
		return d.exception(&x.Cause[len(x.Cause)-1])
	})
	return len(x.Cause) > n
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
