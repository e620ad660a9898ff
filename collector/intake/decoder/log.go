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

// logEvent decodes the value of a "log" line into ev.
func (d *Decoder) logEvent(ev *collector.Event) bool {
	s := &d.s
	f := &d.logf
	*f = logFields{}
	flat := func(dst *ecsField) bool {
		ok := d.text(&dst.flat)
		dst.flatSet = dst.flatSet || ok
		return ok
	}
	nestedStr := func(dst *ecsField) bool {
		if s.peek() != '"' {
			// A value of another type is ignored, also when it replaces a string of the same key.
			s.skip()
			dst.nestedSet = false
			return false
		}
		d.text(&dst.nested)
		dst.nestedSet = true
		return true
	}
	// nestedObject reads a nested ECS object, where fields of the wrong type are ignored.
	nestedObject := func(typeName string, field func(key []byte)) bool {
		if !s.beginObject() {
			return false
		}
		n := 0
		var key []byte
		for first := true; s.nextKey(&first, &key); {
			n++
			field(key)
			if s.err != nil {
				s.frame(typeName, key)
				return true
			}
		}
		return n > 0
	}
	set := d.object(typeLog, func(key []byte) bool {
		switch string(key) {
		case "labels":
			return d.labels(&d.pool.ls, "labels", false)
		case "@timestamp":
			return d.timestamp("@timestamp")
		case "trace.id":
			return d.kwSet(&f.traceID, &f.traceSet, "trace.id")
		case "transaction.id":
			return d.kwSet(&f.txID, &f.txSet, "transaction.id")
		case "span.id":
			return d.kwSet(&f.spanID, &f.spanSet, "span.id")
		case "message":
			return d.textSet(&f.message, &f.messageSet)
		case "faas":
			return d.nested("faas", func() bool { return d.faas(&ev.Faas) })
		case "service.name":
			return flat(&f.serviceName)
		case "service.version":
			return flat(&f.serviceVersion)
		case "service.environment":
			return flat(&f.serviceEnv)
		case "service.node.name":
			return flat(&f.serviceNode)
		case "error.type":
			return flat(&f.errorType)
		case "error.message":
			return flat(&f.errorMessage)
		case "error.stack_trace":
			return flat(&f.errorStack)
		case "event.dataset":
			return flat(&f.eventDataset)
		case "process.thread.name":
			return flat(&f.threadName)
		case "log.level":
			return flat(&f.level)
		case "log.logger":
			return flat(&f.logger)
		case "log.origin.file.name":
			return flat(&f.fileName)
		case "log.origin.function":
			return flat(&f.function)
		case "log.origin.file.line":
			v, ok := s.int()
			if ok {
				f.line, f.lineSet = v, true
			}
			return ok
		case "service":
			return nestedObject("map[string]interface {}", func(key []byte) {
				switch string(key) {
				case "name":
					nestedStr(&f.serviceName)
				case "version":
					nestedStr(&f.serviceVersion)
				case "environment":
					nestedStr(&f.serviceEnv)
				case "node":
					nestedObject("map[string]interface {}", func(key []byte) {
						if string(key) == "name" {
							nestedStr(&f.serviceNode)
						} else {
							s.skip()
						}
					})
				default:
					s.skip()
				}
			})
		case "error":
			return nestedObject("map[string]interface {}", func(key []byte) {
				switch string(key) {
				case "type":
					nestedStr(&f.errorType)
				case "message":
					nestedStr(&f.errorMessage)
				case "stack_trace":
					nestedStr(&f.errorStack)
				default:
					s.skip()
				}
			})
		case "event":
			return nestedObject("map[string]interface {}", func(key []byte) {
				if string(key) == "dataset" {
					nestedStr(&f.eventDataset)
				} else {
					s.skip()
				}
			})
		case "process":
			return nestedObject("map[string]interface {}", func(key []byte) {
				if string(key) != "thread" {
					s.skip()
					return
				}
				nestedObject("map[string]interface {}", func(key []byte) {
					if string(key) == "name" {
						nestedStr(&f.threadName)
					} else {
						s.skip()
					}
				})
			})
		case "log":
			return nestedObject("map[string]interface {}", func(key []byte) {
				switch string(key) {
				case "level":
					nestedStr(&f.level)
				case "logger":
					nestedStr(&f.logger)
				case "origin":
					nestedObject("map[string]interface {}", func(key []byte) {
						switch string(key) {
						case "function":
							nestedStr(&f.function)
						case "file":
							nestedObject("map[string]interface {}", func(key []byte) {
								switch string(key) {
								case "name":
									nestedStr(&f.fileName)
								case "line":
									if c := s.peek(); isNumberStart(c) {
										f.nestedLine, _ = s.looseNumber()
									} else {
										s.skip()
									}
								default:
									s.skip()
								}
							})
						default:
							s.skip()
						}
					})
				default:
					s.skip()
				}
			})
		}
		s.skip()
		return false
	})
	if s.err != nil {
		return set
	}
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
	// Lengths are checked after the nested values are applied.
	for _, c := range [...]struct {
		f    *ecsField
		name string
	}{
		{&f.serviceName, "service.name"}, {&f.serviceVersion, "service.version"},
		{&f.serviceEnv, "service.environment"}, {&f.serviceNode, "service.node.name"},
		{&f.eventDataset, "event.dataset"}, {&f.threadName, "process.thread.name"},
		{&f.level, "log.level"}, {&f.logger, "log.logger"}, {&f.fileName, "log.origin.file.name"},
	} {
		if v, ok := c.f.value(); ok && tooLong(v, 1024) {
			d.v.maxLength(c.name, 1024)
		}
	}
	return set
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
	if v, ok := f.serviceName.value(); ok {
		ev.Service.Name = v
	}
	if v, ok := f.serviceVersion.value(); ok {
		ev.Service.Version = v
	}
	if v, ok := f.serviceEnv.value(); ok {
		ev.Service.Environment = v
	}
	if v, ok := f.serviceNode.value(); ok {
		ev.Service.NodeName = v
	}
	if v, ok := f.threadName.value(); ok {
		ev.Process.ThreadName = v
	}
	if v, ok := f.eventDataset.value(); ok {
		ev.Event.Dataset = v
	}
	ev.Labels, ev.NumericLabels = d.pool.ls.result()
	if ev.Error == nil {
		ev.Event.Kind = "event"
	}
}
