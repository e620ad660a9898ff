// Package eventgen writes the decoders of transaction, span and error lines (the decoder package's
// events_gen.go) from one template, events.go.tmpl: the members the three types share (ids,
// timestamp, duration, outcome, sample_rate, links, otel) are written there once and copied into each
// type's switch beside its own members. Decoding a line thus costs one switch on its keys, as a
// hand-written decoder does, while a shared member is changed in one place. Run go generate in
// collector/intake/decoder after changing the template; TestEventsGeneratedIsCurrent fails until you do.
package eventgen

import (
	"bytes"
	_ "embed"
	"fmt"
	"go/format"
	"slices"
	"text/template"
)

//go:embed events.go.tmpl
var eventsTemplate string

// event is one line type: where its ID goes, the apm-data struct its errors name, and which of the
// shared members beyond the ids and timestamp it has.
type event struct {
	ID       string   // the field an "id" member is read into
	TypeName string   // the constant naming apm-data's struct, in decode errors
	Shared   []string // the optional shared members it has
}

// Has reports whether the type has the shared member key.
func (e event) Has(key string) bool { return slices.Contains(e.Shared, key) }

// Generate returns the source of events_gen.go.
func Generate() ([]byte, error) {
	tmpl, err := template.New("events").Parse(eventsTemplate)
	if err != nil {
		return nil, fmt.Errorf("eventgen: %w", err)
	}
	traceable := []string{"duration", "outcome", "sample_rate", "links", "otel"}
	var out bytes.Buffer
	err = tmpl.Execute(&out, map[string]event{
		"Transaction": {ID: "tx.ID", TypeName: "typeTransaction", Shared: traceable},
		"Span":        {ID: "sp.ID", TypeName: "typeSpan", Shared: append([]string{"transaction_id"}, traceable...)},
		"Error":       {ID: "er.ID", TypeName: "typeError", Shared: []string{"transaction_id"}},
	})
	if err != nil {
		return nil, fmt.Errorf("eventgen: %w", err)
	}
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("eventgen: the generated code does not parse: %w\n%s", err, out.Bytes())
	}
	return src, nil
}
