package pebble

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestFailover: served_by and breaker_decision counted per minute, across two commits (the second adds
// to the first's values); state changes paired into open intervals exact to the microsecond, an interval
// that began before the range clipped to it, one still open left without an end.
func TestFailover(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	s := openTest(t, Config{Now: newClock(now).Now})
	g := newGen(1, now)
	m0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tx := func(ts time.Time, typ string, labels ...string) collector.Event {
		e := g.base(collector.KindTransaction, g.id(16), "search", ts)
		e.Transaction = &collector.Transaction{ID: g.id(8), Name: "GET /search", Type: typ}
		for i := 0; i < len(labels); i += 2 {
			e.Labels = append(e.Labels, collector.Label{Key: labels[i], Value: labels[i+1]})
		}
		return e
	}
	change := func(at time.Time, from, to string) collector.Event {
		return tx(at, "breaker", "breaker", "elasticsearch", "breaker_from", from, "breaker_to", to)
	}
	us := time.Microsecond
	mustProcess(t, s, collector.Batch{
		tx(m0.Add(time.Second), "request", "served_by", "elasticsearch", "breaker_decision", "allowed"),
		tx(m0.Add(2*time.Second), "request", "served_by", "emergency_cache", "breaker_decision", "rejected"),
		tx(m0.Add(3*time.Second), "request"), // no breaker: not counted
		change(m0.Add(-10*time.Second), "closed", "open"),
		change(m0.Add(5*time.Second+us), "open", "half-open"),
		change(m0.Add(5*time.Second+7*us), "half-open", "open"),
	})
	mustProcess(t, s, collector.Batch{
		tx(m0.Add(4*time.Second), "request", "served_by", "emergency_cache", "breaker_decision", "rejected"),
		tx(m0.Add(time.Minute), "request", "served_by", "rejected", "breaker_decision", "rejected"),
		tx(m0.Add(time.Minute+time.Second), "request", "served_by", "elasticsearch", "breaker_decision", "probe"),
		change(m0.Add(5*time.Second+90*time.Millisecond), "open", "half-open"),
		change(m0.Add(5*time.Second+95*time.Millisecond), "half-open", "closed"),
		change(m0.Add(70*time.Second), "closed", "open"),
	})
	got, err := s.Failover(context.Background(), "search", m0, m0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := collector.Failover{
		Breakers: []collector.BreakerIntervals{{Name: "elasticsearch", Changes: 5, Open: []collector.Interval{
			{From: m0, To: m0.Add(5*time.Second + us)},
			{From: m0.Add(5*time.Second + 7*us), To: m0.Add(5*time.Second + 90*time.Millisecond)},
			{From: m0.Add(70 * time.Second)},
		}}},
		Minutes: []collector.FailoverMinute{
			{Minute: m0, Elasticsearch: 1, EmergencyCache: 2, Allowed: 1, Refused: 2},
			{Minute: m0.Add(time.Minute), Elasticsearch: 1, Rejected: 1, Refused: 1, Probes: 1},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Failover =\n%+v\nwant\n%+v", got, want)
	}
	// The state changes are not requests: the endpoints' aggregates count the 6 requests only.
	aggs, err := s.EndpointAggregates(context.Background(), "search", m0.Add(-time.Minute), m0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(aggs) != 1 || aggs["GET /search"].Count != 6 {
		t.Errorf("endpoint aggregates %v, want GET /search's 6 requests and no breaker", aggs)
	}
	if other, err := s.Failover(context.Background(), "segmenter", m0, m0.Add(2*time.Minute)); err != nil ||
		len(other.Breakers) != 0 || len(other.Minutes) != 0 {
		t.Errorf("another service: %+v, %v", other, err)
	}
}
