package esstandin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// bulkAction is one action of a _bulk body: its metadata line, and its source line unless it deletes.
type bulkAction struct {
	op     string // index, create, delete
	index  string
	id     string
	source []byte
	line   int // of the metadata, from 1
}

// parseBulk splits a _bulk body into actions. defaultIndex is the index in the path, if any. Errors are
// about the request as a whole, as Elasticsearch's: a missing final newline, an unknown action or
// metadata parameter, a missing index.
func parseBulk(body []byte, defaultIndex string) ([]bulkAction, *esError) {
	if len(body) == 0 {
		return nil, errorf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	if body[len(body)-1] != '\n' {
		return nil, illegalArgument("The bulk request must be terminated by a newline [\\n]")
	}
	var actions []bulkAction
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		var meta map[string]map[string]json.RawMessage
		if err := json.Unmarshal(line, &meta); err != nil || len(meta) != 1 {
			return nil, illegalArgument("Malformed action/metadata line [%d], expected START_OBJECT with one action", i+1)
		}
		for op, params := range meta {
			a := bulkAction{op: op, index: defaultIndex, line: i + 1}
			switch op {
			case "index", "create", "delete":
			default:
				return nil, illegalArgument("Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s] (the stand-in has no update)", i+1, op)
			}
			for k, v := range params {
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return nil, illegalArgument("Action/metadata line [%d]: [%s] must be a string", i+1, k)
				}
				switch k {
				case "_index":
					a.index = s
				case "_id":
					a.id = s
				default:
					return nil, illegalArgument("Action/metadata line [%d] contains an unknown parameter [%s]", i+1, k)
				}
			}
			if a.index == "" {
				return nil, errorf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
			}
			if op == "delete" {
				if a.id == "" {
					return nil, errorf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: id is missing;")
				}
			} else {
				i++
				if i >= len(lines) || len(bytes.TrimSpace(lines[i])) == 0 {
					return nil, illegalArgument("Validation Failed: 1: the %s action on line [%d] has no source line", op, a.line)
				}
				a.source = bytes.Clone(bytes.TrimSpace(lines[i])) // not the whole body
			}
			actions = append(actions, a)
		}
	}
	if len(actions) == 0 {
		return nil, errorf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	return actions, nil
}

// bulk runs the actions and renders the answer, one item per action in order.
func (s *StandIn) bulk(actions []bulkAction, start time.Time) []byte {
	var items bytes.Buffer
	failed := false
	for n, a := range actions {
		if n > 0 {
			items.WriteByte(',')
		}
		status, result, e := s.apply(&a)
		id, _ := json.Marshal(a.id)
		items.WriteString(`{"` + a.op + `":{"_index":` + strconv.Quote(a.index) + `,"_id":` + string(id))
		if e != nil {
			failed = true
			items.WriteString(`,"status":` + strconv.Itoa(e.Status) + `,"error":`)
			cause, _ := json.Marshal(map[string]string{"type": e.Type, "reason": e.Reason})
			items.Write(cause)
		} else {
			items.WriteString(`,"_version":1,"result":"` + result + `","_shards":{"total":1,"successful":1,"failed":0},"status":` + strconv.Itoa(status))
		}
		items.WriteString("}}")
	}
	took := time.Since(start).Milliseconds()
	return []byte(`{"took":` + strconv.FormatInt(took, 10) + `,"errors":` + strconv.FormatBool(failed) +
		`,"items":[` + items.String() + `]}`)
}

// apply runs one action: the result ("created", "updated", "deleted", "not_found") and status, or the
// item's error.
func (s *StandIn) apply(a *bulkAction) (int, string, *esError) {
	ix := s.index(a.index)
	if ix == nil {
		return 0, "", errorf(http.StatusNotFound, "index_not_found_exception", "no such index [%s] (the stand-in does not create indices on write)", a.index)
	}
	if a.op == "delete" {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		doc, ok := ix.ids[a.id]
		if !ok {
			return http.StatusNotFound, "not_found", nil
		}
		ix.remove(doc)
		return http.StatusOK, "deleted", nil
	}
	pd, e := ix.parseDoc(a.source)
	if e != nil {
		return 0, "", e
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if a.id == "" {
		a.id = "standin-" + strconv.Itoa(len(ix.slots))
	}
	if _, exists := ix.ids[a.id]; exists && a.op == "create" {
		return 0, "", errorf(http.StatusConflict, "version_conflict_engine_exception", "[%s]: version conflict, document already exists", a.id)
	}
	if len(ix.slots) >= s.cfg.MaxDocuments {
		return 0, "", errorf(http.StatusTooManyRequests, "es_rejected_execution_exception", "the stand-in holds at most %d documents per index", s.cfg.MaxDocuments)
	}
	if ix.put(a.id, a.source, pd) {
		return http.StatusCreated, "created", nil
	}
	return http.StatusOK, "updated", nil
}
