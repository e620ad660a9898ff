package elasticsearch

import (
	"sort"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// The aggregation of events into APM Server's four metricsets (transaction, service_transaction,
// service_summary, service_destination) at 1m, 10m and 60m, with the dimensions, counting rules and
// limits of Elastic's aggregator (apm-aggregation as APM Server 9.6 configures it):
//
//   - every event names a service (service.name, environment, language, agent, global labels), which
//     gets a service_summary document per time bucket;
//   - a transaction with a representative count above 0 adds its duration, counted that many times, to
//     its transaction group and its service_transaction group, and each of its dropped_spans_stats
//     to a span-name-less service_destination group;
//   - a span with a representative count above 0 and a service.target or destination resource adds
//     its count (a composite span's count) and duration to its service_destination group;
//   - a group past the limits goes to `_other` (see AggregationLimits).
//
// Everything held here is plain data, so that the state of the open buckets can be saved with the
// exporter's cursor (aggregate_state.go).

// aggIntervals are the metricsets' intervals and their names.
var aggIntervals = [...]struct {
	d    time.Duration
	name string
}{{time.Minute, "1m"}, {10 * time.Minute, "10m"}, {time.Hour, "60m"}}

// overflowKeysCap bounds each set of distinct overflowed groups: past it, overflow_count stops
// growing (it is a lower bound), while the counts and durations of the overflowed events still add up.
const overflowKeysCap = 1 << 14

// aggServiceKey identifies a service in a time bucket. Labels holds the rendered global labels
// (labels and numeric_labels members, sorted by key), or nothing.
type aggServiceKey struct {
	Name, Environment, Language, Agent string
	Labels                             string
}

// aggTxKey is a transaction metricset group (apm-aggregation's TransactionAggregationKey).
type aggTxKey struct {
	Root                                                               bool
	ContainerID, PodName                                               string
	Version, NodeName, RuntimeName, RuntimeVersion, LanguageVersion    string
	HostHostname, HostName, OSPlatform                                 string
	Outcome, Name, Type, Result                                        string
	FaasColdstart                                                      uint8 // 0 absent, 1 false, 2 true
	FaasID, FaasName, FaasVersion, FaasTrigger                         string
	CloudProvider, CloudRegion, CloudAZ, CloudServiceName              string
	CloudAccountID, CloudAccountName, CloudMachineType, CloudProjectID string
	CloudProjectName                                                   string
}

// aggSpanKey is a service_destination group.
type aggSpanKey struct {
	Name, Outcome, TargetType, TargetName, Resource string
}

// aggSvcTx is a service_transaction group's metrics.
type aggSvcTx struct {
	H                hdrHistogram
	Success, Failure float64
}

// aggSpan is a service_destination group's metrics: a representative count and a duration sum in
// nanoseconds.
type aggSpan struct {
	Count, Sum float64
}

// aggOverflow holds the groups of one service that went past a limit. A metric is present when its
// Keys set is not empty; Keys holds the hashes of the distinct groups, whose number is overflow_count.
type aggOverflow struct {
	Tx        hdrHistogram
	TxKeys    map[uint64]struct{}
	SvcTx     aggSvcTx
	SvcTxKeys map[uint64]struct{}
	Span      aggSpan
	SpanKeys  map[uint64]struct{}
}

// aggService is one service's groups in one time bucket.
type aggService struct {
	Tx       map[aggTxKey]*hdrHistogram
	SvcTx    map[string]*aggSvcTx
	Span     map[aggSpanKey]*aggSpan
	Overflow aggOverflow
}

// aggBucket is one time bucket of one interval.
type aggBucket struct {
	Services map[aggServiceKey]*aggService
	// OtherServices holds the hashes of the services past MaxServices; Other their groups.
	OtherServices map[uint64]struct{}
	Other         aggOverflow
}

// aggTable is the open buckets of one interval, by start (Unix nanoseconds). The limits count groups
// across all of them, as APM Server counts them across one harvest.
type aggTable struct {
	Buckets                                     map[int64]*aggBucket
	Services, TxGroups, SvcTxGroups, SpanGroups int
}

// aggregator aggregates events into the open buckets of the three intervals. It is not safe for
// concurrent use.
type aggregator struct {
	limits AggregationLimits
	tables [len(aggIntervals)]aggTable
	// scratch for the global labels of the event being added
	labels []byte
}

func newAggregator(l AggregationLimits) *aggregator {
	l.setDefaults()
	a := &aggregator{limits: l}
	for i := range a.tables {
		a.tables[i].Buckets = map[int64]*aggBucket{}
	}
	return a
}

// empty reports whether no bucket is open.
func (a *aggregator) empty() bool {
	for i := range a.tables {
		if len(a.tables[i].Buckets) > 0 {
			return false
		}
	}
	return true
}

// add aggregates one stored event.
func (a *aggregator) add(e *collector.Event) {
	sk := aggServiceKey{Name: e.Service.Name, Environment: e.Service.Environment,
		Language: e.Service.Language.Name, Agent: e.Agent.Name}
	if !isRUMLabelAgent(e.Agent.Name) {
		a.labels = appendGlobalLabels(a.labels[:0], e)
		if len(a.labels) > 0 {
			sk.Labels = string(a.labels)
		}
	}
	var (
		tx       *collector.Transaction
		txRep    float64
		span     *collector.Span
		spanRep  float64
		txKey    aggTxKey
		spanKey  aggSpanKey
		hasGroup bool
	)
	switch e.APMType() {
	case collector.KindTransaction:
		if e.Transaction.RepresentativeCount > 0 {
			tx, txRep, hasGroup = e.Transaction, e.Transaction.RepresentativeCount, true
			setTxKey(&txKey, e)
		}
	case collector.KindSpan:
		target := e.Service.Target
		resource := ""
		if e.Span.DestinationService != nil {
			resource = e.Span.DestinationService.Resource
		}
		if e.Span.RepresentativeCount > 0 && (target.Name != "" || target.Type != "" || resource != "") {
			span, spanRep, hasGroup = e.Span, e.Span.RepresentativeCount, true
			spanKey = aggSpanKey{Name: e.Span.Name, Outcome: e.Event.Outcome, TargetType: target.Type,
				TargetName: target.Name, Resource: resource}
		}
	}
	for i := range a.tables {
		t := &a.tables[i]
		start := e.Timestamp.Truncate(aggIntervals[i].d).UnixNano()
		b := t.Buckets[start]
		if b == nil {
			b = &aggBucket{Services: map[aggServiceKey]*aggService{}}
			t.Buckets[start] = b
		}
		svc := b.Services[sk]
		if svc == nil {
			if t.Services >= a.limits.MaxServices {
				a.overflowService(b, &sk, e, tx, txRep, &txKey, span, spanRep, &spanKey, hasGroup)
				continue
			}
			svc = &aggService{}
			b.Services[cloneServiceKey(sk)] = svc
			t.Services++
		}
		if !hasGroup {
			continue
		}
		if tx != nil {
			a.addTransaction(t, svc, &sk, e, tx, txRep, &txKey)
		}
		if span != nil {
			a.addSpan(t, svc, &sk, &spanKey, spanCount(span, spanRep), spanSum(e, span, spanRep))
		}
	}
}

// addTransaction adds a transaction (and its dropped spans stats) to svc's groups.
func (a *aggregator) addTransaction(t *aggTable, svc *aggService, sk *aggServiceKey, e *collector.Event,
	tx *collector.Transaction, rep float64, key *aggTxKey) {
	h := svc.Tx[*key]
	if h == nil {
		if len(svc.Tx) >= a.limits.MaxTransactionGroupsPerService || t.TxGroups >= a.limits.MaxTransactionGroups {
			svc.Overflow.addTx(e.Event.Duration, rep, hashTx(sk, key))
		} else {
			if svc.Tx == nil {
				svc.Tx = map[aggTxKey]*hdrHistogram{}
			}
			h = &hdrHistogram{}
			svc.Tx[cloneTxKey(*key)] = h
			t.TxGroups++
		}
	}
	if h != nil {
		h.recordDuration(e.Event.Duration, rep)
	}

	st := svc.SvcTx[tx.Type]
	if st == nil {
		if len(svc.SvcTx) >= a.limits.MaxServiceTransactionGroupsPerService || t.SvcTxGroups >= a.limits.MaxServiceTransactionGroups {
			svc.Overflow.addSvcTx(e.Event.Duration, rep, e.Event.Outcome, hashSvcTx(sk, tx.Type))
		} else {
			if svc.SvcTx == nil {
				svc.SvcTx = map[string]*aggSvcTx{}
			}
			st = &aggSvcTx{}
			svc.SvcTx[strings.Clone(tx.Type)] = st
			t.SvcTxGroups++
		}
	}
	if st != nil {
		st.add(e.Event.Duration, rep, e.Event.Outcome)
	}

	for i, d := range tx.DroppedSpansStats {
		if i == 128 { // the agent spec's limit; APM Server ignores the rest
			break
		}
		k := aggSpanKey{Outcome: d.Outcome, TargetType: d.ServiceTargetType, TargetName: d.ServiceTargetName,
			Resource: d.DestinationServiceResource}
		a.addSpan(t, svc, sk, &k, float64(d.Count)*rep, float64(d.SumMicros*int64(time.Microsecond))*rep)
	}
}

// addSpan adds count and sum (nanoseconds) to svc's destination group key, with APM Server's rule
// that a service past half its per-service limit gets no new groups with a span name.
func (a *aggregator) addSpan(t *aggTable, svc *aggService, sk *aggServiceKey, key *aggSpanKey, count, sum float64) {
	g := svc.Span[*key]
	if g == nil {
		k := *key
		if len(svc.Span) >= a.limits.MaxSpanGroupsPerService/2 {
			k.Name = ""
			g = svc.Span[k]
		}
		if g == nil {
			if len(svc.Span) >= a.limits.MaxSpanGroupsPerService || t.SpanGroups >= a.limits.MaxSpanGroups {
				svc.Overflow.addSpan(count, sum, hashSpan(sk, key))
				return
			}
			if svc.Span == nil {
				svc.Span = map[aggSpanKey]*aggSpan{}
			}
			g = &aggSpan{}
			svc.Span[cloneSpanKey(k)] = g
			t.SpanGroups++
		}
	}
	g.Count += count
	g.Sum += sum
}

// overflowService puts an event of a service past MaxServices into the bucket's `_other` service.
func (a *aggregator) overflowService(b *aggBucket, sk *aggServiceKey, e *collector.Event, tx *collector.Transaction,
	txRep float64, txKey *aggTxKey, span *collector.Span, spanRep float64, spanKey *aggSpanKey, hasGroup bool) {
	if b.OtherServices == nil {
		b.OtherServices = map[uint64]struct{}{}
	}
	addKey(b.OtherServices, hashService(sk))
	if !hasGroup {
		return
	}
	if tx != nil {
		b.Other.addTx(e.Event.Duration, txRep, hashTx(sk, txKey))
		b.Other.addSvcTx(e.Event.Duration, txRep, e.Event.Outcome, hashSvcTx(sk, tx.Type))
		for i, d := range tx.DroppedSpansStats {
			if i == 128 {
				break
			}
			k := aggSpanKey{Outcome: d.Outcome, TargetType: d.ServiceTargetType, TargetName: d.ServiceTargetName,
				Resource: d.DestinationServiceResource}
			b.Other.addSpan(float64(d.Count)*txRep, float64(d.SumMicros*int64(time.Microsecond))*txRep, hashSpan(sk, &k))
		}
	}
	if span != nil {
		b.Other.addSpan(spanCount(span, spanRep), spanSum(e, span, spanRep), hashSpan(sk, spanKey))
	}
}

func (o *aggOverflow) addTx(d time.Duration, rep float64, h uint64) {
	o.Tx.recordDuration(d, rep)
	o.TxKeys = addKey(o.TxKeys, h)
}

func (o *aggOverflow) addSvcTx(d time.Duration, rep float64, outcome string, h uint64) {
	o.SvcTx.add(d, rep, outcome)
	o.SvcTxKeys = addKey(o.SvcTxKeys, h)
}

func (o *aggOverflow) addSpan(count, sum float64, h uint64) {
	o.Span.Count += count
	o.Span.Sum += sum
	o.SpanKeys = addKey(o.SpanKeys, h)
}

// add counts a transaction of duration d and outcome into a service_transaction group.
func (s *aggSvcTx) add(d time.Duration, rep float64, outcome string) {
	s.H.recordDuration(d, rep)
	switch outcome {
	case "success":
		s.Success += rep
	case "failure":
		s.Failure += rep
	}
}

// addKey adds h to set (allocating it), up to overflowKeysCap keys.
func addKey(set map[uint64]struct{}, h uint64) map[uint64]struct{} {
	if set == nil {
		set = map[uint64]struct{}{}
	}
	if len(set) < overflowKeysCap {
		set[h] = struct{}{}
	}
	return set
}

// spanCount is a span's representative count: a composite span stands for Composite.Count spans.
func spanCount(s *collector.Span, rep float64) float64 {
	if s.Composite != nil {
		return float64(s.Composite.Count) * rep
	}
	return rep
}

// spanSum is a span's duration in nanoseconds times its representative count; a composite span's is
// the sum of the spans it stands for.
func spanSum(e *collector.Event, s *collector.Span, rep float64) float64 {
	d := e.Event.Duration
	if s.Composite != nil {
		d = time.Duration(s.Composite.SumMillis * float64(time.Millisecond))
	}
	return float64(d) * rep
}

// setTxKey fills a transaction group key from e.
func setTxKey(k *aggTxKey, e *collector.Event) {
	t := e.Transaction
	*k = aggTxKey{
		Root:        e.ParentID == "",
		ContainerID: e.Container.ID, PodName: e.Kubernetes.PodName,
		Version: e.Service.Version, NodeName: e.Service.NodeName,
		RuntimeName: e.Service.Runtime.Name, RuntimeVersion: e.Service.Runtime.Version,
		LanguageVersion: e.Service.Language.Version,
		HostHostname:    e.Host.Hostname, HostName: e.Host.Name, OSPlatform: e.Host.OS.Platform,
		Outcome: e.Event.Outcome, Name: t.Name, Type: t.Type, Result: t.Result,
		FaasID: e.Faas.ID, FaasName: e.Faas.Name, FaasVersion: e.Faas.Version, FaasTrigger: e.Faas.TriggerType,
		CloudProvider: e.Cloud.Provider, CloudRegion: e.Cloud.Region, CloudAZ: e.Cloud.AvailabilityZone,
		CloudServiceName: e.Cloud.ServiceName, CloudAccountID: e.Cloud.AccountID,
		CloudAccountName: e.Cloud.AccountName, CloudMachineType: e.Cloud.MachineType,
		CloudProjectID: e.Cloud.ProjectID, CloudProjectName: e.Cloud.ProjectName,
	}
	if e.Faas.ColdStart.Valid {
		k.FaasColdstart = 1
		if e.Faas.ColdStart.V {
			k.FaasColdstart = 2
		}
	}
}

// isRUMLabelAgent reports whether APM Server treats the metadata labels of this agent's events as
// event labels (its removeRUMGlobalLabels): they then split no service.
func isRUMLabelAgent(name string) bool {
	switch name {
	case "rum-js", "js-base", "android/java", "iOS/swift":
		return true
	}
	return false
}

// appendGlobalLabels appends e's global labels as the members of a document (`"labels":{...}` and
// `"numeric_labels":{...}`), keys sorted, or nothing when e has none. A metadata label an event label
// overrides is not global.
func appendGlobalLabels(dst []byte, e *collector.Event) []byte {
	var labels []collector.Label
	for i := range e.Labels {
		l := &e.Labels[i]
		if l.Global && !labelOverridden(e.Labels, i, func(j int) string { return e.Labels[j].Key }) {
			labels = append(labels, *l)
		}
	}
	var numeric []collector.NumericLabel
	for i := range e.NumericLabels {
		l := &e.NumericLabels[i]
		if l.Global && !labelOverridden(e.NumericLabels, i, func(j int) string { return e.NumericLabels[j].Key }) {
			numeric = append(numeric, *l)
		}
	}
	if len(labels) == 0 && len(numeric) == 0 {
		return dst
	}
	sort.SliceStable(labels, func(i, j int) bool { return labels[i].Key < labels[j].Key })
	sort.SliceStable(numeric, func(i, j int) bool { return numeric[i].Key < numeric[j].Key })
	w := jsonWriter{b: dst}
	writeLabels(&w, labels)
	writeNumericLabels(&w, numeric)
	return w.b
}

func cloneServiceKey(k aggServiceKey) aggServiceKey {
	return aggServiceKey{Name: strings.Clone(k.Name), Environment: strings.Clone(k.Environment),
		Language: strings.Clone(k.Language), Agent: strings.Clone(k.Agent), Labels: k.Labels}
}

func cloneSpanKey(k aggSpanKey) aggSpanKey {
	return aggSpanKey{Name: strings.Clone(k.Name), Outcome: strings.Clone(k.Outcome),
		TargetType: strings.Clone(k.TargetType), TargetName: strings.Clone(k.TargetName),
		Resource: strings.Clone(k.Resource)}
}

func cloneTxKey(k aggTxKey) aggTxKey {
	for _, s := range []*string{&k.ContainerID, &k.PodName, &k.Version, &k.NodeName, &k.RuntimeName,
		&k.RuntimeVersion, &k.LanguageVersion, &k.HostHostname, &k.HostName, &k.OSPlatform, &k.Outcome,
		&k.Name, &k.Type, &k.Result, &k.FaasID, &k.FaasName, &k.FaasVersion, &k.FaasTrigger,
		&k.CloudProvider, &k.CloudRegion, &k.CloudAZ, &k.CloudServiceName, &k.CloudAccountID,
		&k.CloudAccountName, &k.CloudMachineType, &k.CloudProjectID, &k.CloudProjectName} {
		*s = strings.Clone(*s)
	}
	return k
}

// Hashes identify overflowed groups (for overflow_count); they are stable across restarts, since the
// sets are saved with the aggregation's state.

func hashService(sk *aggServiceKey) uint64 {
	var d xxhash.Digest
	d.Reset()
	hashStrings(&d, sk.Name, sk.Environment, sk.Language, sk.Agent, sk.Labels)
	return d.Sum64()
}

func hashTx(sk *aggServiceKey, k *aggTxKey) uint64 {
	var d xxhash.Digest
	d.Reset()
	hashStrings(&d, sk.Name, sk.Environment, sk.Language, sk.Agent, sk.Labels)
	root := "0"
	if k.Root {
		root = "1"
	}
	hashStrings(&d, root, k.ContainerID, k.PodName, k.Version, k.NodeName, k.RuntimeName, k.RuntimeVersion,
		k.LanguageVersion, k.HostHostname, k.HostName, k.OSPlatform, k.Outcome, k.Name, k.Type, k.Result,
		string(rune('0'+k.FaasColdstart)), k.FaasID, k.FaasName, k.FaasVersion, k.FaasTrigger, k.CloudProvider,
		k.CloudRegion, k.CloudAZ, k.CloudServiceName, k.CloudAccountID, k.CloudAccountName, k.CloudMachineType,
		k.CloudProjectID, k.CloudProjectName)
	return d.Sum64()
}

func hashSvcTx(sk *aggServiceKey, typ string) uint64 {
	var d xxhash.Digest
	d.Reset()
	hashStrings(&d, sk.Name, sk.Environment, sk.Language, sk.Agent, sk.Labels, typ)
	return d.Sum64()
}

func hashSpan(sk *aggServiceKey, k *aggSpanKey) uint64 {
	var d xxhash.Digest
	d.Reset()
	hashStrings(&d, sk.Name, sk.Environment, sk.Language, sk.Agent, sk.Labels, k.Name, k.Outcome,
		k.TargetType, k.TargetName, k.Resource)
	return d.Sum64()
}

// hashStrings writes each string followed by a 0 byte, so that ("ab","c") and ("a","bc") differ.
func hashStrings(d *xxhash.Digest, ss ...string) {
	for _, s := range ss {
		_, _ = d.WriteString(s)
		_, _ = d.WriteString("\x00")
	}
}
