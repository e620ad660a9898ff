package profiling

import (
	"crypto/rand"
	"encoding/hex"
)

// newProfileID returns a new random profile.id: 16 bytes in lower-case hex, like a trace.id.
func newProfileID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go >= 1.24)
	return hex.EncodeToString(b[:])
}
