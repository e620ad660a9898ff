package otlp

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

// labels is the otelattr.Builder of one event: it sets the event's labels with apm-data's precedence
// (a label set again replaces the earlier one, the resource's global ones included) and allocates
// what the event points to. The event's label slices start shared with the resource's: the first
// label set copies them.
type labels struct {
	ev        *collector.Event
	owned     bool
	ownedNums bool
}

func newLabels(ev *collector.Event) *labels { return &labels{ev: ev} }

func (b *labels) SetLabel(l collector.Label) {
	putLabel(&b.ev.Labels, &b.owned, l, func(i int) bool { return b.ev.Labels[i].Key == l.Key })
}

func (b *labels) SetNumericLabel(l collector.NumericLabel) {
	putLabel(&b.ev.NumericLabels, &b.ownedNums, l, func(i int) bool { return b.ev.NumericLabels[i].Key == l.Key })
}

// putLabel replaces the label of *ls that sameKey finds with l, or appends l. The first call, while *owned
// is false, copies *ls, which starts shared with the resource's labels.
func putLabel[L any](ls *[]L, owned *bool, l L, sameKey func(i int) bool) {
	if !*owned {
		*ls = append([]L(nil), *ls...)
		*owned = true
	}
	for i := range *ls {
		if sameKey(i) {
			(*ls)[i] = l
			return
		}
	}
	*ls = append(*ls, l)
}

func (b *labels) NewHTTP() *collector.HTTP       { return new(collector.HTTP) }
func (b *labels) NewMessage() *collector.Message { return new(collector.Message) }
func (b *labels) NewDB() *collector.DB           { return new(collector.DB) }
func (b *labels) NewDestinationService() *collector.DestinationService {
	return new(collector.DestinationService)
}

// setLabel is apm-data's setLabel for a pdata value.
func (b *labels) setLabel(key string, v pcommon.Value) {
	var x otelattr.Value
	toValue(v, &x)
	otelattr.SetLabel(b, key, &x)
}

// toValue converts a pdata value into the mapping's form; maps, bytes and empty values have Kind None.
func toValue(v pcommon.Value, out *otelattr.Value) {
	*out = otelattr.Value{}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		out.Kind, out.Str = otelattr.Str, v.Str()
	case pcommon.ValueTypeBool:
		out.Kind, out.Bool = otelattr.Bool, v.Bool()
	case pcommon.ValueTypeInt:
		out.Kind, out.Int = otelattr.Int, v.Int()
	case pcommon.ValueTypeDouble:
		out.Kind, out.Double = otelattr.Double, v.Double()
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		out.Kind = otelattr.Slice
		out.Slice = make([]otelattr.Value, s.Len())
		for i := range s.Len() {
			toValue(s.At(i), &out.Slice[i])
		}
	}
}

// toAttrs converts a pdata map into the mapping's attributes, reusing buf.
func toAttrs(m pcommon.Map, buf []otelattr.Attr) []otelattr.Attr {
	buf = buf[:0]
	for k, v := range m.All() {
		a := otelattr.Attr{Key: k}
		toValue(v, &a.Value)
		buf = append(buf, a)
	}
	return buf
}
