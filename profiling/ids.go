package profiling

import (
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
