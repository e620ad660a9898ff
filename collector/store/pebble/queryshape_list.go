package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/HdrHistogram/hdrhistogram-go"
	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// maxListIterators bounds the partitions a shape listing reads at once (one Pebble iterator each);
// longer ranges are read that many partitions at a time.
const maxListIterators = 64

// listShapes adds up the aggregates of every shape of service at level (keys of minutes [lo, hi)) and
// returns each shape's counts and percentiles.
//
// A partition holds each shape's keys together, in the shapes' order, and every partition the same
// order. So the partitions are read side by side, one iterator each, a shape at a time: all of one
// shape's values are added into a pair of dense histograms (a counter per bucket, reused from shape to
// shape), whose percentiles are read in one pass. Adding each decoded bucket into a sparse (packed)
// histogram per shape cost a binary search, and often a shift, per bucket (a day of 1,000 shapes reads
// about a million buckets), and packing the dense ones at the end of each shape half as much again.
// Nothing is copied out of the iterators, so memory does not grow with the range.
//
// A range of more than maxListIterators partitions is read in groups of them; then each shape's
// histograms are packed after each group and added up, so that its percentiles are those of the whole
// range.
func (s *Store) listShapes(ctx context.Context, service string, level byte, lo, hi int64) ([]collector.QueryShapeRow, error) {
	parts := selectPartitions(s.parts.snapshot(), minuteTime(lo), minuteTime(hi))
	l := shapeLister{byShape: map[string]int{}, dur: newDenseHistogram(), took: newDenseHistogram(), grouped: len(parts) > maxListIterators}
	for len(parts) > 0 {
		n := min(len(parts), maxListIterators)
		if err := s.listShapesIn(ctx, &l, parts[:n], service, level, lo, hi); err != nil {
			return nil, err
		}
		parts = parts[n:]
	}
	for i := range l.out {
		l.rows = append(l.rows, l.out[i].Row())
	}
	return l.rows, nil
}

// shapeLister is a listing in progress: the figures so far, and the scratch histograms. Read in one
// group of partitions, each shape is done when read (rows); read in several, its histograms are kept
// until the end (out, by shape), and its row made then.
type shapeLister struct {
	grouped   bool
	out       []collector.QueryShapeStats
	rows      []collector.QueryShapeRow
	byShape   map[string]int
	dur, took *hdrhistogram.Histogram
}

// listCursor is one partition's iterator, at a key of the level, and that key's escaped shape.
type listCursor struct {
	it      *pebbledb.Iterator
	prefix  []byte
	escaped []byte
}

// load reads the key the iterator is at: false past the prefix (the cursor is done).
func (c *listCursor) load(valid bool) (bool, error) {
	if !valid {
		return false, c.it.Error()
	}
	rest := c.it.Key()[len(c.prefix):]
	if len(rest) < 8+2 {
		return false, fmt.Errorf("store: bad aggregate key %q", c.it.Key())
	}
	c.escaped = rest[:len(rest)-8]
	return true, nil
}

func (c *listCursor) minute() int64 {
	k := c.it.Key()
	return int64(binary.BigEndian.Uint64(k[len(k)-8:]) ^ 1<<63)
}

func (s *Store) listShapesIn(ctx context.Context, l *shapeLister, parts []partition, service string, level byte, lo, hi int64) (err error) {
	cursors := make([]listCursor, 0, len(parts))
	defer func() {
		for _, c := range cursors {
			if cerr := c.it.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("store: read aggregates: %w", cerr)
			}
		}
	}()
	live := make([]*listCursor, 0, len(parts))
	for _, p := range parts {
		prefix := aggPrefix(nil, p.P, service, level, "", false)
		it, err := s.db.NewIterWithContext(ctx, &pebbledb.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return fmt.Errorf("store: new iterator: %w", err)
		}
		cursors = append(cursors, listCursor{it: it, prefix: prefix})
	}
	for i := range cursors {
		c := &cursors[i]
		ok, err := c.load(c.it.First())
		if err != nil {
			return err
		}
		if ok {
			live = append(live, c)
		}
	}
	var escaped []byte
	for len(live) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The next shape: the least of the cursors' shapes.
		least := live[0].escaped
		for _, c := range live[1:] {
			if bytes.Compare(c.escaped, least) < 0 {
				least = c.escaped
			}
		}
		escaped = append(escaped[:0], least...)
		var counts shapeCounts
		l.dur.Reset()
		l.took.Reset()
		kept := live[:0]
		for _, c := range live {
			ok := true
			for ok && bytes.Equal(c.escaped, escaped) {
				if m := c.minute(); m >= lo && m < hi {
					if err := decodeShapeAgg(c.it.Value(), &counts, l.dur, l.took); err != nil {
						return fmt.Errorf("store: aggregate %q: %w", c.it.Key(), err)
					}
				}
				if ok, err = c.load(c.it.Next()); err != nil {
					return err
				}
			}
			if ok {
				kept = append(kept, c)
			}
		}
		live = kept
		if counts.count == 0 && counts.summary == "" {
			continue // only minutes outside the range
		}
		if err := l.add(escaped, &counts); err != nil {
			return err
		}
	}
	return nil
}

// add adds one shape's figures, read from some partitions (its histograms in l.dur and l.took), to the
// listing.
func (l *shapeLister) add(escaped []byte, c *shapeCounts) error {
	shape, _, ok := readEscaped(escaped)
	if !ok {
		return fmt.Errorf("store: bad aggregate key: shape %q", escaped)
	}
	if !l.grouped {
		row := collector.QueryShapeRow{Duration: collector.PercentilesOf(l.dur)}
		setCounts(&row.QueryShapeCounts, c)
		row.Shape = shape
		if c.tookCount > 0 {
			row.Took = collector.PercentilesOf(l.took)
		}
		l.rows = append(l.rows, row)
		return nil
	}
	i, ok := l.byShape[shape]
	if !ok {
		i = len(l.out)
		l.byShape[shape] = i
		l.out = append(l.out, *newShapeStats(shape))
	}
	st := &l.out[i]
	all := countsOf(&st.QueryShapeCounts)
	all.add(c)
	setCounts(&st.QueryShapeCounts, &all)
	st.Duration.MergeFrom(l.dur)
	st.Took.MergeFrom(l.took)
	return nil
}
