package pebble

//go:generate go run ./internal/gencodec

import (
	"fmt"

	"github.com/hotpath-apm/hotpath/collector"
)

// codecVersion is the first byte of every stored event value. The format itself evolves without a new
// version (see internal/codecgen): the byte is there for a change that cannot.
const codecVersion = 1

// appendEvent appends the stored form of e to b.
func appendEvent(b []byte, e *collector.Event) []byte {
	b = append(b, codecVersion)
	return encEvent(b, e)
}

// decodeEvent fills e (which must be zero) from a stored value. Strings in e share one copy of v.
func decodeEvent(v []byte, e *collector.Event) error {
	if len(v) == 0 || v[0] != codecVersion {
		if len(v) == 0 {
			return fmt.Errorf("store: decode event: empty value")
		}
		return fmt.Errorf("store: decode event: unknown codec version %d", v[0])
	}
	d := decoder{s: string(v[1:])}
	if err := d.decEvent(e); err != nil {
		return fmt.Errorf("store: decode event at byte %d: %w", d.i+1, err)
	}
	return nil
}
