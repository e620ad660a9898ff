package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// maxNamesCached bounds the writer's memory of names written in the current partition; past it, names
// are written again with every batch (harmless, only slower).
const maxNamesCached = 100_000

// ProcessBatch stores b and returns once it is durably committed (fsynced), sharing the fsync with the
// batches of concurrent callers (group commit). It does not retain b. It returns
// collector.ErrQueueFull when the queue stays full for Config.EnqueueTimeout, ErrDiskBudget (which is
// also ErrQueueFull) when the disk budget is reached and a cursor holds the data, an error that Is
// collector.ErrStorageUnavailable below the free-space floor or after a failed write (until the store
// has recovered by itself: health.go), ctx's error if ctx ends while waiting for room, and
// collector.ErrShuttingDown once Close has been called. A batch that
// was queued is committed even if ctx ends meanwhile: ProcessBatch waits for that commit.
func (s *Store) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	wait, err := s.EnqueueBatch(ctx, b)
	if err != nil {
		return err
	}
	return wait()
}

// EnqueueBatch is ProcessBatch in two steps, so that one caller can have several batches in flight (the
// intake's pipelining of a stream, intake.BatchEnqueuer): it encodes and queues b and returns at once,
// with the errors of ProcessBatch's refusals; wait, called exactly once, blocks until the batch is
// durable (nil) or its commit failed. Batches are committed in the order they were queued. b may be
// reused as soon as EnqueueBatch returns.
func (s *Store) EnqueueBatch(ctx context.Context, b *collector.Batch) (wait func() error, err error) {
	if s.closing.Load() {
		s.metrics.rejected.WithLabelValues("shutting_down").Inc()
		return nil, collector.ErrShuttingDown
	}
	if err := s.full.Load(); err != nil {
		s.metrics.rejected.WithLabelValues("disk_budget").Inc()
		return nil, *err
	}
	if err := s.writeErr.Load(); err != nil {
		s.metrics.rejected.WithLabelValues("write_failed").Inc()
		return nil, *err
	}
	if err := s.checkFloor(); err != nil {
		s.metrics.rejected.WithLabelValues("disk_floor").Inc()
		return nil, err
	}
	if err := s.stallErr(); err != nil {
		s.metrics.rejected.WithLabelValues("disk_stalled").Inc()
		return nil, err
	}
	if err := s.reserveErr(); err != nil {
		s.metrics.rejected.WithLabelValues("disk_full").Inc()
		return nil, err
	}
	if b == nil || len(*b) == 0 {
		return func() error { return nil }, nil
	}
	r := s.reqPool.Get().(*pendingWrite)
	r.keep, r.capSlots = r.keep[:0], r.capSlots[:0]
	r.state.Store(writeQueued)
	dropped := 0
	if s.traces != nil {
		r.keep, r.capSlots, dropped = s.traces.admit(*b, r.keep, r.capSlots)
		if dropped == len(*b) {
			s.metrics.traceDropped.Add(float64(dropped))
			s.reqPool.Put(r)
			return func() error { return nil }, nil
		}
	}
	r.prepare(*b)
	if err := s.q.push(ctx, r, s.cfg.EnqueueTimeout, s.metrics); err != nil {
		if s.traces != nil {
			s.traces.refund(r.capSlots)
		}
		s.reqPool.Put(r)
		switch err {
		case collector.ErrQueueFull:
			s.metrics.rejected.WithLabelValues("queue_full").Inc()
		case collector.ErrShuttingDown:
			s.metrics.rejected.WithLabelValues("shutting_down").Inc()
		}
		return nil, err
	}
	s.metrics.traceDropped.Add(float64(dropped))
	return func() error { return s.awaitWrite(r) }, nil
}

// maxGroupsSyncing bounds the group commits applied to Pebble (in the memtable, and written to the
// journal) whose fsync has not been confirmed yet.
const maxGroupsSyncing = 4

// A group is one group commit: the pending writes the writer took together, written to the journal as
// one record and applied to Pebble as one batch, then handed to the syncer, which waits for the
// record's fsync and answers the pending writes.
type group struct {
	reqs   []*pendingWrite
	end    uint64    // the journal position after the group's record, once applied; 0 if err
	held   bool      // the group holds the database (acquire) until it is answered
	err    error     // the group failed before or while it was applied
	part   partition // the meta of the partition the group wrote, as of the group
	seq    uint64    // the group's last sequence number
	events uint64
	nbytes int
	start  time.Time
}

