package estest

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/klauspost/compress/gzip"
)

// maxContentLength is Elasticsearch's default http.max_content_length (100mb), applied to the body
// before and after decompression.
const maxContentLength = 100 << 20

// isBulkParam reports whether Elasticsearch's _bulk accepts the query parameter k; others are refused.
func isBulkParam(k string) bool {
	switch k {
	case "refresh", "routing", "timeout", "wait_for_active_shards", "pipeline", "require_alias",
		"require_data_stream", "filter_path", "_source", "_source_includes", "_source_excludes",
		"list_executed_pipelines", "include_source_on_error", "error_trace", "human", "pretty":
		return true
	}
	return false
}

// isMetadataKey reports whether an action's metadata object may have the key k.
func isMetadataKey(k string) bool {
	switch k {
	case "_index", "_id", "routing", "pipeline", "require_alias", "require_data_stream",
		"dynamic_templates", "if_seq_no", "if_primary_term", "version", "version_type",
		"list_executed_pipelines", "retry_on_conflict", "_source":
		return true
	}
	return false
}

// action is one parsed action line with its source.
type action struct {
	op     string // create, index, update, delete
	index  string
	id     string
	source []byte
}

// bulkError is a request-level refusal: Elasticsearch answers the whole request with it.
type bulkError struct {
	status      int
	typ, reason string
}

func (s *Server) bulk(w http.ResponseWriter, r *http.Request, pathIndex string) {
	for k := range r.URL.Query() {
		if !isBulkParam(k) {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception",
				"request ["+r.URL.Path+"] contains unrecognized parameter: ["+k+"]")
			return
		}
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		writeError(w, http.StatusNotAcceptable, "", "Content-Type header ["+ct+"] is not supported")
		return
	case mt == "application/json", mt == "application/x-ndjson",
		mt == "application/vnd.elasticsearch+json", mt == "application/vnd.elasticsearch+x-ndjson":
	default:
		writeError(w, http.StatusNotAcceptable, "", "Content-Type header ["+ct+"] is not supported")
		return
	}
	f, ferr := parseFilter(r.URL.Query().Get("filter_path"))
	if ferr != nil {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", ferr.Error())
		return
	}
	body, berr := readBody(r)
	if berr != nil {
		writeError(w, berr.status, berr.typ, berr.reason)
		return
	}

	s.mu.Lock()
	s.bulkRequests++
	if r.Header.Get("Content-Encoding") == "gzip" {
		s.gzipRequests++
	}
	s.notify()
	var fault Fault
	switch {
	case s.outage != 0:
		fault = Fault{Status: s.outage}
	case len(s.faults) > 0:
		fault = s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()

	if fault.Status != 0 {
		writeError(w, fault.Status, statusErrorType(fault.Status), "estest: injected failure")
		return
	}
	if !fault.After && (fault.Hang || fault.Drop) {
		s.fail(w, r, fault)
		return
	}

	actions, perr := parseBulk(body, pathIndex)
	if perr != nil {
		writeError(w, perr.status, perr.typ, perr.reason)
		return
	}
	start := time.Now()
	items := s.index(actions)
	if fault.Hang || fault.Drop {
		s.fail(w, r, fault)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(response(items, time.Since(start).Milliseconds(), f))
}

// fail applies a Hang or Drop fault: either way the client gets no answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

func readBody(r *http.Request) ([]byte, *bulkError) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxContentLength+1))
	if err != nil {
		return nil, &bulkError{http.StatusBadRequest, "parse_exception", "estest: read body: " + err.Error()}
	}
	if len(raw) > maxContentLength {
		return nil, &bulkError{http.StatusRequestEntityTooLarge, "", "Request Entity Too Large"}
	}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, &bulkError{http.StatusBadRequest, "parse_exception", "estest: gzip: " + err.Error()}
		}
		buf := bytes.NewBuffer(make([]byte, 0, min(16*len(raw), maxContentLength)))
		_, err = buf.ReadFrom(io.LimitReader(zr, maxContentLength+1))
		body := buf.Bytes()
		if err != nil {
			return nil, &bulkError{http.StatusBadRequest, "parse_exception", "estest: gzip: " + err.Error()}
		}
		if len(body) > maxContentLength {
			return nil, &bulkError{http.StatusRequestEntityTooLarge, "", "Request Entity Too Large"}
		}
		return body, nil
	default:
		return nil, &bulkError{http.StatusBadRequest, "illegal_argument_exception",
			"estest: unsupported Content-Encoding [" + enc + "]"}
	}
}

