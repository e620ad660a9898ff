package decoder

import (
	"strings"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

const typeMetricset = "v2.metricset"

// sampleValue is a metricset sample as it is read (sampleValue, generated), before its rules are checked.
type sampleValue struct {
	m                              collector.MetricSample
	valueSet, valuesSet, countsSet bool
	values                         []float64
	counts                         []uint64
}

func sampleName(m *collector.MetricSample) string { return m.Name }

func (d *Decoder) samples(ms *collector.Metricset) bool {
	s := &d.s
	samples := &d.pool.samples
	samples.begin()
	d.sampleIdx.reset()
	errs := d.sampleErr[:0]
	n := 0
	d.object("v2.metricset", func(key []byte) bool {
		n++
		name := d.arena.str(key)
		sv := sampleValue{m: collector.MetricSample{Name: name}}
		d.sampleValue(&sv)
		// Validation applies to the last sample of a name only (samples is a map in apm-data).
		var msg string
		switch {
		case !sv.valueSet && !sv.valuesSet:
			msg = "requires at least one of the fields 'value;values'"
		case !sv.valuesSet && sv.countsSet:
			msg = "'values' required when 'counts' is set"
		case !sv.countsSet && sv.valuesSet:
			msg = "'counts' required when 'values' is set"
		}
		m := sv.m
		if sv.valuesSet || sv.countsSet {
			h := d.pool.histogram.one()
			h.Values, h.Counts = sv.values, sv.counts
			m.Histogram = h
		}
		r := samples.region()
		if i := find(&d.sampleIdx, r, name, sampleName); i >= 0 {
			r[i] = m
			errs[i] = msg
		} else {
			*samples.add() = m
			errs = append(errs, msg)
		}
		return true
	})
	d.sampleErr = errs
	ms.Samples = samples.end()
	if s.err == nil {
		for i, msg := range errs {
			if msg != "" {
				d.v.push("samples")
				d.v.fail(msg)
				d.v.pop()
			}
			if name := ms.Samples[i].Name; strings.IndexByte(name, '*') >= 0 || strings.IndexByte(name, '"') >= 0 {
				d.v.fail("'samples': validation rule 'patternKeys(patternNoAsteriskQuote)' violated")
			}
		}
	}
	return n > 0
}

func metricType(t string) collector.MetricType {
	switch t {
	case "gauge":
		return collector.MetricGauge
	case "counter":
		return collector.MetricCounter
	case "histogram":
		return collector.MetricHistogram
	case "summary":
		return collector.MetricSummary
	}
	return collector.MetricUnspecified
}

// finishMetricset applies apm-data's mapToMetricsetModel. It reports false for a metricset APM Server
// drops: one about a transaction that carries none of the internal metrics it knows.
func (d *Decoder) finishMetricset(ev *collector.Event) bool {
	e := &d.ev
	ms := ev.Metricset
	ms.Name = "app"
	if e.tsSet && !e.ts.IsZero() {
		ev.Timestamp = e.ts
	}
	ev.Labels, ev.NumericLabels = d.pool.ls.result()
	if e.msSpanSet {
		ev.Span = d.pool.span.one()
		ev.Span.Type, ev.Span.Subtype = e.typ, e.subtype
	}
	ok := true
	if e.msTxSet {
		ev.Transaction = d.pool.tx.one()
		ev.Transaction.Name, ev.Transaction.Type = e.txName, e.txType
		// An internal (breakdown) metricset: only span self-time samples are kept, as span.self_time.
		have := false
		if ev.Span != nil {
			for _, sm := range ms.Samples {
				switch sm.Name {
				case "span.self_time.count":
					if ev.Span.SelfTime == nil {
						ev.Span.SelfTime = d.pool.selfTime.one()
					}
					ev.Span.SelfTime.Count = int64(uint64(sm.Value))
					have = true
				case "span.self_time.sum.us":
					if ev.Span.SelfTime == nil {
						ev.Span.SelfTime = d.pool.selfTime.one()
					}
					ev.Span.SelfTime.Sum = time.Duration(sm.Value * 1000)
					have = true
				}
			}
		}
		if have {
			ms.Name = "span_breakdown"
		}
		ms.Samples = nil
		ok = have
	}
	if c := d.coldR(); c.msServiceNameSet {
		ev.Service.Name = c.msService.Name
		ev.Service.Version = c.msService.Version
	}
	return ok
}
