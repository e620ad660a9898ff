package collector

import "time"

// VersionSeen is a service.version of a service's transactions in a range: what the store's
// per-version aggregates say of it (the query API's /api/v1/versions).
type VersionSeen struct {
	Version string
	// First and Last are the starts of the first and last minutes with transactions of the version.
	First, Last time.Time
	// Count is the number of its transactions stored in the range.
	Count int64
}
