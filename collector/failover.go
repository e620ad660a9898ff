package collector

import "time"

// Failover is what the circuit breakers of a service did over a time range (agent.Breaker's labels and
// state-change transactions): each breaker's open intervals, and per minute who served the requests.
type Failover struct {
	Breakers []BreakerIntervals
	Minutes  []FailoverMinute // in time order; minutes with no request through a breaker are left out
}

// BreakerIntervals is one breaker's state changes over a time range.
type BreakerIntervals struct {
	Name    string
	Open    []Interval // when it was open, in time order, clipped to the range; To is zero while still open
	Changes int        // state changes in the range
}

// Interval is a span of time, [From, To).
type Interval struct{ From, To time.Time }

// FailoverMinute counts one minute's transactions labelled served_by and breaker_decision.
type FailoverMinute struct {
	Minute time.Time
	// By served_by: the backend ("elasticsearch"), the emergency cache, or nobody.
	Elasticsearch, EmergencyCache, Rejected int64
	// By breaker_decision.
	Allowed, Refused, Probes int64
}

// BreakerChange is one state change of a breaker, as the store keeps it.
type BreakerChange struct {
	Breaker  string
	At       time.Time
	From, To string
}