// parseBulk splits an NDJSON bulk body into actions, refusing it as Elasticsearch does when it is
// malformed.
func parseBulk(body []byte, pathIndex string) ([]action, *bulkError) {
	if len(body) == 0 {
		return nil, &bulkError{http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: no requests added;"}
	}
	if body[len(body)-1] != '\n' {
		return nil, &bulkError{http.StatusBadRequest, "illegal_argument_exception",
			"The bulk request must be terminated by a newline [\\n]"}
	}
	var actions []action
	line := 0
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		meta := body[:i]
		body = body[i+1:]
		line++
		a, err := parseAction(meta, line)
		if err != nil {
			return nil, err
		}
		if a.index == "" {
			a.index = pathIndex
		}
		if a.index == "" {
			return nil, &bulkError{http.StatusBadRequest, "action_request_validation_exception",
				"Validation Failed: 1: index is missing;"}
		}
		if a.op != "delete" {
			if len(body) == 0 {
				return nil, &bulkError{http.StatusBadRequest, "illegal_argument_exception",
					"The bulk request must be terminated by a newline [\\n]"}
			}
			j := bytes.IndexByte(body, '\n')
			a.source = body[:j]
			body = body[j+1:]
			line++
		}
		actions = append(actions, a)
	}
	return actions, nil
}

// parseAction parses one action/metadata line: {"<op>":{"_index":...,"_id":...}}.
func parseAction(b []byte, line int) (action, *bulkError) {
	malformed := func(what string) (action, *bulkError) {
		return action{}, &bulkError{http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("Malformed action/metadata line [%d], %s", line, what)}
	}
	var a action
	d := jsontext.NewDecoder(bytes.NewReader(b))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return malformed("expected START_OBJECT")
	}
	tok, err := d.ReadToken()
	if err != nil || tok.Kind() != '"' {
		return malformed("expected FIELD_NAME")
	}
	a.op = tok.String()
	switch a.op {
	case "create", "index", "update", "delete":
	default:
		return malformed("expected field [create], [delete], [index] or [update] but found [" + a.op + "]")
	}
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return malformed("expected START_OBJECT")
	}
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return malformed(err.Error())
		}
		key := name.String()
		if !isMetadataKey(key) {
			return action{}, &bulkError{http.StatusBadRequest, "illegal_argument_exception",
				fmt.Sprintf("Action/metadata line [%d] contains an unknown parameter [%s]", line, key)}
		}
		switch key {
		case "_index", "_id":
			v, err := d.ReadToken()
			if err != nil || v.Kind() != '"' {
				return malformed("[" + key + "] must be a string")
			}
			if key == "_index" {
				a.index = v.String()
			} else {
				a.id = v.String()
			}
		default:
			if err := d.SkipValue(); err != nil {
				return malformed(err.Error())
			}
		}
	}
	for range 2 {
		if tok, err := d.ReadToken(); err != nil || tok.Kind() != '}' {
			return malformed("expected END_OBJECT")
		}
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return malformed("expected a single object")
	}
	return a, nil
}

// item is the result of one action.
type item struct {
	op, index, id   string
	status          int
	result          string // created, updated
	seqNo           int64
	errType, errWhy string
}

