package elasticsearch

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The metricset names of APM Server's aggregated documents.
const (
	msTransaction        = "transaction"
	msServiceTransaction = "service_transaction"
	msServiceSummary     = "service_summary"
	msServiceDestination = "service_destination"
	overflowName         = "_other"
)

// aggRenderer writes harvested buckets as bulk create actions and their documents (modeljson's
// rendering of apm-aggregation's events, with APM Server's observer and data stream).
type aggRenderer struct {
	namespace        string
	observerHostname string
	observerVersion  string
	// checkpoint numbers the harvest; it goes into every _id (see appendDoc).
	checkpoint uint64
	out        []byte // the bulk NDJSON
	docs       int
	src        jsonWriter // scratch for one document's source
}

// harvest renders and removes every bucket of a that is closed at now: its interval ended grace or
// more before now (all buckets when all is set). Overflow documents carry the processing time, now
// truncated to their interval, as APM Server's do.
func (a *aggregator) harvest(r *aggRenderer, now time.Time, grace time.Duration, all bool) {
	for i := range a.tables {
		t := &a.tables[i]
		ivl := aggIntervals[i]
		starts := make([]int64, 0, len(t.Buckets))
		for start := range t.Buckets {
			if all || !time.Unix(0, start).Add(ivl.d+grace).After(now) {
				starts = append(starts, start)
			}
		}
		slices.Sort(starts)
		for _, start := range starts {
			b := t.Buckets[start]
			r.bucket(b, time.Unix(0, start).UTC(), now.Truncate(ivl.d).UTC(), ivl.name)
			t.Services -= len(b.Services)
			for _, s := range b.Services {
				t.TxGroups -= len(s.Tx)
				t.SvcTxGroups -= len(s.SvcTx)
				t.SpanGroups -= len(s.Span)
			}
			delete(t.Buckets, start)
		}
	}
}

// nextClose returns when the earliest open bucket closes (its end plus grace); ok is false when none
// is open.
func (a *aggregator) nextClose(grace time.Duration) (at time.Time, ok bool) {
	for i := range a.tables {
		for start := range a.tables[i].Buckets {
			c := time.Unix(0, start).Add(aggIntervals[i].d + grace)
			if !ok || c.Before(at) {
				at, ok = c, true
			}
		}
	}
	return at, ok
}

// bucket renders one bucket's documents, in a stable order (services and groups sorted by their
// rendering, so that the same state always gives the same bytes).
func (r *aggRenderer) bucket(b *aggBucket, ts, processing time.Time, ivl string) {
	keys := make([]aggServiceKey, 0, len(b.Services))
	for k := range b.Services {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y aggServiceKey) int {
		return compareStrings([]string{x.Name, x.Environment, x.Language, x.Agent, x.Labels},
			[]string{y.Name, y.Environment, y.Language, y.Agent, y.Labels})
	})
	var docs [][]byte
	for _, sk := range keys {
		s := b.Services[sk]
		docs = docs[:0]
		for k, h := range s.Tx {
			docs = append(docs, r.txDoc(ts, &sk, true, &k, h, ivl, -1))
		}
		for typ, m := range s.SvcTx {
			docs = append(docs, r.svcTxDoc(ts, &sk, true, typ, m, ivl, -1))
		}
		for k, m := range s.Span {
			docs = append(docs, r.spanDoc(ts, &sk, true, &k, m, ivl, -1))
		}
		docs = append(docs, r.summaryDoc(ts, &sk, true, ivl, -1))
		docs = r.overflowDocs(docs, &s.Overflow, processing, &sk, ivl)
		r.appendSorted(docs)
	}
	if len(b.OtherServices) > 0 {
		other := aggServiceKey{Name: overflowName}
		docs = docs[:0]
		docs = append(docs, r.summaryDoc(processing, &other, false, ivl, len(b.OtherServices)))
		docs = r.overflowDocs(docs, &b.Other, processing, &other, ivl)
		r.appendSorted(docs)
	}
}

// overflowDocs appends the `_other` documents of o.
func (r *aggRenderer) overflowDocs(docs [][]byte, o *aggOverflow, processing time.Time, sk *aggServiceKey, ivl string) [][]byte {
	if len(o.TxKeys) > 0 {
		docs = append(docs, r.txDoc(processing, sk, false, &aggTxKey{Name: overflowName}, &o.Tx, ivl, len(o.TxKeys)))
	}
	if len(o.SvcTxKeys) > 0 {
		docs = append(docs, r.svcTxDoc(processing, sk, false, overflowName, &o.SvcTx, ivl, len(o.SvcTxKeys)))
	}
	if len(o.SpanKeys) > 0 {
		docs = append(docs, r.spanDoc(processing, sk, false, &aggSpanKey{TargetName: overflowName}, &o.Span, ivl, len(o.SpanKeys)))
	}
	return docs
}

