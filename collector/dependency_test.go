package collector

import "testing"

func TestDependencyOf(t *testing.T) {
	span := func(typ, name, resource string) *Event {
		e := &Event{Kind: KindSpan, Service: Service{Target: ServiceTarget{Type: typ, Name: name}},
			Span: &Span{Type: "db", Subtype: "postgresql"}}
		if resource != "" {
			e.Span.DestinationService = &DestinationService{Resource: resource}
		}
		return e
	}
	for _, tc := range []struct {
		e             *Event
		id, typ, name string
		ok            bool
	}{
		{span("postgresql", "orders", "postgresql/orders"), "postgresql/orders", "postgresql", "orders", true},
		{span("elasticsearch", "", "elasticsearch"), "elasticsearch", "elasticsearch", "elasticsearch", true},
		{span("", "", "db:5432"), "db:5432", "postgresql", "db:5432", true},
		{span("", "", ""), "", "", "", false},
		{&Event{Kind: KindTransaction, Transaction: &Transaction{}}, "", "", "", false},
	} {
		id, typ, name, ok := DependencyOf(tc.e)
		if id != tc.id || typ != tc.typ || name != tc.name || ok != tc.ok {
			t.Errorf("DependencyOf(%+v) = %q %q %q %v, want %q %q %q %v", tc.e.Service.Target, id, typ, name, ok, tc.id, tc.typ, tc.name, tc.ok)
		}
	}
}
