package pebble

import (
	"bytes"
	"container/heap"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// A source is one sorted run of index keys: the keys in [lo, hi) that start with prefix. The part of a
// key after its prefix (the suffix: time or duration, then sequence number) orders keys across sources,
// so a query over many partitions (and names) is a k-way merge of sources.
type source struct {
	prefix []byte
	lo, hi []byte
}

type head struct {
	src        int
	key, value []byte
}

// merger merges sources through one Pebble iterator, ascending or descending by suffix. Each source's
// head is copied, so the iterator can move between sources; consecutive keys from the same source cost
// a Next, a switch of source a seek.
type merger struct {
	it    *pebbledb.Iterator
	srcs  []source
	desc  bool
	heads []head
	at    int // source the iterator is positioned in, or -1
}

func (m *merger) Len() int { return len(m.heads) }
func (m *merger) Less(i, j int) bool {
	a := m.heads[i].key[len(m.srcs[m.heads[i].src].prefix):]
	b := m.heads[j].key[len(m.srcs[m.heads[j].src].prefix):]
	if m.desc {
		return bytes.Compare(a, b) > 0
	}
	return bytes.Compare(a, b) < 0
}
func (m *merger) Swap(i, j int) { m.heads[i], m.heads[j] = m.heads[j], m.heads[i] }
func (m *merger) Push(x any)    { m.heads = append(m.heads, x.(head)) }
func (m *merger) Pop() any {
	h := m.heads[len(m.heads)-1]
	m.heads = m.heads[:len(m.heads)-1]
	return h
}

func newMerger(it *pebbledb.Iterator, srcs []source, desc bool) *merger {
	m := &merger{it: it, srcs: srcs, desc: desc, at: -1}
	for i := range srcs {
		if h, ok := m.position(i, nil); ok {
			m.heads = append(m.heads, h)
		}
	}
	heap.Init(m)
	return m
}

// position finds source i's next key after `after` (its first when after is nil) and copies it into a
// head reusing buf's memory.
func (m *merger) position(i int, prev *head) (head, bool) {
	src := &m.srcs[i]
	var ok bool
	switch {
	case prev != nil && m.at == i && m.desc:
		ok = m.it.Prev()
	case prev != nil && m.at == i:
		ok = m.it.Next()
	case prev != nil && m.desc:
		ok = m.it.SeekLT(prev.key)
	case prev != nil:
		ok = m.it.SeekGE(append(prev.key, 0))
		prev.key = prev.key[:len(prev.key)-1]
	case m.desc:
		ok = m.it.SeekLT(src.hi)
	default:
		ok = m.it.SeekGE(src.lo)
	}
	m.at = i
	if !ok {
		return head{}, false
	}
	k := m.it.Key()
	if bytes.Compare(k, src.lo) < 0 || bytes.Compare(k, src.hi) >= 0 || !bytes.HasPrefix(k, src.prefix) {
		return head{}, false
	}
	h := head{src: i}
	if prev != nil {
		h.key, h.value = prev.key[:0], prev.value[:0]
	}
	h.key = append(h.key, k...)
	h.value = append(h.value, m.it.Value()...)
	return h, true
}

// next returns the next key and value in merge order; they are valid until the following call.
func (m *merger) next(cur *head) bool {
	if cur.key != nil {
		if h, ok := m.position(cur.src, cur); ok {
			heap.Push(m, h)
		}
	}
	if len(m.heads) == 0 {
		return false
	}
	*cur = heap.Pop(m).(head)
	return true
}
