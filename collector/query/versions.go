package query

import (
	"context"
	"net/http"
	"time"
)

type versionJSON struct {
	Version   string    `json:"version"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int64     `json:"count"`
}

type versionsJSON struct {
	rangeJSON
	Service  string        `json:"service"`
	Versions []versionJSON `json:"versions"`
}

// versions answers GET /api/v1/versions?service=: the service.versions of a service's transactions in
// the range, the first seen first.
func (a *API) versions(ctx context.Context, _ *http.Request, p *params) (any, error) {
	service := p.required("service")
	from, to := p.timeRange()
	if err := p.done(); err != nil {
		return nil, err
	}
	vs, err := a.cfg.Compare.Versions(ctx, service, from, to)
	if err != nil {
		return nil, err
	}
	out := versionsJSON{rangeJSON: rangeJSON{from, to}, Service: service, Versions: make([]versionJSON, 0, len(vs))}
	for _, v := range vs {
		// last_seen is the end of the last minute with transactions of the version.
		out.Versions = append(out.Versions, versionJSON{Version: v.Version, FirstSeen: v.First.UTC(), LastSeen: v.Last.Add(time.Minute).UTC(), Count: v.Count})
	}
	return out, nil
}
