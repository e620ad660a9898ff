package decoder

import (
	"strconv"

	"github.com/hotpath-apm/hotpath/collector"
)

const typeLog = "v2.log"

// ecsField is a log event field that comes flat ("log.level") or nested ({"log": {"level": ...}});
// the nested form wins, whatever the order (apm-data's processNestedSource).
type ecsField struct {
	flat, nested       string
	flatSet, nestedSet bool
}

func (f *ecsField) value() (string, bool) {
	if f.nestedSet {
		return f.nested, true
	}
	return f.flat, f.flatSet
}

// logFields are the ECS fields of a log event.
type logFields struct {
	serviceName, serviceVersion, serviceEnv, serviceNode ecsField
	errorType, errorMessage, errorStack                  ecsField
	eventDataset, threadName                             ecsField
	level, logger, fileName, function                    ecsField
	line                                                 int64
	lineSet                                              bool
	nestedLine                                           []byte
	traceID, txID, spanID, message                       string
	traceSet, txSet, spanSet, messageSet                 bool
}

// The decoder of log lines (logEvent), the reader of their ECS fields (logECS) and of the objects of
// these fields' nested form are generated from eventgen's table of the fields; these are their parts.

// logLine reads log.origin.file.line, flat: an integer.
func (d *Decoder) logLine(f *logFields) bool {
	v, ok := d.s.int()
	if ok {
		f.line, f.lineSet = v, true
	}
	return ok
}

// nestedLogLine reads log.origin.file.line, nested: a number's text, parsed once the event is read;
// a value of another type is ignored.
func (d *Decoder) nestedLogLine(f *logFields) {
	if isNumberStart(d.s.peek()) {
		f.nestedLine, _ = d.s.looseNumber()
	} else {
		d.s.skip()
	}
}

// nestedECS reads a field of the nested form: a string. A value of another type is ignored, also when
// it replaces a string of the same key.
func (d *Decoder) nestedECS(dst *ecsField) {
	if d.s.peek() != '"' {
		d.s.skip()
		dst.nestedSet = false
		return
	}
	d.text(&dst.nested)
	dst.nestedSet = true
}

// checkLogFields applies the nested form's line and checks the fields' lengths, once a log event is
// read.
func (d *Decoder) checkLogFields(f *logFields) {
	if f.nestedLine != nil {
		v, err := strconv.ParseInt(bytesToString(f.nestedLine), 10, 64)
		if err != nil {
			// apm-data returns this error as it is, without a prefix.
			if !d.v.failed() {
				d.v.raw = err.Error()
			}
		} else {
			f.line, f.lineSet = v, true
		}
	}
	d.checkECSLengths(f)
}

// finishLog applies apm-data's mapToLogModel.
func (d *Decoder) finishLog(ev *collector.Event) {
	e := &d.ev
	f := &d.logf
	if e.tsSet && !e.ts.IsZero() {
		ev.Timestamp = e.ts
	}
	if f.traceSet {
		ev.TraceID = f.traceID
	}
	if f.txSet {
		ev.Transaction = d.pool.tx.one()
		ev.Transaction.ID = f.txID
		ev.Span = d.pool.span.one()
		ev.Span.ID = f.txID
	}
	if f.spanSet {
		ev.Span = d.pool.span.one()
		ev.Span.ID = f.spanID
	}
	if f.messageSet {
		ev.Message = f.message
	}
	logOf := func() *collector.Log {
		if ev.Log == nil {
			ev.Log = d.pool.log.one()
		}
		return ev.Log
	}
	if v, ok := f.level.value(); ok {
		logOf().Level = v
	}
	if v, ok := f.logger.value(); ok {
		logOf().Logger = v
	}
	if v, ok := f.function.value(); ok {
		logOf().FunctionName = v
	}
	if f.lineSet {
		logOf().FileLine = int32(uint32(f.line))
	}
	if v, ok := f.fileName.value(); ok {
		logOf().FileName = v
	}
	et, etSet := f.errorType.value()
	em, emSet := f.errorMessage.value()
	es, esSet := f.errorStack.value()
	if etSet || emSet || esSet {
		ev.Error = d.pool.errs.one()
		ev.Error.Type, ev.Error.Message, ev.Error.StackTrace = et, em, es
	}
	applyECS(ev, f)
	ev.Labels, ev.NumericLabels = d.pool.ls.result()
	if ev.Error == nil {
		ev.Event.Kind = "event"
	}
}
