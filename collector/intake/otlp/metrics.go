package otlp

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

// metrics appends the metricsets of md to out, as apm-data's handleScopeMetrics: within a scope, the
// data points of the same timestamp and attributes (compared in their order) make one metricset.
// Gauges are gauges, sums counters, histograms and exponential histograms histograms (apm-data drops
// exponential ones), summaries summaries (count and sum). It returns the number of data points it
// refused: number points without a finite value, and histograms whose buckets do not match their
// bounds.
func (t *translator) metrics(md pmetric.Metrics, out collector.Batch) (collector.Batch, int64) {
	var rejected int64
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		base := resourceEvent(rm.Resource())
		delta := exportTimeDelta(rm.Resource(), time.Now())
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			sm := sms.At(j)
			var sets metricsets
			ms := sm.Metrics()
			for k := range ms.Len() {
				rejected += sets.add(ms.At(k))
			}
			for _, set := range sets.sets {
				out = append(out, set.event(&base, sm.Scope(), delta))
			}
		}
	}
	return out, rejected
}

type metricset struct {
	ts      time.Time
	sig     string
	attrs   pcommon.Map
	samples []collector.MetricSample
}

// metricsets groups a scope's samples, in the order their groups first appear.
type metricsets struct {
	sets []*metricset
	idx  map[metricsetKey]*metricset
}

type metricsetKey struct {
	ts  time.Time
	sig string
}

func (m *metricsets) upsert(ts pcommon.Timestamp, attrs pcommon.Map, s collector.MetricSample) {
	var sig strings.Builder
	for k, v := range attrs.All() {
		sig.WriteString(k)
		sig.WriteString(v.AsString())
	}
	key := metricsetKey{ts: ts.AsTime(), sig: sig.String()}
	if m.idx == nil {
		m.idx = make(map[metricsetKey]*metricset)
	}
	set, ok := m.idx[key]
	if !ok {
		set = &metricset{ts: key.ts, sig: key.sig, attrs: attrs}
		m.idx[key] = set
		m.sets = append(m.sets, set)
	}
	for i := range set.samples {
		if set.samples[i].Name == s.Name {
			set.samples[i] = s
			return
		}
	}
	set.samples = append(set.samples, s)
}

// add adds a metric's data points and returns how many it refused.
func (m *metricsets) add(metric pmetric.Metric) int64 {
	var rejected int64
	name := metric.Name()
	number := func(dps pmetric.NumberDataPointSlice, typ collector.MetricType) {
		for i := range dps.Len() {
			dp := dps.At(i)
			var v float64
			switch dp.ValueType() {
			case pmetric.NumberDataPointValueTypeInt:
				v = float64(dp.IntValue())
			case pmetric.NumberDataPointValueTypeDouble:
				v = dp.DoubleValue()
				if math.IsNaN(v) || math.IsInf(v, 0) {
					rejected++
					continue
				}
			default:
				rejected++
				continue
			}
			m.upsert(dp.Timestamp(), dp.Attributes(), collector.MetricSample{Name: name, Type: typ, Value: v})
		}
	}
	// histogram adds a histogram data point's sample, or refuses it when it makes none (ok is false).
	histogram := func(ts pcommon.Timestamp, attrs pcommon.Map, h *collector.Histogram, ok bool) {
		if !ok {
			rejected++
			return
		}
		m.upsert(ts, attrs, collector.MetricSample{Name: name, Type: collector.MetricHistogram, Histogram: h})
	}
	switch metric.Type() {
	case pmetric.MetricTypeGauge:
		number(metric.Gauge().DataPoints(), collector.MetricGauge)
	case pmetric.MetricTypeSum:
		number(metric.Sum().DataPoints(), collector.MetricCounter)
	case pmetric.MetricTypeHistogram:
		dps := metric.Histogram().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			h, ok := explicitHistogram(dp.BucketCounts(), dp.ExplicitBounds(), dp.Count(), dp.Sum())
			histogram(dp.Timestamp(), dp.Attributes(), h, ok)
		}
	case pmetric.MetricTypeExponentialHistogram:
		dps := metric.ExponentialHistogram().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			h, ok := exponentialHistogram(dp)
			histogram(dp.Timestamp(), dp.Attributes(), h, ok)
		}
	case pmetric.MetricTypeSummary:
		dps := metric.Summary().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			m.upsert(dp.Timestamp(), dp.Attributes(), collector.MetricSample{Name: name, Type: collector.MetricSummary,
				Summary: &collector.SummaryMetric{Count: int64(dp.Count()), Sum: dp.Sum()}})
		}
	}
	return rejected
}