// writeLoop is the single writer: it takes queued pending writes in groups, assigns their sequence numbers
// and writes each group to the journal and Pebble without waiting for its fsync, so that the next group
// is built and applied while the previous one's fsync runs. syncLoop waits for
// the fsyncs in order and only then makes each group durable in the store's eyes: partitions, LastSeq,
// WaitFor and the callers' answers. Sequence numbers are assigned in commit order, so the durable log
// never has a gap that a slower commit fills later. The loop ends once the queue is closed and drained
// and every group is answered.
func (s *Store) writeLoop() {
	defer s.wg.Done()
	free := make(chan *group, maxGroupsSyncing+1)
	for range cap(free) {
		free <- &group{}
	}
	syncing := make(chan *group, maxGroupsSyncing)
	synced := make(chan struct{})
	go func() {
		defer close(synced)
		s.syncLoop(syncing, free)
	}()
	for {
		g := <-free // at most maxGroupsSyncing groups are in the syncer meanwhile
		g.reqs = s.q.take(g.reqs, s.cfg.MaxCommitBytes)
		if g.reqs == nil {
			break
		}
		if g.reqs = s.takeWritable(g.reqs); len(g.reqs) == 0 {
			free <- g // every one of them was abandoned in a stall
			continue
		}
		s.apply(g)
		syncing <- g
	}
	close(syncing)
	<-synced
}

// syncLoop answers the groups of writeLoop in order, once each is durable.
func (s *Store) syncLoop(syncing <-chan *group, free chan<- *group) {
	for g := range syncing {
		err := g.err
		if g.end != 0 {
			s.diskOpBegan(opSync)
			serr := s.journal.syncTo(g.end)
			s.diskOpEnded(opSync)
			if serr != nil {
				err = fmt.Errorf("store: commit %d events: %w", g.events, serr)
			}
			g.end = 0
			if err != nil {
				s.writeFailed(err)
				err = *s.writeErr.Load() // the refusal that says why, and that the store recovers
			}
		}
		if err == nil {
			if stopped := s.writeErr.Load(); stopped != nil {
				// An earlier group failed after reaching Pebble: this one's sequence numbers follow
				// events that are not durable, so it is not acknowledged either.
				err = *stopped
			}
		}
		if err == nil {
			s.durableGroup(g)
		}
		if g.held {
			g.held = false
			s.release()
		}
		// Release the queue bytes before answering: a caller that gets its answer may push again at once.
		s.q.release(g.reqs, s.metrics)
		for _, r := range g.reqs {
			answer(r, err)
		}
		clear(g.reqs)
		g.err = nil
		free <- g
	}
}

// durableGroup publishes a group whose fsync is done.
func (s *Store) durableGroup(g *group) {
	s.parts.put(g.part)
	s.publish(g.seq)
	s.metrics.commitSeconds.Observe(time.Since(g.start).Seconds())
	s.metrics.commitEvents.Observe(float64(g.events))
	s.metrics.events.Add(float64(g.events))
	s.metrics.retainedEvents.Add(float64(g.events))
	if s.maxDisk.Load() > 0 {
		s.sinceKick += g.nbytes
		if int64(s.sinceKick) > s.maxDisk.Load()/50 {
			s.sinceKick = 0
			s.kickRetention()
		}
	}
}

// apply writes g's pending writes to the journal and applies them to Pebble in one batch, without
// waiting for the fsync: on success g.end is the journal position for syncLoop to sync to; otherwise
// g.err says why.
func (s *Store) apply(g *group) {
	g.start = time.Now()
	if stopped := s.writeErr.Load(); stopped != nil {
		g.err = *stopped
		return
	}
	// The group holds the database until it is answered, so that a reopen (health.go) waits for it:
	// the writer's state (seq, part, names) is reset only while no group is in flight.
	if err := s.acquire(); err != nil {
		g.err = err
		return
	}
	g.held = true
	batch := s.db.NewBatch()
	defer batch.Close()
	firstSeq := s.seq + 1
	if err := s.build(g, batch, partitionOf(s.cfg.Now())); err != nil {
		clear(s.names) // some of them were not written
		s.agg.cache.reset()
		g.err = err
		return
	}
	s.jrec = appendGroupRecord(s.jrec[:0], g.part.P, firstSeq, g.reqs)
	s.diskOpBegan(opWrite) // a frozen filesystem holds the journal's write, or a checkpoint's segment
	s.commitMu.Lock()
	err := error(nil)
	var end uint64
	if stopped := s.writeErr.Load(); stopped != nil {
		err = *stopped // the log failed while the group was built
	} else if end, err = s.journal.append(s.jrec); err == nil {
		if err = setJournalPosition(batch, end); err == nil {
			err = s.db.Apply(batch, pebbledb.NoSync)
		}
	}
	if err != nil {
		// The journal or Pebble may hold part of it: stop, as after a failed fsync.
		s.writeFailed(fmt.Errorf("store: commit %d events: %w", g.events, err))
		err = *s.writeErr.Load()
	}
	s.commitMu.Unlock()
	s.diskOpEnded(opWrite)
	if cap(s.jrec) > 4*s.cfg.MaxCommitBytes {
		s.jrec = nil // one pending write larger than a group: do not keep its size
	}
	if err != nil {
		clear(s.names)
		s.agg.cache.reset()
		g.err = err
		return
	}
	g.end = end
	s.kickCheckpoint()
	s.seq = g.seq
	s.part, s.partOK = g.part, true
}

