package decoder

import (
	"slices"

	"github.com/hotpath-apm/hotpath/collector"
)

// DecodeMetadata decodes one intake v2 metadata object on its own, as the Elastic agents send it in
// the metadata part of a profile upload (/intake/v2/profile): the value that follows "metadata" in an
// events stream's first line. The result is base overlaid with the metadata, exactly as Decode applies
// a stream's metadata line to each of its events (the same fields, the same validation: service.name,
// service.agent.name and version required...), with base's pointer fields cleared.
//
// On failure the *Error says why as APM Server would (its Kind is ErrDecode or ErrValidation, its
// Document the object given). The result shares nothing with the Decoder: it may be kept after the
// Decoder is reused. data is not retained.
func (d *Decoder) DecodeMetadata(data []byte, base *collector.Event) (collector.Event, *Error) {
	d.meta = *base
	d.meta.HTTP, d.meta.Log, d.meta.Transaction, d.meta.Span, d.meta.Error, d.meta.Metricset = nil, nil, nil, nil, nil, nil
	d.baseTime = base.Timestamp

	const prefix = `{"metadata":`
	line := make([]byte, 0, len(prefix)+len(data)+1)
	line = append(append(append(line, prefix...), data...), '}')
	if e := d.decodeMetadataLine(line); e != nil {
		e.Document = string(data)
		return collector.Event{}, e
	}
	// Strings point into the arena, which the Decoder never writes again; the slices are its scratch.
	ev := d.meta
	ev.Labels = slices.Clone(ev.Labels)
	for i := range ev.Labels {
		ev.Labels[i].Values = slices.Clone(ev.Labels[i].Values)
	}
	ev.NumericLabels = slices.Clone(ev.NumericLabels)
	for i := range ev.NumericLabels {
		ev.NumericLabels[i].Values = slices.Clone(ev.NumericLabels[i].Values)
	}
	ev.Process.Argv = slices.Clone(ev.Process.Argv)
	ev.Host.IP = slices.Clone(ev.Host.IP)
	return ev, nil
}