// appendSorted sorts documents (index and source, as one string each) and appends them to the output.
func (r *aggRenderer) appendSorted(docs [][]byte) {
	slices.SortFunc(docs, func(x, y []byte) int { return compareBytes(x, y) })
	for _, d := range docs {
		r.appendDoc(d)
	}
}

// appendDoc appends the bulk create action and the source of a document rendered as index, a newline
// and its source. The _id is the harvest's checkpoint number and a hash of the document: a harvest
// sent again (a retried bulk request, a restart before the harvest was confirmed) creates nothing
// twice, and two harvests of one bucket (a late event) are two documents, which Kibana sums.
func (r *aggRenderer) appendDoc(d []byte) {
	nl := slices.Index(d, '\n')
	index, src := d[:nl], d[nl+1:]
	sum := sha256.Sum256(d)
	r.out = append(r.out, `{"create":{"_index":"`...)
	r.out = append(r.out, index...)
	r.out = append(r.out, `","_id":"`...)
	r.out = strconv.AppendUint(r.out, r.checkpoint, 10)
	r.out = append(r.out, '-')
	r.out = hex.AppendEncode(r.out, sum[:16])
	r.out = append(r.out, "\"}}\n"...)
	r.out = append(r.out, src...)
	r.out = append(r.out, '\n')
	r.docs++
}

// begin starts a document of metricset ms: its index line, then the members every document has. The
// ECS groups of aggregated documents are written by the events' writers (document*.go), from the
// members of the group keys apm-aggregation keeps.
func (r *aggRenderer) begin(ms, ivl string, ts time.Time, sk *aggServiceKey, labels bool) *jsonWriter {
	w := &r.src
	w.b = append(w.b[:0], "metrics-apm."...)
	w.b = append(w.b, ms...)
	w.b = append(w.b, '.')
	w.b = append(w.b, ivl...)
	w.b = append(w.b, '-')
	w.b = append(w.b, r.namespace...)
	w.b = append(w.b, '\n', '{')
	w.time("@timestamp", ts)
	writeAgent(w, &collector.Agent{Name: sk.Agent})
	writeDataStream(w, &collector.DataStream{Type: "metrics", Dataset: "apm." + ms + "." + ivl, Namespace: r.namespace})
	if labels && sk.Labels != "" {
		w.comma()
		w.b = append(w.b, sk.Labels...)
	}
	writeObserver(w, &collector.Observer{Hostname: r.observerHostname, Type: "apm-server", Version: r.observerVersion})
	return w
}

// metricset writes metricset.*, with the overflow_count sample when overflow is 0 or more.
func metricset(w *jsonWriter, ms, ivl string, overflow int) {
	w.begin("metricset")
	w.strAlways("interval", ivl)
	w.strAlways("name", ms)
	if overflow >= 0 {
		w.key("samples")
		w.b = append(w.b, `[{"name":"`...)
		w.b = append(w.b, ms...)
		w.b = append(w.b, `.aggregation.overflow_count","value":`...)
		w.b = strconv.AppendInt(w.b, int64(overflow), 10)
		w.b = append(w.b, "}]"...)
	}
	w.end()
}

// service returns the service.* members of a service key; a group adds its own.
func (sk *aggServiceKey) service() collector.Service {
	return collector.Service{Name: sk.Name, Environment: sk.Environment, Language: collector.NameVersion{Name: sk.Language}}
}

// finish ends the document and returns a copy of it (index line and source).
func (r *aggRenderer) finish(w *jsonWriter) []byte {
	w.b = append(w.b, '}')
	return slices.Clone(w.b)
}

// histogram writes transaction.duration.histogram and .summary from h, and returns its total count.
func histogram(w *jsonWriter, h *hdrHistogram) uint64 {
	total, counts, values := h.buckets()
	w.key("duration.histogram")
	w.b = append(w.b, `{"counts":[`...)
	for i, c := range counts {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendUint(w.b, c, 10)
	}
	w.b = append(w.b, `],"values":[`...)
	var sum float64
	for i, v := range values {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendFloat(w.b, v, 'f', -1, 64)
		sum += v * float64(counts[i])
	}
	w.b = append(w.b, "]}"...)
	summary(w, "duration.summary", sum, total)
	return total
}

// successCount writes event.success_count when it counts something.
func successCount(w *jsonWriter, count uint64, sum float64) {
	if count != 0 {
		summary(w, "success_count", sum, count)
	}
}

// summary writes the member name: {"sum":sum,"value_count":count}, an aggregate_metric_double.
func summary(w *jsonWriter, name string, sum float64, count uint64) {
	w.key(name)
	w.b = append(w.b, `{"sum":`...)
	w.b = strconv.AppendFloat(w.b, sum, 'f', -1, 64)
	w.b = append(w.b, `,"value_count":`...)
	w.b = strconv.AppendUint(w.b, count, 10)
	w.b = append(w.b, '}')
}

