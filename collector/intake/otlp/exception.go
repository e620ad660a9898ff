package otlp

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/hotpath-apm/hotpath/collector"
)

// exceptionAttrs are the exception.* attributes of an exception span event or a log record.
type exceptionAttrs struct {
	message, stacktrace, typ string
	escaped                  bool
}

// take keeps v, and reports true, if k is one of the exception attributes.
func (x *exceptionAttrs) take(k string, v pcommon.Value) bool {
	switch k {
	case "exception.message":
		x.message = v.Str()
	case "exception.stacktrace":
		x.stacktrace = v.Str()
	case "exception.type":
		x.typ = v.Str()
	case "exception.escaped":
		x.escaped = v.Bool()
	default:
		return false
	}
	return true
}

// error returns the error the attributes describe (exceptionError), or nil if they have neither a
// message nor a type.
func (x *exceptionAttrs) error(language string) *collector.Error {
	if x.message == "" && x.typ == "" {
		return nil
	}
	return exceptionError(x.typ, x.message, x.stacktrace, x.escaped, language)
}

// exceptionError is apm-data's convertOpenTelemetryExceptionSpanEvent: the error of an exception span
// event (or log record). Java stack traces are parsed into frames and causes; others, and Java ones
// that do not parse, stay whole in error.stack_trace.
func exceptionError(typ, message, stacktrace string, escaped bool, language string) *collector.Error {
	if message == "" {
		message = "[EMPTY]"
	}
	ex := &collector.Exception{Message: message, Type: typ, Handled: collector.Some(!escaped)}
	e := &collector.Error{ID: newErrorID(), Exception: ex}
	if stacktrace != "" {
		var err error
		if language == "java" {
			err = parseJavaStacktrace(stacktrace, ex)
		} else {
			err = fmt.Errorf("parsing %q stack traces is not implemented", language)
		}
		if err != nil {
			ex.Stacktrace, ex.Cause = nil, nil
			e.StackTrace = stacktrace
		}
	}
	return e
}

// parseJavaStacktrace reads a Java stack trace (Throwable.printStackTrace) into out: "at" lines are
// frames, "Caused by:" starts the cause, "... n more" repeats the enclosing exception's last n frames,
// and suppressed exceptions are read and dropped, as apm-data does.
func parseJavaStacktrace(s string, out *collector.Exception) error {
	const causedBy, suppressed = "Caused by: ", "Suppressed: "
	type level struct {
		ex, enclosing *collector.Exception
		indent        int
	}
	cur := level{ex: out}
	var stack []level
	sc := bufio.NewScanner(strings.NewReader(s))
	for j := 0; sc.Scan(); j++ {
		if j == 0 {
			continue // the exception's own line
		}
		line := sc.Text()
		indent := 0
		if i := strings.IndexFunc(line, func(r rune) bool { return r != '\t' }); i > 0 {
			line, indent = line[i:], i
		}
		for indent < cur.indent {
			cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
		}
		switch {
		case strings.HasPrefix(line, "at "):
			f, ok := javaFrame(line)
			if !ok {
				return fmt.Errorf("failed to parse stacktrace at line %d", j)
			}
			cur.ex.Stacktrace = append(cur.ex.Stacktrace, f)
		case strings.HasPrefix(line, "..."):
			if cur.enclosing == nil {
				return fmt.Errorf("no enclosing exception preceding at line %d", j)
			}
			rest, ok := strings.CutSuffix(strings.TrimSpace(line[3:]), " more")
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if !ok || err != nil {
				return fmt.Errorf("failed to parse stacktrace at line %d", j)
			}
			enc := cur.enclosing.Stacktrace
			if len(enc) < n {
				return fmt.Errorf("enclosing exception stacktrace has %d frames, cannot satisfy line %d", len(enc), j)
			}
			cur.ex.Stacktrace = append(cur.ex.Stacktrace, enc[len(enc)-n:]...)
		case strings.HasPrefix(line, causedBy):
			cur.ex.Cause = []collector.Exception{{Handled: cur.ex.Handled, Message: line[len(causedBy):]}}
			cur.enclosing, cur.ex = cur.ex, &cur.ex.Cause[0]
		case strings.HasPrefix(line, suppressed):
			stack = append(stack, cur)
			cur.enclosing, cur.ex, cur.indent = cur.ex, &collector.Exception{}, indent
		default:
			return fmt.Errorf("unexpected value at line %d", j)
		}
	}
	if err := sc.Err(); err != nil {
		return errors.Join(errors.New("reading stack trace"), err)
	}
	return nil
}

// javaFrame parses "at module/class.function(file:line)" as apm-data's pattern
// `at (.*)\(([^:]*)(?::([0-9]+))?\)` does.
func javaFrame(line string) (collector.StackFrame, bool) {
	var f collector.StackFrame
	rest := line[len("at "):]
	open := strings.LastIndexByte(rest, '(')
	if open < 0 || !strings.HasSuffix(rest, ")") {
		return f, false
	}
	function, loc := rest[:open], rest[open+1:len(rest)-1]
	file, lineno, hasLine := strings.Cut(loc, ":")
	if strings.ContainsRune(file, ':') {
		return f, false
	}
	if hasLine {
		n, err := strconv.ParseUint(lineno, 10, 32)
		if lineno == "" || strings.Trim(lineno, "0123456789") != "" {
			return f, false
		}
		if err == nil {
			f.Lineno = collector.Some(int32(n))
		}
	}
	var module string
	if slash := strings.IndexByte(function, '/'); slash >= 0 {
		module, function = function[:slash], function[slash+1:]
		if slash := strings.IndexByte(function, '/'); slash >= 0 {
			module, function = function[:slash], function[slash+1:]
		}
	}
	var class string
	if dot := strings.LastIndexByte(function, '.'); dot > 0 {
		class, function = function[:dot], function[dot+1:]
	}
	f.Module, f.Classname, f.Function, f.Filename = module, class, function, file
	return f, true
}
