package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
	"unsafe"

	"github.com/hotpath-apm/hotpath/collector"
)

// This file holds the primitives of the event codec (codec.go, codec_gen.go): protobuf's wire format,
// written by hand because the message types are Go structs, not .proto files.

const maxDepth = 64 // nesting limit for decoding (exception causes are the only recursion)

var (
	errTruncated = errors.New("truncated")
	errOverflow  = errors.New("varint overflows 64 bits")
	errTooDeep   = errors.New("nesting deeper than 64")
)

func appendKey(b []byte, key uint64) []byte { return binary.AppendUvarint(b, key) }

// openMessage appends key and the byte finishMessage turns into the length of the message appended
// after it, and returns the mark finishMessage takes.
func openMessage(b []byte, key uint64) ([]byte, int) {
	if key < 0x80 {
		return append(b, byte(key), 0), len(b) + 1
	}
	b = binary.AppendUvarint(b, key)
	m := len(b)
	return append(b, 0), m
}

// appendString appends a length-delimited field. Most keys and strings are under 128, so their key
// and length are a byte each (key is a constant where the codec calls it: the test folds away).
func appendString(b []byte, key uint64, s string) []byte {
	if key < 0x80 && len(s) < 0x80 {
		b = append(b, byte(key), byte(len(s)))
		return append(b, s...)
	}
	b = binary.AppendUvarint(b, key)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, key uint64, v bool) []byte {
	var u byte
	if v {
		u = 1
	}
	if key < 0x80 {
		return append(b, byte(key), u)
	}
	return append(binary.AppendUvarint(b, key), u)
}

func appendInt(b []byte, key uint64, v int64) []byte {
	return appendUint(b, key, uint64(v<<1)^uint64(v>>63))
}

func appendUint(b []byte, key uint64, v uint64) []byte {
	if key < 0x80 && v < 0x80 {
		return append(b, byte(key), byte(v))
	}
	b = binary.AppendUvarint(b, key)
	return binary.AppendUvarint(b, v)
}

func appendFloat(b []byte, key uint64, v float64) []byte {
	b = binary.AppendUvarint(b, key)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// appendTime writes t as a message of zigzag seconds and nanoseconds since the Unix epoch, which covers
// every time.Time an agent can send (unlike UnixNano's 1678-2262 range). The location is not kept.
func appendTime(b []byte, key uint64, t time.Time) []byte {
	// The message is at most 2 × 10 bytes, so its length is one byte, written after the fact.
	b, m := openMessage(b, key)
	s := t.Unix()
	b = binary.AppendUvarint(b, uint64(s<<1)^uint64(s>>63))
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	b[m] = byte(len(b) - m - 1)
	return b
}

func appendAddr(b []byte, key uint64, a netip.Addr) []byte {
	b, m := openMessage(b, key)
	b, _ = a.AppendBinary(b) // never fails
	return finishMessage(b, m)
}

func appendPackedFloats(b []byte, key uint64, v []float64) []byte {
	b = binary.AppendUvarint(b, key)
	b = binary.AppendUvarint(b, uint64(8*len(v)))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b
}

func appendPackedUints(b []byte, key uint64, v []uint64) []byte {
	b, m := openMessage(b, key)
	for _, u := range v {
		b = binary.AppendUvarint(b, u)
	}
	return finishMessage(b, m)
}

// finishMessage turns the one byte reserved at b[m] into the varint length of b[m+1:], moving the
// message when its length needs more than one byte.
func finishMessage(b []byte, m int) []byte {
	n := len(b) - m - 1
	if n < 0x80 {
		b[m] = byte(n)
		return b
	}
	var tmp [binary.MaxVarintLen64]byte
	w := binary.PutUvarint(tmp[:], uint64(n))
	b = append(b, tmp[:w-1]...) // grow by the extra length bytes
	copy(b[m+w:], b[m+1:m+1+n])
	copy(b[m:], tmp[:w])
	return b
}

// finishOptionalMessage is finishMessage for an embedded struct, which is left out (its key, written at
// b[k:m], included) when all its fields are zero.
func finishOptionalMessage(b []byte, k, m int) []byte {
	if len(b) == m+1 {
		return b[:k]
	}
	return finishMessage(b, m)
}

// decoder reads one message. Strings it returns are substrings of s, so decoding an event allocates its
// strings once (the conversion of the stored value to s), not once per field.
type decoder struct {
	s     string
	i     int
	depth int
}

func (d *decoder) more() bool { return d.i < len(d.s) }

func (d *decoder) uvarint() (uint64, error) {
	var x uint64
	for shift := uint(0); ; shift += 7 {
		if d.i >= len(d.s) {
			return 0, errTruncated
		}
		c := d.s[d.i]
		d.i++
		if shift == 63 && c > 1 {
			return 0, errOverflow
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x, nil
		}
	}
}

func (d *decoder) key() (uint64, error) { return d.uvarint() }

func (d *decoder) varint() (int64, error) {
	u, err := d.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

func (d *decoder) float() (float64, error) {
	if len(d.s)-d.i < 8 {
		return 0, errTruncated
	}
	u := uint64(d.s[d.i]) | uint64(d.s[d.i+1])<<8 | uint64(d.s[d.i+2])<<16 | uint64(d.s[d.i+3])<<24 |
		uint64(d.s[d.i+4])<<32 | uint64(d.s[d.i+5])<<40 | uint64(d.s[d.i+6])<<48 | uint64(d.s[d.i+7])<<56
	d.i += 8
	return math.Float64frombits(u), nil
}

func (d *decoder) bool() (bool, error) {
	u, err := d.uvarint()
	return u != 0, err
}

func (d *decoder) bytes() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.s)-d.i) {
		return "", errTruncated
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s, nil
}

