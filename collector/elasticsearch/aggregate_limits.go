package elasticsearch

import "math"

// AggregationLimits bound how many groups the aggregated metricsets hold per interval, as APM Server's
// aggregation.* settings do. A group past a limit is not lost: it goes into its service's `_other`
// group (transaction.name, transaction.type or service.target.name `_other`, with an
// *.aggregation.overflow_count sample), and a service past MaxServices into service `_other`.
// Zero fields take their value from AggregationLimitsFor(1), APM Server's sizing for 1 GB of memory.
type AggregationLimits struct {
	// MaxServices is the number of services (name, environment, language, agent, global labels) per
	// interval and time bucket. Default: 1,000 per GB.
	MaxServices int
	// MaxTransactionGroups is the number of transaction metricset groups. Default: 5,000 per GB.
	MaxTransactionGroups int
	// MaxTransactionGroupsPerService defaults to a tenth of MaxTransactionGroups.
	MaxTransactionGroupsPerService int
	// MaxServiceTransactionGroups is the number of service_transaction groups. Default: 1,000 per GB.
	MaxServiceTransactionGroups int
	// MaxServiceTransactionGroupsPerService defaults to a tenth of MaxServiceTransactionGroups.
	MaxServiceTransactionGroupsPerService int
	// MaxSpanGroups is the number of service_destination groups. Default: 5,000 per GB plus 5,000.
	MaxSpanGroups int
	// MaxSpanGroupsPerService defaults to a tenth of MaxSpanGroups. Once half of it is used, new
	// groups of the service lose their span.name (high-cardinality span names would exhaust it).
	MaxSpanGroupsPerService int
}

// AggregationLimitsFor returns the limits APM Server derives from memGB gigabytes of memory (its
// linearScaledValue): 1,000 services, 5,000 transaction, 1,000 service transaction and 10,000
// destination groups for 1 GB, a tenth of each per service, at least 1 of everything.
func AggregationLimitsFor(memGB float64) AggregationLimits {
	scaled := func(perGB, constant float64) int { return int(math.Max(1, perGB*memGB+constant)) }
	l := AggregationLimits{
		MaxServices:                 scaled(1000, 0),
		MaxTransactionGroups:        scaled(5000, 0),
		MaxServiceTransactionGroups: scaled(1000, 0),
		MaxSpanGroups:               scaled(5000, 5000),
	}
	l.setDefaults()
	return l
}

// setDefaults fills zero fields: the totals from AggregationLimitsFor(1), the per-service ones as a
// tenth of their totals.
func (l *AggregationLimits) setDefaults() {
	if l.MaxServices <= 0 {
		l.MaxServices = 1000
	}
	if l.MaxTransactionGroups <= 0 {
		l.MaxTransactionGroups = 5000
	}
	if l.MaxServiceTransactionGroups <= 0 {
		l.MaxServiceTransactionGroups = 1000
	}
	if l.MaxSpanGroups <= 0 {
		l.MaxSpanGroups = 10000
	}
	tenth := func(n int) int { return max(n/10, 1) }
	if l.MaxTransactionGroupsPerService <= 0 {
		l.MaxTransactionGroupsPerService = tenth(l.MaxTransactionGroups)
	}
	if l.MaxServiceTransactionGroupsPerService <= 0 {
		l.MaxServiceTransactionGroupsPerService = tenth(l.MaxServiceTransactionGroups)
	}
	if l.MaxSpanGroupsPerService <= 0 {
		l.MaxSpanGroupsPerService = tenth(l.MaxSpanGroups)
	}
}
