package main

import (
	"context"
	"net/http"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/query"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// profileStore adapts the Pebble store's profiles to the query API's ProfileReader (the store is the
// intake's ProfileSink as it is).
type profileStore struct{ s *pebble.Store }

var (
	_ query.ProfileReader = profileStore{}
	_ intake.ProfileSink  = (*pebble.Store)(nil)
)

func (p profileStore) Profiles(ctx context.Context, q query.ProfileQuery) (query.ProfilePage, error) {
	page, err := p.s.Profiles(ctx, pebble.ProfileQuery{Service: q.Service, TransactionID: q.TransactionID, TraceID: q.TraceID,
		From: q.From, To: q.To, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return query.ProfilePage{}, badCursor(err)
	}
	return query.ProfilePage{Profiles: page.Profiles, Next: page.Next}, nil
}

func (p profileStore) Profile(ctx context.Context, id string) (collector.Profile, bool, error) {
	return p.s.Profile(ctx, id)
}

func (p profileStore) ProfilePart(ctx context.Context, id, kind string) ([]byte, bool, error) {
	return p.s.ProfilePart(ctx, id, kind)
}

// profileIntake is POST /intake/v2/profile over c's store, with the intake's authentication, limits and
// metrics.
func (c *collectorServer) profileIntake() http.Handler {
	h, err := c.intake.ProfileHandler(intake.ProfileConfig{Sink: c.store})
	if err != nil {
		panic(err) // ProfileHandler fails only without a sink, and openCollector has opened the store
	}
	return h
}
