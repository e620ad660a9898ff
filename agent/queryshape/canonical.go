package queryshape

import (
	"slices"
	"strings"
)

// canonical returns the node's canonical form, computing it once:
//
//   - a removed literal is ?; a kept string is JSON-quoted ("title"); a kept true/false is itself; a
//     size-like number is its bucket (≤20); a script's source is script:<16 hex digits>; a value nested
//     deeper than the parser keeps is …;
//   - an object is {"key":value,...} with its keys in byte order, then ,… if keys were left out;
//   - an array is [] when empty, else [e1|e2|...]×bucket: the merged shape of each kind of its elements
//     (merge.go), in byte order (then |… if more kinds came than are kept), and its length bucket (1,
//     2–4, 5–16, 17–64, 65+); scalars merged from like elements are their texts in byte order, joined
//     by |;
//   - a position that held values of different JSON types in like elements is (t1|t2), one merged shape
//     per type, in byte order.
func (n *node) canonical() string {
	if n.kind == 's' {
		return n.text
	}
	if n.canon != "" {
		return n.canon
	}
	var b strings.Builder
	size := 16
	for i, k := range n.keys {
		size += len(k) + 4 + len(n.vals[i].canonical())
	}
	for _, e := range n.elems {
		size += len(e.canonical()) + 1
	}
	b.Grow(size)
	switch n.kind {
	case 'o':
		var small [8]int
		order := small[:0]
		for i := range n.keys {
			order = append(order, i)
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(n.keys[a], n.keys[b]) })
		b.WriteByte('{')
		for j, i := range order {
			if j > 0 {
				b.WriteByte(',')
			}
			writeQuoted(&b, n.keys[i])
			b.WriteByte(':')
			b.WriteString(n.vals[i].canonical())
		}
		if n.more {
			if len(order) > 0 {
				b.WriteByte(',')
			}
			b.WriteString("…")
		}
		b.WriteByte('}')
	case 'u':
		b.WriteByte('(')
		n.writeElems(&b)
		b.WriteByte(')')
	case 'a':
		if n.n == 0 {
			n.canon = "[]"
			return n.canon
		}
		b.WriteByte('[')
		n.writeElems(&b)
		if n.more {
			b.WriteString("|…")
		}
		b.WriteString("]×")
		b.WriteString(lengthBucket(n.n))
	}
	n.canon = b.String()
	return n.canon
}

// writeElems writes the canonical forms of n's elements, sorted, joined by |.
func (n *node) writeElems(b *strings.Builder) {
	n.sortElems()
	for j, e := range n.elems {
		if j > 0 {
			b.WriteByte('|')
		}
		b.WriteString(e.canonical())
	}
}

// sortElems puts an array's distinct elements in the order of their canonical forms.
func (n *node) sortElems() {
	slices.SortFunc(n.elems, func(a, b *node) int { return strings.Compare(a.canonical(), b.canonical()) })
}

// get returns the value of key in an object node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != 'o' {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// sortedKeys returns an object's keys in byte order.
func (n *node) sortedKeys() []string {
	keys := slices.Clone(n.keys)
	slices.Sort(keys)
	return keys
}

// writeQuoted writes s (valid UTF-8) as a JSON string.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