// explicitHistogram is apm-data's histogramSample: each non-empty bucket's midpoint (half the first
// bound for the first bucket, the last bound for the overflow bucket), or sum/count without bounds.
func explicitHistogram(counts pcommon.UInt64Slice, bounds pcommon.Float64Slice, count uint64, sum float64) (*collector.Histogram, bool) {
	if bounds.Len() == 0 {
		return &collector.Histogram{Values: []float64{sum / float64(count)}, Counts: []uint64{count}}, true
	}
	if counts.Len() != bounds.Len()+1 {
		return nil, false
	}
	h := &collector.Histogram{}
	for i := range counts.Len() {
		c := counts.At(i)
		if c == 0 {
			continue
		}
		var v float64
		switch i {
		case 0:
			v = bounds.At(0)
			if v > 0 {
				v /= 2
			}
		case counts.Len() - 1:
			v = bounds.At(i - 1)
		default:
			v = bounds.At(i-1) + (bounds.At(i)-bounds.At(i-1))/2
		}
		h.Values = append(h.Values, v)
		h.Counts = append(h.Counts, c)
	}
	return h, true
}

// exponentialHistogram turns an exponential histogram into value/count pairs: each non-empty bucket's
// midpoint (the zero bucket's is 0), in increasing order. A scale outside OTLP's range is refused.
func exponentialHistogram(dp pmetric.ExponentialHistogramDataPoint) (*collector.Histogram, bool) {
	scale := dp.Scale()
	if scale < -10 || scale > 20 {
		return nil, false
	}
	base := math.Exp2(math.Exp2(-float64(scale)))
	mid := func(index int) float64 {
		lo := math.Pow(base, float64(index))
		return lo + (lo*base-lo)/2
	}
	h := &collector.Histogram{}
	neg := dp.Negative()
	for i := neg.BucketCounts().Len() - 1; i >= 0; i-- {
		if c := neg.BucketCounts().At(i); c > 0 {
			h.Values = append(h.Values, -mid(int(neg.Offset())+i))
			h.Counts = append(h.Counts, c)
		}
	}
	if c := dp.ZeroCount(); c > 0 {
		h.Values = append(h.Values, 0)
		h.Counts = append(h.Counts, c)
	}
	pos := dp.Positive()
	for i := range pos.BucketCounts().Len() {
		if c := pos.BucketCounts().At(i); c > 0 {
			h.Values = append(h.Values, mid(int(pos.Offset())+i))
			h.Counts = append(h.Counts, c)
		}
	}
	for _, v := range h.Values {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, false
		}
	}
	return h, true
}

// event is the metricset's event: the resource's fields, the scope's, and the data points'
// attributes (data stream, event.dataset and event.module, user.name; the others as labels, keys kept
// as they are).
func (set *metricset) event(base *collector.Event, scope pcommon.InstrumentationScope, delta time.Duration) collector.Event {
	ev := *base
	ev.Kind = collector.KindMetricset
	scopeMetadata(scope, &ev)
	ev.Timestamp = set.ts.Add(delta)
	slices.SortFunc(set.samples, func(a, b collector.MetricSample) int { return cmp.Compare(a.Name, b.Name) })
	ev.Metricset = &collector.Metricset{Name: "app", Samples: set.samples}
	b := newLabels(&ev)
	for k, v := range set.attrs.All() {
		switch k {
		case "data_stream.dataset", "data_stream.namespace":
			otelattr.SetDataStream(&ev.DataStream, k, v.Str())
		case "event.dataset":
			ev.Event.Dataset = v.Str()
		case "event.module":
			ev.Event.Module = v.Str()
		case "user.name":
			ev.User.Name = otelattr.Truncate(v.Str())
		case "system.process.cpu.start_time", "system.process.cmdline", "system.process.state", "system.filesystem.mount_point":
			// apm-data's system.* fields, which hotpath's model does not have.
		default:
			b.setLabel(k, v)
		}
	}
	return ev
}
