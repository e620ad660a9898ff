package collector

// IsRUMAgent reports whether name is one of the agents APM Server treats as RUM (real user
// monitoring): their unsampled transactions are indexed like the others.
func IsRUMAgent(name string) bool {
	switch name {
	case "rum-js", "js-base", "iOS/swift":
		return true
	}
	return false
}

// MetricsOnly reports whether e is kept for the aggregated metrics only: an unsampled transaction of
// a non-RUM agent (agents older than 8.0 send them, with the sample rate). APM Server's aggregator
// counts it, by its representative count, and then drops it: no document is indexed for it.
func (e *Event) MetricsOnly() bool {
	return e.APMType() == KindTransaction && !e.Transaction.Sampled && !IsRUMAgent(e.Agent.Name)
}
