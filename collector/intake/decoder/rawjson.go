package decoder

import (
	"github.com/hotpath-apm/hotpath/collector"
)

// Free-form values (custom context, request bodies, cookies, env, frame vars, exception attributes) are
// kept as JSON text, normalized the way apm-data normalizes them before they reach a document: null
// members, empty arrays and empty objects disappear from objects, recursively (an object or array left
// empty disappears in turn), and inside arrays they become null. A repeated key keeps its last value, as
// Go maps do (a repeated key whose last value is null disappears). Strings and numbers keep their text.

// memberSpan is one member of an object being normalized: its text (with a leading comma) is
// Decoder.tmp[start:end], key is its quoted key as it appears in the input.
type memberSpan struct {
	start, end int
	key        []byte
}

// linearKeys is the object size up to which repeated keys are found by scanning; larger objects use a
// map.
const linearKeys = 32

// rawValue reads any value and returns its normalized text, or false if it normalizes to nothing.
func (d *Decoder) rawValue() (collector.RawJSON, bool) {
	d.tmp = d.tmp[:0]
	if !d.norm() || d.s.err != nil {
		return "", false
	}
	return collector.RawJSON(d.arena.str(d.tmp)), true
}

// norm appends the normalized next value to d.tmp and reports whether it is kept.
func (d *Decoder) norm() bool {
	s := &d.s
	switch c := s.ws(); {
	case c == '{':
		return d.normObject()
	case c == '[':
		s.pos++
		if !s.push() {
			return false
		}
		mark := len(d.tmp)
		d.tmp = append(d.tmp, '[')
		n := 0
		for first := true; s.nextElem(&first); {
			if n > 0 {
				d.tmp = append(d.tmp, ',')
			}
			elem := len(d.tmp)
			if !d.norm() {
				if s.err != nil {
					break
				}
				d.tmp = append(d.tmp[:elem], "null"...)
			}
			n++
		}
		if n == 0 || s.err != nil {
			d.tmp = d.tmp[:mark]
			return false
		}
		d.tmp = append(d.tmp, ']')
		return true
	case c == '"':
		start := s.pos
		s.skipString()
		d.tmp = append(d.tmp, s.buf[start:s.pos]...)
	case c == 't' || c == 'f':
		start := s.pos
		s.bool()
		d.tmp = append(d.tmp, s.buf[start:s.pos]...)
	case c == 'n':
		s.null()
		return false
	case isNumberStart(c):
		// jsoniter takes any run of number characters here; one that is not a JSON number cannot be
		// kept as JSON and becomes null.
		text, valid := s.looseNumber()
		if valid {
			d.tmp = append(d.tmp, text...)
		} else {
			d.tmp = append(d.tmp, "null"...)
		}
	default:
		s.skip() // reports the syntax error
		return false
	}
	return s.err == nil
}

func (d *Decoder) normObject() bool {
	s := &d.s
	s.pos++
	if !s.push() {
		return false
	}
	mark := len(d.tmp)
	d.tmp = append(d.tmp, '{')
	base := len(d.spans)
	defer func() { d.spans = d.spans[:base] }()
	var seen map[string]struct{}
	dup := false
	var key []byte
	for first := true; s.nextKeyRaw(&first, &key); {
		sp := memberSpan{start: len(d.tmp), key: key}
		d.tmp = append(d.tmp, ',')
		d.tmp = append(d.tmp, key...)
		d.tmp = append(d.tmp, ':')
		if !d.norm() {
			d.tmp = d.tmp[:sp.start]
			if s.err != nil {
				break
			}
		}
		sp.end = len(d.tmp)
		// Find repeated keys (a removed member still removes an earlier one with its key).
		n := len(d.spans) - base
		switch {
		case n < linearKeys:
			for _, o := range d.spans[base:] {
				if string(o.key) == string(key) {
					dup = true
					break
				}
			}
		default:
			if seen == nil {
				seen = make(map[string]struct{}, 2*n)
				for _, o := range d.spans[base:] {
					seen[string(o.key)] = struct{}{}
				}
			}
			if _, ok := seen[string(key)]; ok {
				dup = true
			} else {
				seen[string(key)] = struct{}{}
			}
		}
		d.spans = append(d.spans, sp)
	}
	if s.err != nil {
		d.tmp = d.tmp[:mark]
		return false
	}
	if dup {
		d.keepLast(mark, d.spans[base:])
	}
	if len(d.tmp) == mark+1 {
		d.tmp = d.tmp[:mark]
		return false
	}
	// Drop the first member's separating comma.
	copy(d.tmp[mark+1:], d.tmp[mark+2:])
	d.tmp[len(d.tmp)-1] = '}'
	return true
}

// keepLast rewrites the members of the object that starts at mark so that only the last occurrence of
// each key remains.
func (d *Decoder) keepLast(mark int, spans []memberSpan) {
	last := make(map[string]int, len(spans))
	for i, sp := range spans {
		last[string(sp.key)] = i
	}
	out := make([]byte, 0, len(d.tmp)-mark)
	for i, sp := range spans {
		if last[string(sp.key)] == i {
			out = append(out, d.tmp[sp.start:sp.end]...)
		}
	}
	d.tmp = append(d.tmp[:mark+1], out...)
}

// keyValues reads an object of free-form values (custom, env, cookies, vars, attributes) into a region
// of KeyValues, normalized. It reports whether the object had any member (apm-data's IsSet of a map).
func (d *Decoder) keyValues(dst *[]collector.KeyValue) bool {
	s := &d.s
	if !s.beginObject() {
		return false
	}
	kv := &d.pool.kv
	kv.begin()
	d.kvIdx.reset()
	n := 0
	var key []byte
	for first := true; s.nextKey(&first, &key); {
		n++
		k := d.arena.str(key)
		v, ok := d.rawValue()
		if s.err != nil {
			break
		}
		r := kv.region()
		i := find(&d.kvIdx, r, k, kvKey)
		switch {
		case i >= 0 && ok:
			r[i].Value = v
		case i >= 0:
			// A later null deletes the key (Go map semantics, then normalization).
			r[i] = r[len(r)-1]
			kv.pop()
			d.kvIdx.reset()
		case ok:
			*kv.add() = collector.KeyValue{Key: k, Value: v}
		}
	}
	*dst = kv.end()
	return n > 0
}

func kvKey(kv *collector.KeyValue) string { return kv.Key }
