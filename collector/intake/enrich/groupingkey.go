package enrich

import (
	"encoding/hex"

	"github.com/cespare/xxhash/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// groupingKey returns error.grouping_key: Kibana groups errors by it, so it must be the value APM
// Server computes (apm-data's SetGroupingKey with cespare/xxhash), or hotpath's errors would not group
// with the same errors sent to APM Server. The hash covers, in this order:
//
//  1. the type of every exception in the tree (depth first), and the log's param_message;
//  2. the exception tree's stack frames, or the log's stack frames when no exception has one: for each
//     frame not excluded from grouping, its module (else filename, else classname) and function;
//  3. only when 1 and 2 contributed nothing: the exceptions' messages, else the log message.
func groupingKey(e *collector.Error) string {
	var h xxhash.Digest // on the stack: the functions below take it by pointer but do not keep it
	h.Reset()
	updated := false
	if e.Exception != nil && hashExceptions(&h, e.Exception, byType) {
		updated = true
	}
	if e.Log != nil && writeString(&h, e.Log.ParamMessage) {
		updated = true
	}
	haveExceptionStacktrace := false
	if e.Exception != nil {
		haveExceptionStacktrace = hashExceptions(&h, e.Exception, byFrames)
		updated = updated || haveExceptionStacktrace
	}
	if !haveExceptionStacktrace && e.Log != nil && hashFrames(&h, e.Log.Stacktrace) {
		updated = true
	}
	if !updated {
		if e.Exception != nil {
			updated = hashExceptions(&h, e.Exception, byMessage)
		}
		if !updated && e.Log != nil {
			writeString(&h, e.Log.Message)
		}
	}
	var sum [8]byte
	var key [16]byte
	hex.Encode(key[:], h.Sum(sum[:0]))
	return string(key[:])
}

// exceptionPart is what hashExceptions hashes of each exception.
type exceptionPart uint8

const (
	byType exceptionPart = iota
	byFrames
	byMessage
)

// hashExceptions hashes part of ex and of its causes, depth first, and reports whether it hashed
// anything.
func hashExceptions(h *xxhash.Digest, ex *collector.Exception, part exceptionPart) bool {
	var updated bool
	switch part {
	case byType:
		updated = writeString(h, ex.Type)
	case byFrames:
		updated = hashFrames(h, ex.Stacktrace)
	case byMessage:
		updated = writeString(h, ex.Message)
	}
	for i := range ex.Cause {
		if hashExceptions(h, &ex.Cause[i], part) {
			updated = true
		}
	}
	return updated
}

// hashFrames hashes the frames that are not excluded from grouping and reports whether it hashed
// anything.
func hashFrames(h *xxhash.Digest, frames []collector.StackFrame) bool {
	updated := false
	for i := range frames {
		f := &frames[i]
		if f.ExcludeFromGrouping {
			continue
		}
		switch {
		case f.Module != "":
			writeString(h, f.Module)
			updated = true
		case f.Filename != "":
			writeString(h, f.Filename)
			updated = true
		case f.Classname != "":
			writeString(h, f.Classname)
			updated = true
		}
		if writeString(h, f.Function) {
			updated = true
		}
	}
	return updated
}

// writeString hashes s when it is not empty and reports whether it did.
func writeString(h *xxhash.Digest, s string) bool {
	if s == "" {
		return false
	}
	_, _ = h.WriteString(s)
	return true
}
