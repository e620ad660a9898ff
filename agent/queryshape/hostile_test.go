package queryshape_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Hostile bodies cost memory bounded by MaxBody, never panic, and give a shape (or ErrNotJSON): the
// parser reads at most MaxBody bytes, keeps no stack past maxDepth and dedupes array elements as it goes.
// What it allocates in all (most of it garbage at once: the elements of an array that repeat a shape) is
// at most 16 bytes per byte read, plus a few kilobytes.
func TestHostile(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000)
	deepArrays := `{"q":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "}"
	var big bytes.Buffer
	big.WriteString(`{"query":{"terms":{"id":[`)
	for big.Len() < 50<<20 {
		big.WriteString(`12345678,`)
	}
	big.WriteString(`1]}}}`)
	var manyKeys bytes.Buffer
	manyKeys.WriteString(`{"query":{"bool":{"should":[`)
	for i := 0; manyKeys.Len() < 2<<20; i++ {
		if i > 0 {
			manyKeys.WriteByte(',')
		}
		manyKeys.WriteString(`{"match":{"f` + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + `":"v"}}`)
	}
	manyKeys.WriteString(`]}}}`)
	for _, tc := range []struct {
		name      string
		body      []byte
		truncated bool
	}{
		{"nesting 100,000 deep", []byte(deep), false},
		{"arrays nested 100,000 deep", []byte(deepArrays), false},
		{"unclosed nesting", []byte(strings.Repeat(`{"a":[`, 200_000)), true},
		{"a 50 MB array", big.Bytes(), true},
		{"2 MB of distinct clauses", manyKeys.Bytes(), true},
		{"invalid UTF-8 in keys and kept strings", []byte("{\"query\":{\"match\":{\"ti\xfftle\":\"\xc3\x28\"}},\"_source\":[\"\xed\xa0\x80\",\"a\\ud800b\"]}"), false},
		{"control character in a string", []byte("{\"query\":{\"match\":{\"title\":\"a\x01b\"}}}"), true},
		{"unbalanced brackets", []byte(`{"a":[}]`), true},
		{"a huge number", []byte(`{"size":` + strings.Repeat("9", 1000) + `}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s queryshape.Shape
			var err error
			n := allocated(func() { s, err = queryshape.Search(tc.body) })
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, s)
			if s.Truncated != tc.truncated {
				t.Errorf("truncated %v, want %v", s.Truncated, tc.truncated)
			}
			if limit := uint64(16*min(len(tc.body), queryshape.MaxBody) + 64<<10); n > limit {
				t.Errorf("allocated %d bytes for a %d-byte body, more than %d", n, len(tc.body), limit)
			}
			if len(s.Canonical) > queryshape.MaxBody {
				t.Errorf("canonical form of %d bytes", len(s.Canonical))
			}
		})
	}
}

// A deep body's shape keeps the first levels and marks the rest; two bodies that differ only past the
// kept depth share a shape.
func TestDepthBound(t *testing.T) {
	a := strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)
	b := strings.Repeat(`{"a":`, 1000) + `{"b":2}` + strings.Repeat("}", 1000)
	sa, sb := mustShape(t, a), mustShape(t, b)
	if sa.ID != sb.ID || !strings.Contains(sa.Canonical, "…") {
		t.Errorf("deep bodies: %s / %s", sa.Canonical, sb.Canonical)
	}
	shallow := strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20)
	if s := mustShape(t, shallow); strings.Contains(s.Canonical, "…") {
		t.Errorf("20 levels cut: %s", s.Canonical)
	}
}

// An array keeps 16 kinds of element (objects with different keys): a 17th is counted as more, and 17 or
// 30 kinds are one shape.
func TestDistinctBound(t *testing.T) {
	clauses := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, `{"q`+string(rune('a'+i))+`":{"f":1}}`)
		}
		return `{"query":{"bool":{"should":[` + strings.Join(parts, ",") + `]}}}`
	}
	s16, s17, s30 := mustShape(t, clauses(16)), mustShape(t, clauses(17)), mustShape(t, clauses(30))
	if strings.Contains(s16.Canonical, "…") || !strings.Contains(s17.Canonical, "|…]") || s17.ID == s16.ID {
		t.Errorf("16: %s\n17: %s", s16.Canonical, s17.Canonical)
	}
	if s17.ID != s30.ID {
		t.Errorf("17 and 30 distinct clauses: %s / %s", s17.Canonical, s30.Canonical)
	}
}

// An object keeps 64 keys.
func TestKeyBound(t *testing.T) {
	obj := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, `"k`+strings.Repeat("x", i)+`":1`)
		}
		return `{"query":{"term":{` + strings.Join(parts, ",") + `}}}`
	}
	s64, s65 := mustShape(t, obj(64)), mustShape(t, obj(65))
	if strings.Contains(s64.Canonical, "…") || !strings.Contains(s65.Canonical, ",…}") {
		t.Errorf("64: %.100s\n65: %.100s", s64.Canonical, s65.Canonical)
	}
}
