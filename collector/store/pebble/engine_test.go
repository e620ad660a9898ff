package pebble

import (
	"bytes"
	"testing"
)

// Flush and compaction outputs end where the keyspace byte changes, including at the ends of the range.
func TestKeyspacePolicy(t *testing.T) {
	for _, c := range []struct {
		start, end []byte
	}{
		{nil, []byte{0}},
		{[]byte{ksEvent, 0, 0, 0, 7}, []byte{ksEvent + 1}},
		{[]byte{ksTrace}, []byte{ksTrace + 1}},
		{[]byte{0xfe, 0xff}, []byte{0xff}},
		{[]byte{0xff, 1}, nil}, // the last keyspace runs to the end
	} {
		_, end, err := keyspacePolicy(c.start)
		if err != nil || !bytes.Equal(end, c.end) {
			t.Errorf("keyspacePolicy(%x) ends at %x (%v), want %x", c.start, end, err, c.end)
		}
	}
}
