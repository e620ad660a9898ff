package queryshape

import (
	"slices"
	"strings"
)

// Like elements. The elements of an array are like when they are objects with the same keys (clauses of
// one query type: {"match": ...}), arrays, or scalars. Like elements are collapsed into one shape, their
// merge: objects merged key by key (the union of their keys), arrays into one array of the merged
// elements of each kind with the greatest length, scalars into the set of their texts; values of
// different JSON types under one key into a union of one shape per type. So the should clauses
// {"match":{"title":{"query":..}}} and {"match":{"description":{"query":..,"operator":"and"}}} are one
// shape, match on title and description, with and without operator, and an array of twelve of them in
// any order and mix is that shape ×5–16. Merging is commutative and associative: neither the order of
// the elements nor how they are grouped changes the result.

// addElem adds child to array n: merged into the element of its kind, or a new kind.
func (p *parser) addElem(n, child *node) {
	for i, e := range n.elems {
		if sameKind(e, child) {
			n.elems[i] = p.merge(e, child)
			return
		}
	}
	if len(n.elems) >= maxDistinct {
		n.more = true
		return
	}
	n.elems = append(n.elems, child)
}

// sameKind reports whether two array elements are like: both objects with the same set of keys, both
// arrays, both scalars, or both unions.
func sameKind(a, b *node) bool {
	if a.kind != b.kind {
		return false
	}
	if a.kind != 'o' {
		return true
	}
	if len(a.keys) != len(b.keys) || a.more != b.more {
		return false
	}
	for _, k := range b.keys {
		if !a.has(k) {
			return false
		}
	}
	return true
}

// merge returns the shape of a position that held a in one like element and b in another. It may change
// a (never b, nor the shared literal), and returns the result.
func (p *parser) merge(a, b *node) *node {
	if a == b {
		return a
	}
	if a.kind == 'u' || b.kind == 'u' || a.kind != b.kind {
		return p.union(a, b)
	}
	switch a.kind {
	case 'o':
		for i, k := range b.keys {
			if j := slices.Index(a.keys, k); j >= 0 {
				a.vals[j] = p.merge(a.vals[j], b.vals[i])
			} else if len(a.keys) < maxKeys {
				a.keys = append(a.keys, k)
				a.vals = append(a.vals, b.vals[i])
			} else {
				a.more = true
			}
		}
		a.more = a.more || b.more
		return a
	case 'a':
		for _, e := range b.elems {
			p.addElem(a, e)
		}
		a.n = max(a.n, b.n)
		a.more = a.more || b.more
		return a
	}
	// Scalars: the set of their texts.
	at, bt := a.scalarTexts(), b.scalarTexts()
	merged := slices.Clone(at)
	for _, t := range bt {
		if i, found := slices.BinarySearch(merged, t); !found {
			merged = slices.Insert(merged, i, t)
		}
	}
	if len(merged) == len(at) {
		return a
	}
	n := p.node('s')
	n.texts = merged
	n.text = strings.Join(merged, "|")
	return n
}

// scalarTexts returns a scalar's texts, sorted.
func (n *node) scalarTexts() []string {
	if n.texts != nil {
		return n.texts
	}
	return []string{n.text}
}

// union returns the union of a and b: one shape per JSON type.
func (p *parser) union(a, b *node) *node {
	u := a
	if a.kind != 'u' {
		u = p.node('u')
		u.elems = append(u.elems, a)
	}
	parts := []*node{b}
	if b.kind == 'u' {
		parts = b.elems
	}
	for _, x := range parts {
		merged := false
		for i, e := range u.elems {
			if e.kind == x.kind {
				u.elems[i] = p.merge(e, x)
				merged = true
				break
			}
		}
		if !merged {
			u.elems = append(u.elems, x)
		}
	}
	return u
}
