package decoder

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// TestArenaStrRepeats: a value the arena holds in its current block is handed out again rather than
// copied; values that differ, even only in the bytes the table's slot is not computed from, are not.
func TestArenaStrRepeats(t *testing.T) {
	var a arena
	long := strings.Repeat("x", 40)
	for _, v := range []string{"a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "0123456789abcdef", long} {
		first := a.str([]byte(v))
		used := len(a.buf)
		again := a.str([]byte(v))
		if first != v || again != v || unsafe.StringData(first) != unsafe.StringData(again) || len(a.buf) != used {
			t.Errorf("%q: %q then %q, %d bytes then %d: want one copy", v, first, again, used, len(a.buf))
		}
	}
	// A string with escapes is held unescaped, once.
	raw := []byte(`{\"query\":\"running shoes\"}`)
	first, again := a.unescaped(raw), a.unescaped(raw)
	if want := `{"query":"running shoes"}`; first != want || again != want || unsafe.StringData(first) != unsafe.StringData(again) ||
		unsafe.StringData(a.str([]byte(want))) != unsafe.StringData(first) {
		t.Errorf("unescaped %q then %q: want %q, one copy", first, again, want)
	}
	// Same length, same first and last eight bytes: one slot, two values.
	mid := long[:20] + "y" + long[21:]
	if got := a.str([]byte(mid)); got != mid {
		t.Errorf("got %q, want %q", got, mid)
	}
	if got := a.str([]byte(long)); got != long {
		t.Errorf("got %q, want %q", got, long)
	}
}

// TestArenaStrValues: whatever the values and however they share the table's slots, str returns each
// one's bytes.
func TestArenaStrValues(t *testing.T) {
	var a arena
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]string, 3000)
	for i := range values {
		n := rng.IntN(40) + 1
		b := make([]byte, n)
		for j := range b {
			b[j] = "ab-"[rng.IntN(3)] // few distinct bytes: many values share words
		}
		values[i] = string(b)
	}
	for range 20 {
		for _, i := range rng.Perm(len(values))[:500] {
			v := a.str([]byte(values[i]))
			if v != values[i] {
				t.Fatalf("got %q, want %q", v, values[i])
			}
		}
	}
}

// TestArenaStrForgetsRewound: after a rollback the table no longer hands out the strings over the
// rewound bytes, which the next strings overwrite; after a new block it holds none of the old one's.
func TestArenaStrForgetsRewound(t *testing.T) {
	var a arena
	a.str([]byte("kept"))
	mark, gen := len(a.buf), a.gen
	a.str([]byte("abc"))
	a.rollback(mark, gen)
	a.str([]byte("xyz")) // where "abc" was
	if got := a.str([]byte("abc")); got != "abc" {
		t.Fatalf("after a rollback: got %q, want abc", got)
	}

	// An event that added nothing to the arena (its values all held already) leaves the table as it was.
	held := a.str([]byte("abc"))
	mark = len(a.buf)
	a.str([]byte("abc"))
	a.rollback(mark, gen)
	if again := a.str([]byte("abc")); unsafe.StringData(again) != unsafe.StringData(held) {
		t.Errorf("a rollback of nothing cleared the table")
	}

	old := a.str([]byte("old value"))
	for i := 0; a.gen == gen; i++ {
		a.str(fmt.Appendf(nil, "%08d filling the block", i))
	}
	again := a.str([]byte("old value"))
	if again != "old value" || unsafe.StringData(again) == unsafe.StringData(old) {
		t.Errorf("after a new block: %q, the old block's copy: %t", again, unsafe.StringData(again) == unsafe.StringData(old))
	}
}
