package pebble

// The writer's copies of the aggregate values it wrote lately, decoded.
//
// A group commit adds its events to each aggregate key it touches: it used to read the key's value back
// from the database, decode it (an HDR histogram is decoded bucket by bucket) and encode the sum, every
// commit; the reading and decoding were 5.5 % of the collector's CPU under intake load (BENCHMARKS.md,
// "On 7c820b8"). Now the writer keeps each value it wrote, decoded, and adds to that copy. Only the
// writer writes aggregate keys, so the copy is the value in the database as long as every change made to
// it was applied. Changes are made to the copies while a group is built, before it is applied, so the
// cache is emptied whenever a group is not applied (the errors of build and apply, writer.go) and when
// the database is reopened after a failed write (health.go); and keys carry their partition, so a new
// partition starts an empty cache. Entries unused for aggCacheIdle commits are dropped. Memory is
// bounded: at most aggCacheMax entries (a key beyond them is read and decoded as before), and the cache
// is emptied when its values, counted by their encoded size plus aggCacheOverhead each, pass
// aggCacheBytes (an hour's examples of a shape can hold five statements of 10 KB).

import (
	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hotpath-apm/hotpath/collector"
)

const (
	aggCacheMax      = 1 << 14 // entries
	aggCacheBytes    = 8 << 20 // the values' encoded sizes and overheads, summed
	aggCacheOverhead = 512     // per entry: the key, the map's entry, a histogram's fixed part
	aggCacheIdle     = 1 << 10 // commits without use after which an entry is dropped
)

// aggCache maps aggregate keys to their decoded values.
type aggCache struct {
	m      map[string]*aggCached
	bytes  int    // the entries' sizes, summed
	commit uint64 // group commits built, counted
	part   uint32 // the partition of the keys in m
}

// aggCached is one decoded value: a *latencyValue, *spanTypes, *shapeValue or *[]shapeExample.
type aggCached struct {
	used uint64 // the commit that last used it
	size int    // the value's encoded size when last written, plus aggCacheOverhead
	v    any
}

// latencyValue is a latency aggregate (aggregate.go), decoded.
type latencyValue struct {
	latencyCounts
	h *hdrhistogram.PackedHistogram
}

func newLatencyValue() *latencyValue { return &latencyValue{h: newHistogram()} }

func (v *latencyValue) decode(b []byte) error { return decodeLatency(b, &v.latencyCounts, v.h) }

// shapeValue is a query shape's or dependency's aggregate (queryshape.go), decoded.
type shapeValue struct {
	c         shapeCounts
	dur, took *hdrhistogram.PackedHistogram
}

func newShapeValue() *shapeValue { return &shapeValue{dur: newHistogram(), took: newHistogram()} }

func (v *shapeValue) decode(b []byte) error { return decodeShapeAgg(b, &v.c, v.dur, v.took) }

func newSpanTypes() *spanTypes { return new(spanTypes) }

func (b *spanTypes) decode(v []byte) error { return decodeBreakdown(v, b) }

// addTime adds t to b's entry of t's type and subtype.
func (b *spanTypes) addTime(t collector.SpanTypeTime) {
	for i := range *b {
		if e := &(*b)[i]; e.Type == t.Type && e.Subtype == t.Subtype {
			e.Count += t.Count
			e.Sum += t.Sum
			return
		}
	}
	*b = append(*b, t)
}

// begin starts a group commit's use of the cache, in partition p: the cache is emptied when p is
// not the partition of its keys, and now and then rid of the entries not used lately.
func (c *aggCache) begin(p uint32) {
	if c.m == nil {
		c.m = map[string]*aggCached{}
	}
	if c.part != p || c.bytes > aggCacheBytes {
		c.reset()
		c.part = p
	}
	c.commit++
	if c.commit%aggCacheIdle == 0 {
		for k, e := range c.m {
			if c.commit-e.used > aggCacheIdle {
				c.bytes -= e.size
				delete(c.m, k)
			}
		}
	}
}

// reset empties the cache: a change made to its copies was not applied, the database was reopened,
// or the cache holds too much.
func (c *aggCache) reset() {
	clear(c.m)
	c.bytes = 0
}

// written records that key's value was written, encoded in n bytes: its size in the cache.
func (c *aggCache) written(key []byte, n int) {
	if e, ok := c.m[string(key)]; ok {
		c.bytes += n + aggCacheOverhead - e.size
		e.size = n + aggCacheOverhead
	}
}

// cachedAgg returns the decoded value of key: the cache's copy, else the database's value decoded
// into a new one (newV's, when the key has no value), which the cache keeps if it has room. The
// caller adds the group's contribution to it and writes it encoded.
func cachedAgg[V any](s *Store, key []byte, newV func() *V, decode func(*V, []byte) error) (*V, error) {
	c := &s.agg.cache
	if e, ok := c.m[string(key)]; ok {
		e.used = c.commit
		return e.v.(*V), nil
	}
	v := newV()
	if err := s.aggGet(key, func(b []byte) error { return decode(v, b) }); err != nil {
		return nil, err
	}
	if len(c.m) < aggCacheMax && !s.cfg.noAggCache {
		c.m[string(key)] = &aggCached{used: c.commit, v: v}
	}
	return v, nil
}