// build writes g's pending writes into batch: the events under the sequence numbers after s.seq, their
// index entries, the aggregates and the partition meta, in partition p (or the newest partition
// written, if later). It sets g's part, seq, events and nbytes. What it writes depends on nothing else:
// a journal replay builds the same (journal.go).
func (s *Store) build(g *group, batch *pebbledb.Batch, p uint32) error {
	reqs := g.reqs
	cur, ok := s.part, s.partOK
	if ok && p < cur.P {
		p = cur.P // the clock went back: stay in the newest partition, sequence numbers must stay ordered
	}
	if !ok || cur.P != p {
		cur = partition{P: p, FirstSeq: s.seq + 1, MinTS: 1<<63 - 1, MaxTS: -1 << 63}
	}
	if s.namesPart != p {
		clear(s.names)
		s.namesPart = p
	}

	var key [1 + 4 + 8]byte
	seq := s.seq
	nbytes := 0
	for _, r := range reqs {
		base := seq
		for _, c := range r.chunks {
			if err := batch.Set(eventKey(key[:0], base+1+uint64(c.first)), r.chunk[c.value.off:c.value.end], nil); err != nil {
				return fmt.Errorf("store: write batch: %w", err)
			}
			nbytes += int(c.value.end - c.value.off)
		}
		seq += uint64(len(r.events))
		for i := range r.entries {
			en := &r.entries[i]
			body := r.bytes(en.body)
			if en.ks == ksNames {
				if _, ok := s.names[string(body)]; ok {
					continue
				}
				if len(s.names) < maxNamesCached {
					s.names[string(body)] = struct{}{}
				}
			}
			part := p
			if en.ks == ksTrace {
				part = p / partitionsPerDay
			}
			withSeq := en.ks != ksNames
			klen := 5 + len(body)
			if withSeq {
				klen += 8
			}
			op := batch.SetDeferred(klen, int(en.value.end-en.value.off))
			k := op.Key[:0]
			k = partKey(k, en.ks, part)
			k = append(k, body...)
			if withSeq {
				binary.BigEndian.AppendUint64(k, base+uint64(en.ev)+1)
			}
			copy(op.Value, r.bytes(en.value))
			op.Finish()
		}
		cur.MinTS = min(cur.MinTS, r.minTS)
		cur.MaxTS = max(cur.MaxTS, r.maxTS)
		cur.Events += uint64(len(r.events))
	}
	s.agg.cache.begin(p)
	if err := s.commitAggregates(batch, p, reqs); err != nil {
		return err
	}
	if err := s.commitQueryShapes(batch, p, reqs); err != nil {
		return err
	}
	if err := s.commitFailover(batch, p, reqs); err != nil {
		return err
	}
	cur.LastSeq = seq
	cur.Bytes += uint64(nbytes)
	var meta [partitionMetaSize]byte
	if err := batch.Set(partKey(key[:0], ksPartition, p), cur.marshal(meta[:0]), nil); err != nil {
		return fmt.Errorf("store: write batch: %w", err)
	}
	if err := batch.Set(metaKey("seq"), binary.BigEndian.AppendUint64(nil, seq), nil); err != nil {
		return fmt.Errorf("store: write batch: %w", err)
	}
	g.part, g.seq, g.events, g.nbytes = cur, seq, seq-s.seq, nbytes
	return nil
}

func (s *Store) kickRetention() {
	select {
	case s.retention <- struct{}{}:
	default:
	}
}
