package pebble

import (
	"context"
	"errors"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// HourlyShapesFrom is the range from which QueryShapes reads hourly figures: ranges at least this long
// are widened to whole hours, so that a day costs 24 values per shape instead of 1,440.
const HourlyShapesFrom = 6 * time.Hour

// shapeStats is a shape's figures as read: counts and histograms.
func newShapeStats(shape string) *collector.QueryShapeStats {
	return &collector.QueryShapeStats{QueryShapeCounts: collector.QueryShapeCounts{Shape: shape}, Duration: newHistogram(), Took: newHistogram()}
}

// addShape decodes an encoded shape aggregate into st.
func addShape(st *collector.QueryShapeStats, v []byte) error {
	c := countsOf(&st.QueryShapeCounts)
	if err := decodeShapeAgg(v, &c, st.Duration, st.Took); err != nil {
		return err
	}
	setCounts(&st.QueryShapeCounts, &c)
	return nil
}

// countsOf is st's counts and names.
func countsOf(st *collector.QueryShapeCounts) shapeCounts {
	return shapeCounts{count: st.Count, errors: st.Errors, sumMicros: int64(st.Sum / time.Microsecond),
		tookCount: st.TookCount, truncated: st.Truncated, dbType: st.DBType, summary: st.Summary}
}

// setCounts sets st's counts and names to c's.
func setCounts(st *collector.QueryShapeCounts, c *shapeCounts) {
	st.Count, st.Errors, st.Sum, st.TookCount = c.count, c.errors, time.Duration(c.sumMicros)*time.Microsecond, c.tookCount
	st.Truncated, st.DBType, st.Summary = c.truncated, c.dbType, c.summary
}

// QueryShapes returns the figures of each query shape of a service in [from, to), in no particular
// order, and the range they cover: from and to widened to whole minutes, or to whole hours for ranges of
// HourlyShapesFrom or more.
func (s *Store) QueryShapes(ctx context.Context, service string, from, to time.Time) ([]collector.QueryShapeRow, time.Time, time.Time, error) {
	return s.shapeList(ctx, familyQueryShape, service, from, to)
}

// Dependencies returns the figures of each dependency a service called in [from, to), in no
// particular order, and the range they cover, as QueryShapes.
func (s *Store) Dependencies(ctx context.Context, service string, from, to time.Time) ([]collector.DependencyRow, time.Time, time.Time, error) {
	return s.shapeList(ctx, familyDependency, service, from, to)
}

func (s *Store) shapeList(ctx context.Context, f aggFamily, service string, from, to time.Time) ([]collector.QueryShapeRow, time.Time, time.Time, error) {
	if err := s.acquireService("query shapes and dependencies", service); err != nil {
		return nil, from, to, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	level, hourly, _ := f.levels()
	if !from.IsZero() && hi-lo >= int64(HourlyShapesFrom/time.Minute) {
		level, lo, hi = hourly, hourMinute(lo), hourMinute(hi+59)
	}
	out, err := s.listShapes(ctx, service, level, lo, hi)
	if err != nil {
		return nil, from, to, err
	}
	return out, minuteTime(lo), minuteTime(hi), nil
}

// QueryShape returns one shape's figures in [from, to) (widened to whole minutes), a series of one
// point per interval (a whole number of minutes; none when interval <= 0) and the slowest calls of the
// hours the range touches, slowest first.
func (s *Store) QueryShape(ctx context.Context, service, shape string, from, to time.Time, interval time.Duration) (
	collector.QueryShapeStats, []collector.QueryShapePoint, []collector.QueryShapeExample, error) {
	return s.shapeDetail(ctx, familyQueryShape, service, shape, from, to, interval)
}

// Dependency returns one dependency's figures in [from, to), a series and the slowest calls, as
// QueryShape.
func (s *Store) Dependency(ctx context.Context, service, target string, from, to time.Time, interval time.Duration) (
	collector.DependencyStats, []collector.DependencyPoint, []collector.DependencyExample, error) {
	return s.shapeDetail(ctx, familyDependency, service, target, from, to, interval)
}

func (s *Store) shapeDetail(ctx context.Context, f aggFamily, service, shape string, from, to time.Time, interval time.Duration) (
	collector.QueryShapeStats, []collector.QueryShapePoint, []collector.QueryShapeExample, error) {
	minute, _, _ := f.levels()
	total := newShapeStats(shape)
	if err := s.acquire(); err != nil {
		return *total, nil, nil, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	step := int64(interval / time.Minute)
	var points []collector.QueryShapePoint
	if step > 0 {
		if from.IsZero() || (hi-lo)/step > 10_000 {
			return *total, nil, nil, errors.New("store: query shape series: give from, and at most 10,000 points")
		}
		lo = floorDiv(lo, step) * step
		for m := lo; m < hi; m += step {
			points = append(points, collector.QueryShapePoint{Start: minuteTime(m), QueryShapeStats: *newShapeStats(shape)})
		}
	}
	err := s.eachAggregate(ctx, service, minute, shape, true, lo, hi, func(_ string, v []byte) error {
		return addShape(total, v)
	})
	if err == nil && step > 0 {
		// Points read the same keys again, each into its interval: the keys' minutes are not passed to
		// fn, so read them per interval.
		for i := range points {
			m := lo + int64(i)*step
			if err = s.eachAggregate(ctx, service, minute, shape, true, m, min(m+step, hi), func(_ string, v []byte) error {
				return addShape(&points[i].QueryShapeStats, v)
			}); err != nil {
				break
			}
		}
	}
	if err != nil {
		return *total, nil, nil, err
	}
	examples, err := s.shapeExamples(ctx, f, service, shape, lo, hi)
	if err != nil {
		return *total, nil, nil, err
	}
	if total.TookCount == 0 {
		total.Took = nil
	}
	return *total, points, examples, nil
}

// QueryShapeExamples returns the slowest calls of a shape in the hours that [from, to) touches, slowest
// first, at most 10.
func (s *Store) QueryShapeExamples(ctx context.Context, service, shape string, from, to time.Time) ([]collector.QueryShapeExample, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	lo, hi := s.minuteRange(from, to)
	return s.shapeExamples(ctx, familyQueryShape, service, shape, lo, hi)
}

func (s *Store) shapeExamples(ctx context.Context, f aggFamily, service, shape string, lo, hi int64) ([]collector.QueryShapeExample, error) {
	_, _, level := f.levels()
	var xs []shapeExample
	err := s.eachAggregate(ctx, service, level, shape, true, hourMinute(lo), hi, func(_ string, v []byte) error {
		return decodeShapeExamples(v, &xs, 2*shapeExamples)
	})
	if err != nil {
		return nil, err
	}
	var examples []collector.QueryShapeExample
	for _, x := range xs {
		examples = append(examples, collector.QueryShapeExample{TraceID: x.traceID, TransactionID: x.txID, SpanID: x.spanID,
			Timestamp: time.Unix(0, x.unixNanos).UTC(), Duration: time.Duration(x.micros) * time.Microsecond, Statement: x.statement})
	}
	return examples, nil
}
