package queryshape_test

import (
	"crypto/sha256"
	"encoding/hex"
)

// scriptHash4 is how a summary names a script's source: the first 4 hex digits of its SHA-256.
func scriptHash4(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:2])
}
