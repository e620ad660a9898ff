package decoder

// object iterates the members of the next value, an object or null, calling field for each key; field
// reads the member's value (or skips it) and reports whether it set something, which object reports in
// turn (apm-data's IsSet: a struct is set when one of its fields holds a non-null value). typeName is the
// apm-data struct the object decodes into, named in decode errors.
func (d *Decoder) object(typeName string, field func(key []byte) bool) (set bool) {
	s := &d.s
	if !s.beginObject() {
		return false
	}
	var key []byte
	for first := true; s.nextKey(&first, &key); {
		if field(key) {
			set = true
		}
		if s.err != nil {
			s.frame(typeName, key)
			return set
		}
	}
	if s.err != nil && s.err.inKey {
		s.frame(typeName, nil)
	}
	return set
}

// elements decodes an array of objects of the schema, each element with elem under name in the
// validation path: an element that is null or has no member fails validation. It reports whether the
// value was an array (and not null).
func (d *Decoder) elements(name string, elem func() bool) bool {
	s := &d.s
	if !s.beginArray() {
		return false
	}
	for first := true; s.nextElem(&first); {
		d.v.push(name)
		set := elem()
		d.v.pop()
		if s.err != nil {
			break
		}
		if !set {
			d.v.fail(name + " slice element required")
		}
	}
	return true
}

// objectArray decodes an array of objects into a region of sl with elements, each element by elem. It
// returns the region and whether the value was an array.
func objectArray[T any](d *Decoder, sl *slab[T], name string, elem func(*T) bool) ([]T, bool) {
	sl.begin()
	if !d.elements(name, func() bool { return elem(sl.add()) }) {
		return nil, false
	}
	return sl.end(), true
}

// strings reads an array of strings (null elements read as "", as jsoniter decodes them) into a region
// of the string slab; maxLen, if not 0, is their maximum length.
func (d *Decoder) strings(maxLen int, field string) ([]string, bool) {
	r := values(d, &d.pool.strs, func() (string, bool) {
		v, ok := d.s.str()
		if maxLen > 0 && tooLong(v, maxLen) {
			d.v.maxLength(field, maxLen)
		}
		return v, ok
	})
	return r, len(r) > 0
}

// values reads an array of values into a region of sl, each by read (a null element as read reads it:
// as its type's zero, as jsoniter decodes it), or nil for null.
func values[T any](d *Decoder, sl *slab[T], read func() (T, bool)) []T {
	s := &d.s
	if !s.beginArray() {
		return nil
	}
	sl.begin()
	for first := true; s.nextElem(&first); {
		v, _ := read()
		if s.err != nil {
			break
		}
		*sl.add() = v
	}
	return sl.end()
}