// sub returns a decoder for the length-delimited message at the current position and moves past it.
func (d *decoder) sub() (decoder, error) {
	if d.depth >= maxDepth {
		return decoder{}, errTooDeep
	}
	s, err := d.bytes()
	return decoder{s: s, depth: d.depth + 1}, err
}

func (d *decoder) time() (time.Time, error) {
	sub, err := d.sub()
	if err != nil {
		return time.Time{}, err
	}
	sec, err := sub.varint()
	if err != nil {
		return time.Time{}, err
	}
	nsec, err := sub.uvarint()
	if err != nil {
		return time.Time{}, err
	}
	if sec > 1<<62 || sec < -1<<62 {
		return time.Time{}, fmt.Errorf("time: %d seconds is out of range", sec)
	}
	if nsec >= 1e9 {
		return time.Time{}, fmt.Errorf("time: %d nanoseconds", nsec)
	}
	return time.Unix(sec, int64(nsec)).UTC(), nil
}

func (d *decoder) addr() (netip.Addr, error) {
	s, err := d.bytes()
	if err != nil {
		return netip.Addr{}, err
	}
	var a netip.Addr
	if err := a.UnmarshalBinary(unsafe.Slice(unsafe.StringData(s), len(s))); err != nil {
		return netip.Addr{}, err
	}
	return a, nil
}

func (d *decoder) packedFloats(dst []float64) ([]float64, error) {
	s, err := d.bytes()
	if err != nil {
		return nil, err
	}
	if len(s)%8 != 0 {
		return nil, fmt.Errorf("packed floats: %d bytes", len(s))
	}
	sub := decoder{s: s}
	for sub.more() {
		f, _ := sub.float()
		dst = append(dst, f)
	}
	return dst, nil
}

func (d *decoder) packedUints(dst []uint64) ([]uint64, error) {
	sub, err := d.sub()
	if err != nil {
		return nil, err
	}
	for sub.more() {
		u, err := sub.uvarint()
		if err != nil {
			return nil, err
		}
		dst = append(dst, u)
	}
	return dst, nil
}

// skip moves past the value of a field this build does not know (written by a newer one).
func (d *decoder) skip(key uint64) error {
	switch key & 7 {
	case 0:
		_, err := d.uvarint()
		return err
	case 1:
		_, err := d.float()
		return err
	case 2:
		_, err := d.bytes()
		return err
	default:
		return fmt.Errorf("field %d: unknown wire type %d", key>>3, key&7)
	}
}

// The generated decoders read a field of a named or narrower type than the decoder's method returns
// through these: asInt[int32](d.varint()) is the value read, converted, and the method's error.

func asString[T ~string](s string, err error) (T, error) { return T(s), err }

func asInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](i int64, err error) (T, error) {
	return T(i), err
}

func asUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](u uint64, err error) (T, error) {
	return T(u), err
}

// sameBits reports whether the bytes [from, to) of the events a and b are the same (eqEventShared).
func sameBits(a, b *collector.Event, from, to uintptr) bool {
	pa, pb := unsafe.Add(unsafe.Pointer(a), from), unsafe.Add(unsafe.Pointer(b), from)
	return unsafe.String((*byte)(pa), to-from) == unsafe.String((*byte)(pb), to-from)
}
