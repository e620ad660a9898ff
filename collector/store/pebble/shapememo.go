package pebble

import (
	"sync"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
	"github.com/hotpath-apm/hotpath/collector"
)

// shapeMemo remembers the query shapes of the statements the store saw last: shaping an
// Elasticsearch statement (queryshape.Request) parses its JSON, about 5 µs, and a SQL one is lexed; an
// application sends the same few statements again and again when its queries carry no literal
// (parameters, templates, bind parameters) or the same ones. The memo holds at most maxShapeMemoBytes of statements, and starts over when full. Statements
// that differ only in their literals are shaped every time.
type shapeMemo struct {
	mu    sync.RWMutex
	m     map[string]memoShape // db type, 0, URL path or dialect, 0, statement -> shape
	bytes int
}

// memoShape is what ShapeOf needs of a queryshape.Shape.
type memoShape struct {
	id, summary   string
	truncated, ok bool
}

// maxShapeMemoBytes bounds the statements (with their paths and shapes) a shapeMemo holds.
const maxShapeMemoBytes = 1 << 20

// shapeOf is collector.ShapeStatement through the store's memo (r.memo, nil in tests that prepare
// without a store). r.memoKey is its scratch key. A remembered shape lacks Canonical, which ShapeOf does
// not use.
func (r *pendingWrite) shapeOf(dbType, where, statement string) (queryshape.Shape, bool) {
	m := r.memo
	if m == nil {
		return collector.ShapeStatement(dbType, where, statement)
	}
	r.memoKey = append(append(append(append(append(r.memoKey[:0], dbType...), 0), where...), 0), statement...)
	m.mu.RLock()
	v, hit := m.m[string(r.memoKey)]
	m.mu.RUnlock()
	if hit {
		return queryshape.Shape{ID: v.id, Summary: v.summary, Truncated: v.truncated}, v.ok
	}
	s, ok := collector.ShapeStatement(dbType, where, statement)
	v = memoShape{id: s.ID, summary: s.Summary, truncated: s.Truncated, ok: ok}
	size := len(r.memoKey) + len(v.id) + len(v.summary)
	m.mu.Lock()
	if m.bytes+size > maxShapeMemoBytes || m.m == nil {
		m.m, m.bytes = make(map[string]memoShape), 0
	}
	if size <= maxShapeMemoBytes {
		m.m[string(r.memoKey)] = v
		m.bytes += size
	}
	m.mu.Unlock()
	return s, ok
}
