package pebble

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// The failover aggregates, kept with the other aggregates (aggregate.go) and in the same commit as the
// events:
//
//	a part service 'F' "" minute      -> counts of the minute's transactions by served_by and breaker_decision
//	a part service 'B' breaker minute -> the breaker's state changes in that minute, exact to the microsecond
//
// from the labels served_by and breaker_decision of every transaction, and the transactions of type
// "breaker" that agent.Breaker sends for each state change (labels breaker, breaker_from, breaker_to).
// breakerTransactionType is the type of the transactions agent.Breaker sends for state changes
// (agent.BreakerTransactionType): markers in time, not requests, so not in the endpoints' aggregates.
const breakerTransactionType = "breaker"

const (
	aggFailover = 'F'
	aggBreaker  = 'B'
)

// failoverCounters is the order of the counters in an 'F' value.
const (
	foElasticsearch = iota
	foEmergencyCache
	foRejected
	foAllowed
	foRefused
	foProbe
	foCounters
)

// failoverInput is one event's contribution: counters, or a state change.
type failoverInput struct {
	svc, breaker string
	minute       int64
	counter      [2]int8 // indexes into the counters, -1 for none
	at           int64   // a change: Unix microseconds
	from, to     string
}

func labelValue(e *collector.Event, key string) string {
	for i := range e.Labels {
		if e.Labels[i].Key == key {
			return e.Labels[i].Value
		}
	}
	return ""
}

// prepareFailover records e's contribution to the failover aggregates, if it makes one.
func (r *pendingWrite) prepareFailover(e *collector.Event) {
	if e.Kind != collector.KindTransaction || e.Transaction == nil || e.Service.Name == "" || e.Timestamp.IsZero() {
		return
	}
	in := failoverInput{svc: e.Service.Name, minute: unixMinute(e.Timestamp), counter: [2]int8{-1, -1}}
	if e.Transaction.Type == breakerTransactionType {
		in.breaker, in.from, in.to = labelValue(e, "breaker"), labelValue(e, "breaker_from"), labelValue(e, "breaker_to")
		if in.breaker == "" || in.to == "" {
			return
		}
		in.at = e.Timestamp.UnixMicro()
		r.fo = append(r.fo, in)
		return
	}
	switch labelValue(e, "served_by") {
	case "":
	case "emergency_cache":
		in.counter[0] = foEmergencyCache
	case "rejected":
		in.counter[0] = foRejected
	default: // the backend, whatever its name
		in.counter[0] = foElasticsearch
	}
	switch labelValue(e, "breaker_decision") {
	case "allowed":
		in.counter[1] = foAllowed
	case "rejected":
		in.counter[1] = foRefused
	case "probe":
		in.counter[1] = foProbe
	}
	if in.counter != [2]int8{-1, -1} {
		r.fo = append(r.fo, in)
	}
}

// commitFailover adds the failover aggregates of reqs' events to batch, in partition p.
func (s *Store) commitFailover(batch *pebbledb.Batch, p uint32, reqs []*pendingWrite) error {
	counts := map[string]*[foCounters]int64{}
	changes := map[string][]byte{}
	var key []byte
	for _, r := range reqs {
		for i := range r.fo {
			in := &r.fo[i]
			if in.breaker != "" {
				key = aggPrefix(key[:0], p, in.svc, aggBreaker, in.breaker, true)
				key = binary.BigEndian.AppendUint64(key, minuteKey(in.minute))
				changes[string(key)] = appendChange(changes[string(key)], in.at, in.from, in.to)
				continue
			}
			key = aggPrefix(key[:0], p, in.svc, aggFailover, "", true)
			key = binary.BigEndian.AppendUint64(key, minuteKey(in.minute))
			c := counts[string(key)]
			if c == nil {
				c = new([foCounters]int64)
				counts[string(key)] = c
			}
			for _, k := range in.counter {
				if k >= 0 {
					c[k]++
				}
			}
		}
	}
	for k, c := range counts {
		if err := s.aggGet([]byte(k), func(v []byte) error {
			old, err := decodeFailoverCounts(v)
			for i := range old {
				c[i] += old[i]
			}
			return err
		}); err != nil {
			return err
		}
		val := []byte{aggFormat}
		for _, n := range c {
			val = binary.AppendVarint(val, n)
		}
		s.setAgg(batch, []byte(k), val)
	}
	for k, add := range changes {
		val := []byte{aggFormat}
		if err := s.aggGet([]byte(k), func(v []byte) error {
			b, err := aggBody(v)
			val = append(val, b...)
			return err
		}); err != nil {
			return err
		}
		s.setAgg(batch, []byte(k), append(val, add...))
	}
	return nil
}

func appendChange(b []byte, at int64, from, to string) []byte {
	b = binary.AppendVarint(b, at)
	b = binary.AppendUvarint(b, uint64(len(from)))
	b = append(b, from...)
	b = binary.AppendUvarint(b, uint64(len(to)))
	return append(b, to...)
}

