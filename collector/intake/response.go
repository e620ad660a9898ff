package intake

import (
	"encoding/json"
	"net/http"
	"strings"
)

// APM Server's response headers and content types.
const (
	headerNosniff     = "X-Content-Type-Options"
	contentTypeJSON   = "application/json"
	contentTypePlain  = "text/plain; charset=utf-8"
	contentTypeNDJSON = "application/x-ndjson"
)

// writeResult answers a request the way APM Server's request.Context.WriteResult does, so that every
// endpoint's bodies, content types and headers match it:
//
//   - every response carries X-Content-Type-Options: nosniff;
//   - a nil body writes the status alone (202 without ?verbose, 304, an anonymous GET /);
//   - a string body of a failure (status >= 400) becomes {"error": body};
//   - when Accept contains application/json or */*, the body is indented JSON (two spaces) with
//     Content-Type application/json; otherwise it is compact JSON, or the bare string, with a newline
//     and Content-Type text/plain; charset=utf-8.
//
// Like APM Server it uses encoding/json with HTML escaping: these bodies are small and rare (a 202
// has none), and escaping keeps error documents identical to APM Server's byte for byte.
func writeResult(w http.ResponseWriter, r *http.Request, status int, body any) {
	w.Header().Set(headerNosniff, "nosniff")
	if body == nil {
		w.WriteHeader(status)
		return
	}
	if s, ok := body.(string); ok && status >= http.StatusBadRequest {
		body = errorBody{Error: s}
	}
	if acceptsJSON(r) {
		w.Header().Set("Content-Type", contentTypeJSON)
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(body) // the client went away: nothing left to tell it
		return
	}
	w.Header().Set("Content-Type", contentTypePlain)
	w.WriteHeader(status)
	if s, ok := body.(string); ok {
		_, _ = w.Write([]byte(s + "\n"))
		return
	}
	_ = json.NewEncoder(w).Encode(body)
}

// writeError answers with APM Server's error body {"error": msg}.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeResult(w, r, status, errorBody{Error: msg})
}

// errorBody is the body of every APM Server failure outside the intake stream.
type errorBody struct {
	Error string `json:"error"`
}

func acceptsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "*/*") || strings.Contains(accept, contentTypeJSON)
}

// streamResult is the body of an intake answer: {"accepted": N, "errors": [...]}.
type streamResult struct {
	Accepted int           `json:"accepted"`
	Errors   []streamError `json:"errors,omitempty"`
}

// streamError is one entry of streamResult.Errors: the message and, for an event that was refused,
// the line the agent sent.
type streamError struct {
	Message  string `json:"message"`
	Document string `json:"document,omitempty"`
}
