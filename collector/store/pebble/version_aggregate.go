package pebble

import (
	"cmp"
	"context"
	"encoding/binary"
	"slices"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// Per-version aggregates, so that comparing two versions of a service (collector/query's
// /api/v1/compare) reads one value per minute, version and transaction name, never the transactions:
//
//	a part service 'V' version minute      -> latency aggregate of the version's transactions
//	a part service 'v' version name minute -> latency aggregate of the version's transactions named name
//	a part service 'w' version name minute -> breakdown of the version's transactions named name
//
// (the layout and the values' encodings of aggregate.go; version and name escaped). Events of a
// service without a service.version are in none. Versions are few (a deploy makes one), so these
// keys add at most a few per minute and transaction name to what the writer keeps.
const (
	aggVersionService   = 'V'
	aggVersion          = 'v'
	aggVersionBreakdown = 'w'
)

// appendVersion appends the escaped service.version v to r.buf, or nothing when v is "".
func (r *pendingWrite) appendVersion(v string) bufRange {
	if v == "" {
		return bufRange{}
	}
	start := r.mark()
	r.buf = appendEscaped(r.buf, v)
	return bufRange{start, r.mark()}
}

// addVersion adds a transaction's contribution to its version's aggregates, if it has a version.
func (w *aggWriter) addVersion(p uint32, r *pendingWrite, in *aggInput) {
	if in.ver.end == in.ver.off {
		return
	}
	svc, ver := r.bytes(in.svc), r.bytes(in.ver)
	w.latency(w.aggKey(p, svc, aggVersionService, ver, in.minute), nil).add(in)
	w.latency(w.versionKey(p, r, in, aggVersion), r.bytes(in.typ)).add(in)
}

// addVersionBreakdown adds a breakdown metricset's self time to its version's breakdown, if it has a
// version.
func (w *aggWriter) addVersionBreakdown(p uint32, r *pendingWrite, in *aggInput) {
	if in.ver.end == in.ver.off {
		return
	}
	w.breakdown(w.versionKey(p, r, in, aggVersionBreakdown)).types.add(r.bytes(in.typ), r.bytes(in.subtype), in.count, in.micros)
}

// versionKey is the key of in's version and transaction name at level, in w.key.
func (w *aggWriter) versionKey(p uint32, r *pendingWrite, in *aggInput, level byte) []byte {
	w.key = partKey(w.key[:0], ksAgg, p)
	w.key = append(w.key, r.bytes(in.svc)...)
	w.key = append(w.key, level)
	w.key = append(w.key, r.bytes(in.ver)...)
	w.key = append(w.key, r.bytes(in.name)...)
	w.key = binary.BigEndian.AppendUint64(w.key, minuteKey(in.minute))
	return w.key
}

// Versions returns the service.versions of a service's transactions in [from, to) (widened to whole
// minutes), the first seen first (ties by name).
func (s *Store) Versions(ctx context.Context, service string, from, to time.Time) ([]collector.VersionSeen, error) {
	if err := s.acquireService("versions", service); err != nil {
		return nil, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	type seen struct {
		first, last int64
		counts      latencyCounts
	}
	byVersion := map[string]*seen{}
	var none noRecorder
	err := s.eachAggregateUnder(ctx, lo, hi, false, "", func(b []byte, p uint32) []byte {
		return aggPrefix(b, p, service, aggVersionService, "", false)
	}, func(version string, m int64, v []byte) error {
		sn := byVersion[version]
		if sn == nil {
			sn = &seen{first: m, last: m}
			byVersion[version] = sn
		}
		sn.first, sn.last = min(sn.first, m), max(sn.last, m)
		return decodeLatency(v, &sn.counts, none)
	})
	if err != nil {
		return nil, err
	}
	out := make([]collector.VersionSeen, 0, len(byVersion))
	for v, sn := range byVersion {
		out = append(out, collector.VersionSeen{Version: v, First: minuteTime(sn.first), Last: minuteTime(sn.last), Count: sn.counts.count})
	}
	slices.SortFunc(out, func(a, b collector.VersionSeen) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.Version, b.Version))
	})
	return out, nil
}

// VersionAggregates returns the pre-aggregated figures of every transaction name of one
// service.version of a service, in [from, to) (widened to whole minutes; zero from: unbounded, zero
// to: now).
func (s *Store) VersionAggregates(ctx context.Context, service, version string, from, to time.Time) (map[string]collector.Aggregate, error) {
	if err := s.acquireVersion("version aggregates", service, version); err != nil {
		return nil, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	return s.namedAggregates(ctx, lo, hi, func(b []byte, p uint32) []byte {
		b = aggPrefix(b, p, service, aggVersion, "", false)
		return appendEscaped(b, version)
	})
}

// noRecorder drops a histogram's buckets: for reading only an aggregate's counts.
type noRecorder struct{}

func (noRecorder) RecordValues(int64, int64) error { return nil }

// VersionBreakdown is Breakdown for the transactions of one service.version (of the transactions
// named name, or of all when name is ""), from the breakdown metricsets of agents reporting that
// version.
func (s *Store) VersionBreakdown(ctx context.Context, service, version, name string, from, to time.Time) ([]collector.SpanTypeTime, error) {
	if err := s.acquireVersion("version breakdown", service, version); err != nil {
		return nil, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	var d spanTypes
	err := s.eachAggregateUnder(ctx, lo, hi, false, "", func(b []byte, p uint32) []byte {
		return appendEscaped(aggPrefix(b, p, service, aggVersionBreakdown, "", false), version)
	}, func(n string, _ int64, v []byte) error {
		if name != "" && n != name {
			return nil
		}
		return decodeBreakdown(v, &d)
	})
	if err != nil {
		return nil, err
	}
	return sortedBreakdown(d), nil
}
