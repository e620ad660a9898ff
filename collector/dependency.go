package collector

// DependencyOf returns the dependency a span calls: its service.target (id "type/name", or the one
// of them it has), else its destination resource (as Kibana's service_destination metrics group
// them). typ is the target's type (else the span's subtype, else its type) and name what to show.
// ok is false for events that are not spans and for spans that call nothing outside the service.
func DependencyOf(e *Event) (id, typ, name string, ok bool) {
	if e.Kind != KindSpan || e.Span == nil {
		return "", "", "", false
	}
	t := e.Service.Target
	switch {
	case t.Type != "" && t.Name != "":
		return t.Type + "/" + t.Name, t.Type, t.Name, true
	case t.Type != "" || t.Name != "":
		id = t.Type + t.Name
		return id, t.Type, id, true
	}
	d := e.Span.DestinationService
	if d == nil || d.Resource == "" {
		return "", "", "", false
	}
	typ = e.Span.Subtype
	if typ == "" {
		typ = e.Span.Type
	}
	return d.Resource, typ, d.Resource, true
}

// DependencyStats is what the store keeps of a service's calls to one dependency over a range, in the
// form of a query shape's figures: Shape is the dependency's id (DependencyOf), DBType its type,
// Summary its name; Took is nil. Composite spans count as the calls they stand for, each at their
// average duration.
type DependencyStats = QueryShapeStats

// DependencyRow is a dependency in a listing of a service's dependencies: its counts and percentiles.
type DependencyRow = QueryShapeRow

// DependencyPoint is one interval of a dependency's series.
type DependencyPoint = QueryShapePoint

// DependencyExample is one of the slowest calls to a dependency in an hour; its Statement is the
// span's name.
type DependencyExample = QueryShapeExample