// txDoc renders a transaction metricset document; overflow is -1 for a regular group.
func (r *aggRenderer) txDoc(ts time.Time, sk *aggServiceKey, labels bool, k *aggTxKey, h *hdrHistogram, ivl string, overflow int) []byte {
	w := r.begin(msTransaction, ivl, ts, sk, labels)
	total, _, _ := h.buckets()
	w.intAlways("_doc_count", int64(total))
	writeCloud(w, &collector.Cloud{AccountID: k.CloudAccountID, AccountName: k.CloudAccountName,
		AvailabilityZone: k.CloudAZ, MachineType: k.CloudMachineType, ProjectID: k.CloudProjectID,
		ProjectName: k.CloudProjectName, Provider: k.CloudProvider, Region: k.CloudRegion,
		ServiceName: k.CloudServiceName})
	writeContainer(w, &collector.Container{ID: k.ContainerID})
	w.begin("event")
	w.str("outcome", k.Outcome)
	switch k.Outcome {
	case "success":
		successCount(w, total, float64(total))
	case "failure":
		successCount(w, total, 0)
	}
	w.end()
	faas := collector.Faas{ID: k.FaasID, Name: k.FaasName, TriggerType: k.FaasTrigger, Version: k.FaasVersion}
	if k.FaasColdstart != 0 {
		faas.ColdStart = collector.Some(k.FaasColdstart == 2)
	}
	writeFaas(w, &faas)
	writeHost(w, &collector.Host{Hostname: k.HostHostname, Name: k.HostName, OS: collector.OS{Platform: k.OSPlatform}})
	writeKubernetes(w, &collector.Kubernetes{PodName: k.PodName})
	metricset(w, msTransaction, ivl, overflow)
	s := sk.service()
	s.Language.Version = k.LanguageVersion
	s.NodeName = k.NodeName
	s.Runtime = collector.NameVersion{Name: k.RuntimeName, Version: k.RuntimeVersion}
	s.Version = k.Version
	writeService(w, &s)
	w.begin("transaction")
	histogram(w, h)
	w.str("name", k.Name)
	w.str("result", k.Result)
	w.trueOnly("root", k.Root)
	w.str("type", k.Type)
	w.end()
	return r.finish(w)
}

// svcTxDoc renders a service_transaction document; overflow is -1 for a regular group.
func (r *aggRenderer) svcTxDoc(ts time.Time, sk *aggServiceKey, labels bool, typ string, m *aggSvcTx, ivl string, overflow int) []byte {
	w := r.begin(msServiceTransaction, ivl, ts, sk, labels)
	total, _, _ := m.H.buckets()
	w.intAlways("_doc_count", int64(total))
	w.begin("event")
	successCount(w, uint64(math.Round(m.Success+m.Failure)), math.Round(m.Success))
	w.end()
	metricset(w, msServiceTransaction, ivl, overflow)
	s := sk.service()
	writeService(w, &s)
	w.begin("transaction")
	histogram(w, &m.H)
	w.str("type", typ)
	w.end()
	return r.finish(w)
}

// spanDoc renders a service_destination document; overflow is -1 for a regular group. An overflow
// document's _doc_count is its overflow count, as APM Server writes it.
func (r *aggRenderer) spanDoc(ts time.Time, sk *aggServiceKey, labels bool, k *aggSpanKey, m *aggSpan, ivl string, overflow int) []byte {
	w := r.begin(msServiceDestination, ivl, ts, sk, labels)
	count := uint64(math.Round(m.Count))
	docCount := int64(count)
	if overflow >= 0 {
		docCount = int64(overflow)
	}
	w.intAlways("_doc_count", docCount)
	w.begin("event")
	w.str("outcome", k.Outcome)
	w.end()
	metricset(w, msServiceDestination, ivl, overflow)
	s := sk.service()
	s.Target = collector.ServiceTarget{Name: k.TargetName, Type: k.TargetType}
	writeService(w, &s)
	w.begin("span")
	w.begin("destination")
	w.begin("service")
	w.str("resource", k.Resource)
	w.begin("response_time")
	w.intAlways("count", int64(count))
	w.key("sum.us")
	w.b = strconv.AppendUint(w.b, uint64(math.Round(m.Sum))/uint64(time.Microsecond), 10)
	w.end()
	w.end()
	w.end()
	w.str("name", k.Name)
	w.end()
	return r.finish(w)
}

// summaryDoc renders a service_summary document; overflow is the number of services past the limit
// for the `_other` service's, -1 otherwise.
func (r *aggRenderer) summaryDoc(ts time.Time, sk *aggServiceKey, labels bool, ivl string, overflow int) []byte {
	w := r.begin(msServiceSummary, ivl, ts, sk, labels)
	w.begin("event")
	w.end()
	metricset(w, msServiceSummary, ivl, overflow)
	s := sk.service()
	writeService(w, &s)
	return r.finish(w)
}

func compareStrings(x, y []string) int {
	for i := range x {
		if x[i] != y[i] {
			if x[i] < y[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func compareBytes(x, y []byte) int {
	switch {
	case string(x) < string(y):
		return -1
	case string(x) > string(y):
		return 1
	}
	return 0
}
