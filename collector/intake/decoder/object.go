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

// nested decodes the member name of the current object with fn, with name added to the validation path.
func (d *Decoder) nested(name string, fn func() bool) bool {
	d.v.push(name)
	set := fn()
	d.v.pop()
	return set
}

// member decodes the member name of the current object: an object (apm-data's struct typeName) of
// which only the member key is read, by read; its other members are skipped.
func (d *Decoder) member(name, typeName, key string, read func() bool) bool {
	d.v.push(name)
	set := d.only(typeName, key, read)
	d.v.pop()
	return set
}

// only decodes an object (apm-data's struct typeName) of which only the member key is read, by read.
func (d *Decoder) only(typeName, key string, read func() bool) bool {
	return d.object(typeName, func(k []byte) bool {
		if string(k) == key {
			return read()
		}
		d.s.skip()
		return false
	})
}

// strings reads an array of strings (null elements read as "", as jsoniter decodes them) into a region
// of the string slab.
func (d *Decoder) strings(maxLen int, field string) ([]string, bool) {
	s := &d.s
	if !s.beginArray() {
		return nil, false
	}
	strs := &d.pool.strs
	strs.begin()
	for first := true; s.nextElem(&first); {
		v, _ := s.str()
		if maxLen > 0 && tooLong(v, maxLen) {
			d.v.maxLength(field, maxLen)
		}
		*strs.add() = v
		if s.err != nil {
			break
		}
	}
	r := strs.end()
	return r, len(r) > 0
}
