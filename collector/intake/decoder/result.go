package decoder

import "net/http"

// MaxErrors is the number of errors a Result lists, as APM Server's answer does; further errors are
// only counted.
const MaxErrors = 5

// Result is what APM Server reports for a stream: the events accepted and the problems found.
type Result struct {
	// Accepted counts the events in batches the BatchProcessor accepted (returned nil for).
	Accepted int
	// Errors lists the first MaxErrors problems, in stream order.
	Errors []*Error
	// Invalid and TooLarge count every rejected event (and a rejected metadata line), listed or not:
	// TooLarge those over the size limit, Invalid all others.
	Invalid  int
	TooLarge int

	errorsSpace [MaxErrors]*Error
}

func (r *Result) add(e *Error) {
	if e.Kind == ErrTooLarge {
		r.TooLarge++
	} else {
		r.Invalid++
	}
	if len(r.Errors) < MaxErrors {
		if r.Errors == nil {
			r.Errors = r.errorsSpace[:0]
		}
		r.Errors = append(r.Errors, e)
	}
}

// ErrorKind classifies a rejected line. Every kind is an invalid-input error for APM Server: its status
// is 400 Bad Request.
type ErrorKind uint8

// The kinds of Error. The Message of each starts as APM Server's does.
const (
	// ErrDecode: the line is not valid JSON, or a field has the wrong JSON type.
	// Message: "decode error: ...".
	ErrDecode ErrorKind = iota + 1
	// ErrValidation: the JSON is well formed but breaks the intake v2 schema (a required field missing,
	// a keyword over 1024 characters, an enum value not allowed...). Message: "validation error: ...".
	ErrValidation
	// ErrUnknownType: the line's object type is not one of metadata, transaction, span, error,
	// metricset, log. Message: `did not recognize object type: "<type>"`.
	ErrUnknownType
	// ErrTooLarge: the line is longer than Options.MaxEventSize. Message: "event exceeded the permitted
	// size"; Document holds the first MaxEventSize bytes.
	ErrTooLarge
	// ErrMetadata: the stream does not start with a metadata line (`"metadata" or "m" required`), or
	// ends right after it without a newline ("EOF while reading metadata"). A metadata line that is
	// present but invalid is ErrDecode, ErrValidation or ErrTooLarge, and also ends the stream.
	ErrMetadata
)

var errorKindNames = [...]string{"", "decode", "validation", "unknown_type", "too_large", "metadata"}

// String returns a short name for the kind, for metrics labels ("decode", "validation",
// "unknown_type", "too_large", "metadata").
func (k ErrorKind) String() string {
	if int(k) < len(errorKindNames) {
		return errorKindNames[k]
	}
	return ""
}

// HTTPStatus is the status APM Server answers for the kind: 400 for all of them.
func (k ErrorKind) HTTPStatus() int { return http.StatusBadRequest }

// Error is one rejected line of a stream, as APM Server lists it in its answer.
type Error struct {
	Kind ErrorKind
	// Message is APM Server's message, with its prefix ("decode error: ", "validation error: ",
	// "did not recognize object type: ", "event exceeded the permitted size"...).
	Message string
	// Document is the offending line as APM Server shows it: without its '\n', and cut to
	// Options.MaxEventSize bytes for ErrTooLarge.
	Document string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }
