package esstandin

import (
	"context"
	"time"
)

// Overload is a schedule of overload episodes: during one, every search answers Delay later than it
// would (or when its request is cancelled, whichever comes first), as a cluster does when its search
// thread pools are saturated. Episode k (from 0) covers [start+First+k×Every, +Length), start being when
// the stand-in was created. The zero value has no episodes.
type Overload struct {
	First  time.Duration // from the stand-in's start to the first episode; 0 with Length > 0: at once
	Every  time.Duration // from one episode's start to the next; 0: only one episode
	Length time.Duration // how long an episode lasts; 0: no episodes
	Delay  time.Duration // added to each search during an episode
}

// Episode returns the episode that contains t, if any.
func (o Overload) Episode(start, t time.Time) (from, to time.Time, ok bool) {
	if o.Length <= 0 || o.Delay <= 0 {
		return time.Time{}, time.Time{}, false
	}
	since := t.Sub(start) - o.First
	if since < 0 {
		return time.Time{}, time.Time{}, false
	}
	k := time.Duration(0)
	if o.Every > 0 {
		k = since / o.Every
	}
	from = start.Add(o.First + k*o.Every)
	to = from.Add(o.Length)
	if t.Before(to) {
		return from, to, true
	}
	return time.Time{}, time.Time{}, false
}

// Next returns the start and end of the first episode that ends after t, if there is one.
func (o Overload) Next(start, t time.Time) (from, to time.Time, ok bool) {
	if o.Length <= 0 || o.Delay <= 0 {
		return time.Time{}, time.Time{}, false
	}
	if from, to, ok := o.Episode(start, t); ok {
		return from, to, true
	}
	first := start.Add(o.First)
	if t.Before(first) {
		return first, first.Add(o.Length), true
	}
	if o.Every <= 0 {
		return time.Time{}, time.Time{}, false
	}
	k := t.Sub(first)/o.Every + 1
	from = first.Add(k * o.Every)
	return from, from.Add(o.Length), true
}

// overloaded waits out the episode's delay if t is in one; it returns false if ctx ended first.
func (s *StandIn) overloaded(ctx context.Context, t time.Time) bool {
	if _, _, ok := s.cfg.Overload.Episode(s.start, t); !ok {
		return true
	}
	s.overloadedSearches.Add(1)
	timer := time.NewTimer(s.cfg.Overload.Delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// NextOverload returns the current or next overload episode, if the schedule has one.
func (s *StandIn) NextOverload(t time.Time) (from, to time.Time, ok bool) {
	return s.cfg.Overload.Next(s.start, t)
}