// index applies actions and returns their results.
func (s *Server) index(actions []action) []item {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	items := make([]item, len(actions))
	var src bytes.Reader
	dec := jsontext.NewDecoder(&src)
	for i, a := range actions {
		var fail *ItemFailure
		doc := Doc{Index: a.index, ID: a.id, Source: a.source}
		switch {
		case a.op == "update" || a.op == "delete":
			fail = &ItemFailure{400, "illegal_argument_exception", "estest: [" + a.op + "] is not implemented"}
		case isDataStream(a.index) && a.op != "create":
			fail = &ItemFailure{400, "illegal_argument_exception",
				"only write ops with an op_type of create are allowed in data streams"}
		default:
			src.Reset(a.source)
			dec.Reset(&src)
			fail = checkSource(dec, isDataStream(a.index))
			if fail == nil {
				fail = checkMetricset(a.index, a.source)
			}
		}
		if fail == nil && s.itemFault != nil {
			fail = s.itemFault(doc)
		}
		key := a.index + "\x00" + a.id
		if fail == nil && a.id != "" && a.op == "create" {
			if _, exists := s.byID[key]; exists {
				fail = &ItemFailure{409, "version_conflict_engine_exception",
					"[" + a.id + "]: version conflict, document already exists (current version [1])"}
			}
		}
		if fail == nil && a.id == "" {
			s.nextID++
			doc.ID = generatedID(s.nextID)
			doc.GeneratedID = true
			key = a.index + "\x00" + doc.ID
		}
		it := &items[i]
		it.op, it.index, it.id = a.op, backingIndex(a.index), doc.ID
		if fail != nil {
			it.status, it.errType, it.errWhy = fail.Status, fail.Type, fail.Reason
			continue
		}
		doc.Source = append([]byte(nil), a.source...)
		it.result, it.status = "created", 201
		if pos, exists := s.byID[key]; exists {
			it.result, it.status = "updated", 200
			s.docs[pos] = doc
		} else {
			s.byID[key] = len(s.docs)
			s.docs = append(s.docs, doc)
		}
		s.seqNo++
		it.seqNo = s.seqNo
	}
	return items
}

// filter is a parsed filter_path: the response keeps a member when a pattern matches its path or a
// prefix of it. Only "*" wildcards are implemented ("**" and exclusions are refused).
type filter [][]string

func parseFilter(fp string) (filter, error) {
	if fp == "" {
		return nil, nil
	}
	var f filter
	for _, p := range strings.Split(fp, ",") {
		if p == "" || strings.Contains(p, "**") || strings.HasPrefix(p, "-") {
			return nil, fmt.Errorf("estest: filter_path pattern [%s] is not implemented", p)
		}
		f = append(f, strings.Split(p, "."))
	}
	return f, nil
}

// keeps reports whether the member at path stays in the response.
func (f filter) keeps(path ...string) bool {
	if f == nil {
		return true
	}
	for _, p := range f {
		if len(p) > len(path) {
			// A longer pattern keeps this object only partly; its members are asked separately.
			if matchSegments(p[:len(path)], path) {
				return true
			}
			continue
		}
		if matchSegments(p, path[:len(p)]) {
			return true
		}
	}
	return false
}

// leaf reports whether the leaf member at path stays.
func (f filter) leaf(path ...string) bool {
	if f == nil {
		return true
	}
	for _, p := range f {
		if len(p) <= len(path) && matchSegments(p, path[:len(p)]) {
			return true
		}
	}
	return false
}

func matchSegments(pattern, path []string) bool {
	for i := range pattern {
		if pattern[i] != "*" && pattern[i] != path[i] {
			return false
		}
	}
	return true
}