func decodeFailoverCounts(v []byte) ([foCounters]int64, error) {
	var c [foCounters]int64
	v, err := aggBody(v)
	if err != nil {
		return c, err
	}
	for i := range c {
		n, k := binary.Varint(v)
		if k <= 0 {
			return c, fmt.Errorf("truncated counts")
		}
		c[i], v = n, v[k:]
	}
	return c, nil
}

func decodeChanges(breaker string, v []byte, out []collector.BreakerChange) ([]collector.BreakerChange, error) {
	v, err := aggBody(v)
	if err != nil {
		return out, err
	}
	str := func() (string, bool) {
		n, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < n {
			return "", false
		}
		s := string(v[k : k+int(n)])
		v = v[k+int(n):]
		return s, true
	}
	for len(v) > 0 {
		at, k := binary.Varint(v)
		if k <= 0 {
			return out, fmt.Errorf("truncated change")
		}
		v = v[k:]
		from, ok1 := str()
		to, ok2 := str()
		if !ok1 || !ok2 {
			return out, fmt.Errorf("truncated change")
		}
		out = append(out, collector.BreakerChange{Breaker: breaker, At: time.UnixMicro(at).UTC(), From: from, To: to})
	}
	return out, nil
}

// failoverLookBack is how far before a range's start the store looks for the change that opened a
// breaker still open at the start.
const failoverLookBack = time.Hour

// Failover returns what service's circuit breakers did in [from, to): each breaker's open intervals
// (clipped to the range) and state changes, and per minute the transactions by served_by and
// breaker_decision.
func (s *Store) Failover(ctx context.Context, service string, from, to time.Time) (collector.Failover, error) {
	var out collector.Failover
	if err := s.acquire(); err != nil {
		return out, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	byMinute := map[int64]*[foCounters]int64{}
	if err := s.eachFailoverMinute(ctx, service, lo, hi, func(m int64, v []byte) error {
		c, err := decodeFailoverCounts(v)
		if err != nil {
			return err
		}
		t := byMinute[m]
		if t == nil {
			t = new([foCounters]int64)
			byMinute[m] = t
		}
		for i := range c {
			t[i] += c[i]
		}
		return nil
	}); err != nil {
		return out, err
	}
	for _, m := range slices.Sorted(maps.Keys(byMinute)) {
		c := byMinute[m]
		out.Minutes = append(out.Minutes, collector.FailoverMinute{Minute: minuteTime(m),
			Elasticsearch: c[foElasticsearch], EmergencyCache: c[foEmergencyCache], Rejected: c[foRejected],
			Allowed: c[foAllowed], Refused: c[foRefused], Probes: c[foProbe]})
	}

	var changes []collector.BreakerChange
	clo, _ := s.minuteRange(from.Add(-failoverLookBack), to)
	if err := s.eachAggregate(ctx, service, aggBreaker, "", false, clo, hi, func(name string, v []byte) error {
		var err error
		changes, err = decodeChanges(name, v, changes)
		return err
	}); err != nil {
		return out, err
	}
	slices.SortStableFunc(changes, func(a, b collector.BreakerChange) int {
		return cmp.Or(strings.Compare(a.Breaker, b.Breaker), a.At.Compare(b.At))
	})
	for i := 0; i < len(changes); {
		j := i
		for j < len(changes) && changes[j].Breaker == changes[i].Breaker {
			j++
		}
		out.Breakers = append(out.Breakers, breakerIntervals(changes[i:j], from, to))
		i = j
	}
	return out, nil
}

// eachFailoverMinute calls fn with each 'F' value of service in minutes [lo, hi), and its minute.
func (s *Store) eachFailoverMinute(ctx context.Context, service string, lo, hi int64, fn func(m int64, v []byte) error) error {
	return s.eachAggregateUnder(ctx, lo, hi, true, "", func(b []byte, p uint32) []byte {
		return aggPrefix(b, p, service, aggFailover, "", true)
	}, func(_ string, m int64, v []byte) error { return fn(m, v) })
}

// breakerIntervals turns one breaker's changes, in time order, into its open intervals within [from, to).
func breakerIntervals(changes []collector.BreakerChange, from, to time.Time) collector.BreakerIntervals {
	b := collector.BreakerIntervals{Name: changes[0].Breaker}
	var openAt time.Time
	open := false
	for _, c := range changes {
		if !c.At.Before(to) {
			break
		}
		if !c.At.Before(from) {
			b.Changes++
		}
		switch {
		case c.To == "open" && !open:
			open, openAt = true, c.At
		case c.To != "open" && open:
			open = false
			if c.At.After(from) {
				b.Open = append(b.Open, collector.Interval{From: later(openAt, from), To: c.At})
			}
		}
	}
	if open {
		b.Open = append(b.Open, collector.Interval{From: later(openAt, from)})
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
