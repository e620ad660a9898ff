package pebble

import (
	"hash/maphash"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// traceCap bounds what one trace id can take in the store: at most limit events per ingest day (the
// trace index's unit, keys.go); later events of the trace are dropped when their batch is queued, before
// anything of them is encoded, and counted (hotpath_store_trace_events_dropped_total). APM Server
// refuses nothing here, but it keeps no store: without the cap, one client repeating a trace id in a
// stream (3.23 million events in one 4 MB gzip body) makes the store keep all of them under one key.
// The first limit events of the trace are kept, and GetTrace reads at most MaxTraceEvents, the default
// limit: a capped trace reads back whole as far as it was kept.
//
// Counting every trace id of a day exactly would take memory in proportion to the traffic. The counts
// are a count-min sketch instead: two rows of counters, each trace id adding to one counter per row
// (chosen by a hash seeded at random, so a client cannot aim at a counter), and a trace's count is the
// smaller of its two. That is never less than the true count, so no trace passes the cap; it is more
// only when other traces share both of its counters, which takes about limit events falling on both
// (2^17 counters a row: a day of 100 million events puts about 760 on a counter).
//
// A batch the queue then refuses gives its counts back. The counts start over each ingest day and
// when the store is opened: after a restart a trace may take limit more events.
type traceCap struct {
	limit uint32
	now   func() time.Time
	log   *zap.Logger
	seed  [2]maphash.Seed

	mu     sync.Mutex // guards day and counts
	day    int64
	counts []uint32 // traceCapRows rows of traceCapWidth
}

const (
	traceCapRows  = 2
	traceCapWidth = 1 << 17 // 1 MiB of counters in all
)

func newTraceCap(limit int, now func() time.Time, log *zap.Logger) *traceCap {
	if limit <= 0 {
		return nil
	}
	return &traceCap{
		limit: uint32(min(limit, 1<<31)), now: now, log: log,
		seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		day:  -1,
	}
}

// traceSlot is the counters of one trace id: the index of its counter in each row.
type traceSlot [traceCapRows]uint32

func (c *traceCap) slot(traceID string) traceSlot {
	var s traceSlot
	for i := range s {
		s[i] = uint32(i*traceCapWidth) + uint32(maphash.String(c.seed[i], traceID)%traceCapWidth)
	}
	return s
}

// admit decides, for each event of b, whether it is kept: it appends to keep one flag per event and
// to slots the counters of every event kept with a trace id (for refund), and returns how many
// events it dropped.
func (c *traceCap) admit(b collector.Batch, keep []bool, slots []traceSlot) ([]bool, []traceSlot, int) {
	dropped := 0
	c.mu.Lock()
	defer c.mu.Unlock()
	if day := c.now().Unix() / 86400; day != c.day {
		if c.counts == nil {
			c.counts = make([]uint32, traceCapRows*traceCapWidth)
		} else {
			clear(c.counts)
		}
		c.day = day
	}
	var prev string // a trace's events mostly arrive together: its slot is hashed once for them
	var s traceSlot
	for i := range b {
		id := b[i].TraceID
		if id == "" {
			keep = append(keep, true)
			continue
		}
		if id != prev {
			s, prev = c.slot(id), id
		}
		n := c.counts[s[0]]
		for _, j := range s[1:] {
			n = min(n, c.counts[j])
		}
		if n >= c.limit {
			keep = append(keep, false)
			dropped++
			continue
		}
		if n+1 == c.limit {
			c.log.Warn("trace reached the per-trace cap: its later events today are dropped",
				zap.String("trace.id", id), zap.Uint32("cap", c.limit))
		}
		for _, j := range s {
			c.counts[j]++
		}
		keep = append(keep, true)
		slots = append(slots, s)
	}
	return keep, slots, dropped
}

// refund gives back the counts of events that were not stored after all (their batch was refused).
func (c *traceCap) refund(slots []traceSlot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range slots {
		for _, j := range s {
			if c.counts[j] > 0 {
				c.counts[j]--
			}
		}
	}
}
