package decoder

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// arenaChunk is the size of the blocks strings are carved from. One block serves a few hundred typical
// events, so string memory costs one allocation per block instead of one per string.
const arenaChunk = 64 << 10

// internBits sizes the arena's table of recent strings: 1<<internBits entries.
const internBits = 9

// arena is an append-only byte allocator. Every string the decoder hands out is a view of an arena
// block; bytes are written once, before the strings over them are made, and never again, so the strings
// are ordinary immutable Go strings that consumers may keep as long as they like (keeping one keeps its
// block alive). A full block is never grown in place: a new one is started and the old one is left to
// the strings that use it.
//
// str hands out a string already in the current block when it has the same bytes (the table of
// recent strings, recent): the events of a stream repeat most of their values (names, types, outcomes,
// URLs, a trace's ids), and a repeated value then costs neither the copy nor the memory, so the
// collector's garbage collector runs less often. The table holds only strings of the current block,
// so it never keeps an older block alive; it is cleared when a block is started or rewound.
type arena struct {
	buf    []byte // the current block; len(buf) bytes are used
	gen    int    // counts blocks, for rollback
	recent *[1 << internBits]recentString
	tmp    []byte // unescaped's scratch
}

// ensure makes room for n more bytes in the current block.
func (a *arena) ensure(n int) {
	if cap(a.buf)-len(a.buf) >= n {
		return
	}
	size := arenaChunk
	if n > size/4 {
		// A large line gets a block of its own plus room for what decoding it adds.
		size = n + n/2 + 512
	}
	a.buf = make([]byte, 0, size)
	a.gen++
	a.forget()
}

// forget clears the table of recent strings.
func (a *arena) forget() {
	if a.recent != nil {
		clear(a.recent[:])
	}
}

// rollback forgets the bytes written since the arena held n bytes of block generation gen: those of
// an event that turned out invalid, whose strings nobody holds. A block started since then holds only
// such bytes and is rewound whole.
func (a *arena) rollback(n, gen int) {
	if gen != a.gen {
		n = 0
	}
	if n < len(a.buf) {
		a.buf = a.buf[:n]
		// The table may hold strings over the bytes rewound, which the next strings overwrite.
		a.forget()
	}
}

// str returns b as a string in the arena: the string of the table of recent strings with b's bytes
// if there is one, else a copy of b, which the table then keeps.
func (a *arena) str(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	t := a.recent
	if t == nil {
		t = new([1 << internBits]recentString)
		a.recent = t
	}
	// Two ways: the pair of entries at the words' slot, the most recent string first.
	w := wordsOf(b)
	i := w.slot() &^ 1
	if e := &t[i]; e.words == w && len(e.s) == n && (n <= 16 || e.s == string(b)) {
		return e.s
	}
	if e := &t[i+1]; e.words == w && len(e.s) == n && (n <= 16 || e.s == string(b)) {
		return e.s
	}
	return a.add(b, w, i)
}

// add copies b into the arena and keeps it first in the pair of entries i of the table of recent
// strings.
func (a *arena) add(b []byte, w words, i uint) string {
	if cap(a.buf)-len(a.buf) < len(b) {
		a.ensure(len(b)) // clears the table
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	v := unsafe.String(&a.buf[start], len(b))
	t := a.recent
	t[i+1] = t[i]
	t[i] = recentString{s: v, words: w}
	return v
}

// recentString is an entry of the arena's table of recent strings: the string and its words.
type recentString struct {
	s     string
	words words
}

// words are at most 16 bytes of a string: all of a string of up to 16 bytes, whose words are equal
// only if the strings of the same length are; the first and last eight of a longer one.
type words struct{ first, last uint64 }

func wordsOf(b []byte) words {
	n := len(b)
	switch {
	case n >= 8:
		return words{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])}
	case n >= 4:
		return words{uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[n-4:]))}
	}
	return words{uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16, 0}
}

// slot places the words in the table of recent strings.
func (w words) slot() uint {
	h := (w.first ^ bits.RotateLeft64(w.last, 29)) * 0x9e3779b97f4a7c15
	return uint(h >> (64 - internBits))
}

// unescaped returns the unescaped form of raw (the validated content of a JSON string) as str does.
func (a *arena) unescaped(raw []byte) string {
	a.tmp = appendUnescaped(a.tmp[:0], raw)
	return a.str(a.tmp)
}

// headerKey returns an HTTP header key in the arena in its canonical form, as
// textproto.CanonicalMIMEHeaderKey gives it: unchanged if it holds a byte that is not a token
// character, else upper case at the start and after each '-', lower case elsewhere. A key already in
// that form (as agents send most) is str's string.
func (a *arena) headerKey(key []byte) string {
	canonical := true
	upper := true
	for _, c := range key {
		if !validHeaderFieldByte(c) {
			return a.str(key)
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return a.str(key)
	}
	a.ensure(len(key))
	start := len(a.buf)
	a.buf = append(a.buf, key...)
	k := a.buf[start:]
	upper = true
	for i, c := range k {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		k[i] = c
		upper = c == '-'
	}
	return unsafe.String(&k[0], len(k))
}

// validHeaderFieldByte reports whether c is an RFC 7230 token character.
func validHeaderFieldByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
