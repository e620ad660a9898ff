package decoder

import "unsafe"

// arenaChunk is the size of the blocks strings are carved from. One block serves a few hundred typical
// events, so string memory costs one allocation per block instead of one per string.
const arenaChunk = 64 << 10

// arena is an append-only byte allocator. Every string the decoder hands out is a view of an arena
// block; bytes are written once, before the strings over them are made, and never again, so the strings
// are ordinary immutable Go strings that consumers may keep as long as they like (keeping one keeps its
// block alive). A full block is never grown in place: a new one is started and the old one is left to
// the strings that use it.
type arena struct {
	buf []byte // the current block; len(buf) bytes are used
	gen int    // counts blocks, for rollback
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
}

// rollback forgets the bytes written since the arena held n bytes of block generation gen: those of
// an event that turned out invalid, whose strings nobody holds. A block started since then holds only
// such bytes and is rewound whole.
func (a *arena) rollback(n, gen int) {
	if gen != a.gen {
		n = 0
	}
	if n <= len(a.buf) {
		a.buf = a.buf[:n]
	}
}

// str copies b into the arena and returns it as a string.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.ensure(len(b))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// unescaped copies the unescaped form of raw (the validated content of a JSON string) into the arena.
func (a *arena) unescaped(raw []byte) string {
	a.ensure(len(raw)) // unescaping never lengthens
	start := len(a.buf)
	a.buf = appendUnescaped(a.buf, raw)
	if len(a.buf) == start {
		return ""
	}
	return unsafe.String(&a.buf[start], len(a.buf)-start)
}

// headerKey copies an HTTP header key into the arena in its canonical form, as
// textproto.CanonicalMIMEHeaderKey gives it: unchanged if it holds a byte that is not a token
// character, else upper case at the start and after each '-', lower case elsewhere.
func (a *arena) headerKey(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	a.ensure(len(key))
	start := len(a.buf)
	a.buf = append(a.buf, key...)
	k := a.buf[start:]
	for _, c := range k {
		if !validHeaderFieldByte(c) {
			return unsafe.String(&k[0], len(k))
		}
	}
	upper := true
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
