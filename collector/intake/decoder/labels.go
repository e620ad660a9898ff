package decoder

import (
	"strconv"

	"github.com/hotpath-apm/hotpath/collector"
)

// keyIndex finds keys in a region of a slab without a quadratic scan once the region is large. Regions
// are short in practice (a handful of labels or headers), so it is only built past indexThreshold.
type keyIndex struct {
	m     map[string]int
	built int
}

const indexThreshold = 16

func (k *keyIndex) reset() {
	if k.built > 0 {
		clear(k.m)
	}
	k.built = 0
}

// find returns the index in r of the entry whose key is key, or -1.
func find[T any](k *keyIndex, r []T, key string, keyOf func(*T) string) int {
	if len(r) <= indexThreshold {
		for i := range r {
			if keyOf(&r[i]) == key {
				return i
			}
		}
		return -1
	}
	if k.m == nil {
		k.m = make(map[string]int)
	}
	for ; k.built < len(r); k.built++ {
		k.m[keyOf(&r[k.built])] = k.built
	}
	if i, ok := k.m[key]; ok {
		return i
	}
	return -1
}

// upsert returns r with v in place of its element keyed key, or appended when there is none: a
// repeated key keeps its last value, as in the Go maps apm-data decodes into.
func upsert[T any](k *keyIndex, r []T, v T, key string, keyOf func(*T) string) []T {
	if i := find(k, r, key, keyOf); i >= 0 {
		r[i] = v
		return r
	}
	return append(r, v)
}

func labelKey(l *collector.Label) string          { return l.Key }
func numericKey(l *collector.NumericLabel) string { return l.Key }

// labelSet builds the labels of one event (or of the metadata) with apm-data's precedence: a label set
// again replaces the earlier one of its kind, whether that came from the metadata (global) or from the
// event itself.
type labelSet struct {
	strs  slab[collector.Label]
	nums  slab[collector.NumericLabel]
	own   bool // strs/nums regions started (holding a copy of the inherited labels)
	sIdx  keyIndex
	nIdx  keyIndex
	sBase []collector.Label // inherited (metadata) labels
	nBase []collector.NumericLabel
}

// start begins the labels of an event that inherits base labels.
func (ls *labelSet) start(strs []collector.Label, nums []collector.NumericLabel) {
	ls.own = false
	ls.sBase, ls.nBase = strs, nums
}

func (ls *labelSet) claim() {
	if ls.own {
		return
	}
	ls.own = true
	ls.sIdx.reset()
	ls.nIdx.reset()
	ls.strs.begin()
	for _, l := range ls.sBase {
		*ls.strs.add() = l
	}
	ls.nums.begin()
	for _, l := range ls.nBase {
		*ls.nums.add() = l
	}
}

func (ls *labelSet) set(l collector.Label) {
	ls.claim()
	ls.strs.put(&ls.sIdx, l, l.Key, labelKey)
}

func (ls *labelSet) setNumeric(l collector.NumericLabel) {
	ls.claim()
	ls.nums.put(&ls.nIdx, l, l.Key, numericKey)
}

// result returns the event's labels: the inherited slices if nothing was set, else the regions.
func (ls *labelSet) result() ([]collector.Label, []collector.NumericLabel) {
	if !ls.own {
		return ls.sBase, ls.nBase
	}
	ls.own = false
	return ls.strs.end(), ls.nums.end()
}

// labelEntry is one member of a labels object, kept until the object ends: like the Go map apm-data
// decodes into, a repeated key keeps only its last value, and only that value is validated.
type labelEntry struct {
	key     string
	kind    byte // 's' string, 'b' boolean, 'n' number, 0 null or an unconvertible number, 'x' other
	str     string
	num     float64
	tooLong bool
}

func labelEntryKey(e *labelEntry) string { return e.key }

// labels reads a labels/tags object (string, boolean and number values; null ignored) into ls. field
// names it in validation messages. It reports whether the object had any member (apm-data's IsSet of a
// map, which counts null members).
func (d *Decoder) labels(ls *labelSet, field string, global bool) bool {
	s := &d.s
	if !s.beginObject() {
		return false
	}
	entries := d.labelTmp[:0]
	d.labelIdx.reset()
	var key []byte
	for first := true; s.nextKey(&first, &key); {
		e := labelEntry{key: d.arena.str(key)}
		switch c := s.peek(); {
		case c == '"':
			e.str, _ = s.str()
			e.kind, e.tooLong = 's', tooLong(e.str, 1024)
		case c == 't' || c == 'f':
			b, _ := s.bool()
			e.kind, e.str = 'b', strconv.FormatBool(b)
		case c == 'n':
			s.null()
		case isNumberStart(c):
			text, _ := s.looseNumber()
			if s.err != nil {
				break
			}
			// apm-data drops a number it cannot convert (json.Number.Float64 failing on overflow).
			if f, err := strconv.ParseFloat(bytesToString(text), 64); err == nil {
				e.kind, e.num = 'n', f
			}
		default:
			e.kind = 'x'
			s.skip()
		}
		if s.err != nil {
			d.labelTmp = entries
			return true
		}
		entries = upsert(&d.labelIdx, entries, e, e.key, labelEntryKey)
	}
	d.labelTmp = entries
	for _, e := range entries {
		switch {
		case e.kind == 'x':
			d.v.fail("'" + field + "': validation rule 'inputTypesVals(string;bool;number)' violated for key " + e.key)
		case e.tooLong:
			d.v.fail("'" + field + "': validation rule 'maxLengthVals(1024)' violated")
		case e.kind == 's':
			ls.set(collector.Label{Key: e.key, Value: e.str, Global: global})
		case e.kind == 'b':
			ls.set(collector.Label{Key: e.key, Value: e.str, Bool: true, Global: global})
		case e.kind == 'n':
			ls.setNumeric(collector.NumericLabel{Key: e.key, Value: e.num, Global: global})
		}
	}
	return len(entries) > 0
}
