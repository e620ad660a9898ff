package profiling

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/hotpath-apm/hotpath/agent"
)

// requestIDs returns the request's trace.id and transaction.id in lower-case hex, as the Elastic agent
// writes them, sharing one allocation: they are the values of the request's pprof labels.
func requestIDs(r *agent.Request) (traceID, transactionID string) {
	var b [2*len(r.TraceID) + 2*len(r.TransactionID)]byte
	n := hex.Encode(b[:], r.TraceID[:])
	hex.Encode(b[n:], r.TransactionID[:])
	s := string(b[:])
	return s[:n], s[n:]
}

// newProfileID returns a new random profile.id: 16 bytes in lower-case hex, like a trace.id.
func newProfileID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go >= 1.24)
	return hex.EncodeToString(b[:])
}
