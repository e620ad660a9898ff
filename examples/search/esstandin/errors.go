package esstandin

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// esError is an error as Elasticsearch reports it: a type ("parsing_exception"), a reason and an HTTP
// status.
type esError struct {
	Status int
	Type   string
	Reason string
}

func (e *esError) Error() string { return e.Type + ": " + e.Reason }

func errorf(status int, typ, format string, args ...any) *esError {
	return &esError{Status: status, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

// parseError is a bad search body: 400 parsing_exception.
func parseError(format string, args ...any) *esError {
	return errorf(http.StatusBadRequest, "parsing_exception", format, args...)
}

// illegalArgument is a bad parameter: 400 illegal_argument_exception.
func illegalArgument(format string, args ...any) *esError {
	return errorf(http.StatusBadRequest, "illegal_argument_exception", format, args...)
}

func indexNotFound(index string) *esError {
	return errorf(http.StatusNotFound, "index_not_found_exception", "no such index [%s]", index)
}

// body is the JSON error body Elasticsearch answers with:
// {"error":{"root_cause":[{type, reason}],"type":...,"reason":...},"status":N}.
func (e *esError) body() []byte {
	cause := map[string]string{"type": e.Type, "reason": e.Reason}
	b, _ := json.Marshal(map[string]any{
		"error": map[string]any{
			"root_cause": []any{cause},
			"type":       e.Type,
			"reason":     e.Reason,
		},
		"status": e.Status,
	})
	return b
}