// response renders a bulk response, filtered as Elasticsearch filters it: members the filter does not
// keep are left out, and an object (an item) left empty disappears.
func response(items []item, took int64, f filter) []byte {
	errors := false
	for _, it := range items {
		if it.errType != "" {
			errors = true
		}
	}
	out := make([]byte, 0, 64+len(items)*48)
	out = append(out, '{')
	if f.leaf("took") {
		out = member(out, "took")
		out = strconv.AppendInt(out, took, 10)
	}
	if f.leaf("errors") {
		out = member(out, "errors")
		out = strconv.AppendBool(out, errors)
	}
	if f.keeps("items") {
		mark := len(out)
		out = member(out, "items")
		out = append(out, '[')
		first := len(out)
		for _, it := range items {
			start := len(out)
			if len(out) > first {
				out = append(out, ',')
			}
			out = append(out, '{')
			out = appendQuoted(out, it.op)
			out = append(out, ':', '{')
			empty := len(out)
			leaf := func(name string) bool {
				if !f.leaf("items", it.op, name) {
					return false
				}
				out = member(out, name)
				return true
			}
			if leaf("_index") {
				out = appendQuoted(out, it.index)
			}
			if it.id != "" && leaf("_id") {
				out = appendQuoted(out, it.id)
			}
			if it.errType == "" {
				if leaf("_version") {
					out = append(out, '1')
				}
				if leaf("result") {
					out = appendQuoted(out, it.result)
				}
				if leaf("_shards") {
					out = append(out, `{"total":2,"successful":1,"failed":0}`...)
				}
				if leaf("_seq_no") {
					out = strconv.AppendInt(out, it.seqNo, 10)
				}
				if leaf("_primary_term") {
					out = append(out, '1')
				}
			}
			if leaf("status") {
				out = strconv.AppendInt(out, int64(it.status), 10)
			}
			if it.errType != "" && f.keeps("items", it.op, "error") {
				errMark := len(out)
				out = member(out, "error")
				out = append(out, '{')
				errEmpty := len(out)
				if f.leaf("items", it.op, "error", "type") {
					out = member(out, "type")
					out = appendQuoted(out, it.errType)
				}
				if f.leaf("items", it.op, "error", "reason") {
					out = member(out, "reason")
					out = appendQuoted(out, it.errWhy)
				}
				if len(out) == errEmpty {
					out = out[:errMark]
				} else {
					out = append(out, '}')
				}
			}
			if len(out) == empty {
				out = out[:start] // the filter emptied the item: it disappears
				continue
			}
			out = append(out, '}', '}')
		}
		if len(out) == first {
			out = out[:mark]
		} else {
			out = append(out, ']')
		}
	}
	return append(out, '}')
}

// member appends "name": after a comma when the object already has a member.
func member(b []byte, name string) []byte {
	if c := b[len(b)-1]; c != '{' && c != '[' {
		b = append(b, ',')
	}
	b = appendQuoted(b, name)
	return append(b, ':')
}

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return append(b, quote(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// checkSource validates the document d reads as Elasticsearch parses it: one JSON object, valid UTF-8, no
// duplicate member names, and in a data stream an @timestamp that is a date.
func checkSource(d *jsontext.Decoder, dataStream bool) *ItemFailure {
	bad := func(reason string) *ItemFailure {
		return &ItemFailure{400, "document_parsing_exception", "[1:1] failed to parse: " + reason}
	}
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return bad("document must be a JSON object")
	}
	haveTimestamp := false
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return bad(err.Error())
		}
		if name.String() == "@timestamp" {
			v, err := d.ReadToken()
			if err != nil {
				return bad(err.Error())
			}
			switch v.Kind() {
			case '"':
				if _, err := time.Parse(time.RFC3339Nano, v.String()); err != nil {
					return bad("failed to parse date field [" + v.String() + "]")
				}
			case '0':
			default:
				return bad("failed to parse field [@timestamp] of type [date]")
			}
			haveTimestamp = true
			continue
		}
		if err := d.SkipValue(); err != nil {
			return bad(err.Error())
		}
	}
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '}' {
		if err != nil {
			return bad(err.Error())
		}
		return bad("expected the end of the object")
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return bad("more than one JSON value")
	}
	if dataStream && !haveTimestamp {
		return bad("data stream timestamp field [@timestamp] is missing")
	}
	return nil
}

// isDataStream reports whether Elasticsearch's built-in index templates make name a data stream:
// logs-*-*, metrics-*-*, traces-*-* and synthetics-*-*.
func isDataStream(name string) bool {
	for _, p := range []string{"logs-", "metrics-", "traces-", "synthetics-"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return strings.Contains(rest, "-")
		}
	}
	return false
}

// backingIndex is the index a document of name lands in.
func backingIndex(name string) string {
	if isDataStream(name) {
		return ".ds-" + name + "-2026.01.01-000001"
	}
	return name
}

// generatedID returns an id in the shape of Elasticsearch's (20 URL-safe base64 characters).
func generatedID(n uint64) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b [20]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[n&63]
		n >>= 6
	}
	return string(b[:])
}

// statusErrorType is the error type Elasticsearch gives a whole-request failure with this status.
func statusErrorType(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "es_rejected_execution_exception"
	case http.StatusServiceUnavailable:
		return "cluster_block_exception"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "security_exception"
	}
	return "exception"
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
