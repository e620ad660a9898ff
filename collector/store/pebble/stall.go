package pebble

import (
	"fmt"
	"time"

	"go.uber.org/zap"
)

// A disk that hangs rather than fails: an fsync of the database's log that does not return (a frozen
// filesystem, a network volume gone away, a dying device retrying for minutes). Nothing fails, so
// health.go's reopen never starts; without this, the group commit waits forever, the queue fills, and
// every client waits for an answer that never comes.
//
// The syncer times each group commit's fsync, and the writer its write of the journal (a frozen
// filesystem makes writes wait too). Once one has lasted Config.StallTimeout, the store is stalled
// until it returns:
//
//   - new batches are refused with an error that Is collector.ErrStorageUnavailable (503: agents and
//     OpenTelemetry SDKs retry later), as below the free-space floor;
//   - the callers already waiting are answered with that error too, instead of waiting with the disk:
//     a batch still queued is taken out of the queue and never written; a batch already applied
//     behind the stalled fsync may yet become durable when the disk returns (the answer says so): an
//     agent that sends it again stores it twice, never zero times;
//   - reads go on (they do not wait for the log), and Close returns without waiting for the disk.
//
// When the fsync returns, writes resume by themselves; if it fails, health.go's failure handling
// takes over.

// stalledError is the store's refusal while a write of its log has not returned.
func stalledError(d time.Duration) error {
	return &unavailableError{msg: fmt.Sprintf("store: a write to disk has not returned for %v; "+
		"writes resume once it does", d.Round(time.Millisecond))}
}

// abandonedError answers a batch that was applied behind the stalled fsync and is no longer waited for.
func abandonedError(d time.Duration) error {
	return &unavailableError{msg: fmt.Sprintf("store: a write to disk has not returned for %v; "+
		"this batch is stored if it does, writes resume then", d.Round(time.Millisecond))}
}

// The states of a pendingWrite between its caller and the writer: queued until the writer takes it,
// then written (applied to Pebble, waiting for its fsync) until the syncer answers it. A caller whose
// wait meets a stall abandons it: from queued it is never written, from written its outcome is left
// to the disk.
const (
	writeQueued int32 = iota
	writeWritten
	writeAnswered
	writeAbandoned
)

// The disk operations the stall timer watches: the journal's fsync (the syncer's) and the writer's
// commit (its write of the journal, and its wait for a checkpoint creating a segment).
const (
	opSync = iota
	opWrite
	diskOps
)

// diskOpBegan records the start of a disk operation and arms the stall timer.
func (s *Store) diskOpBegan(op int) {
	s.diskSince[op].Store(int64(time.Since(s.epoch)))
	if s.cfg.StallTimeout > 0 {
		s.stallTimer.Reset(s.cfg.StallTimeout)
	}
}

// diskOpEnded records that the operation returned, and ends a stall if no other one is running.
func (s *Store) diskOpEnded(op int) {
	began := s.diskSince[op].Swap(0)
	if s.oldestDiskOp() != 0 {
		return
	}
	if err := s.stalled.Swap(nil); err != nil {
		s.log.Info("store accepts events again: the disk returned",
			zap.Duration("stalled_for", time.Since(s.epoch)-time.Duration(began)))
		s.setWritable()
	}
}

// oldestDiskOp returns when (since epoch) the oldest running disk operation began; 0: none runs.
func (s *Store) oldestDiskOp() int64 {
	oldest := int64(0)
	for i := range s.diskSince {
		if b := s.diskSince[i].Load(); b != 0 && (oldest == 0 || b < oldest) {
			oldest = b
		}
	}
	return oldest
}

// checkStall runs when the stall timer fires: if a disk operation it was armed for is still running
// after Config.StallTimeout, the store is stalled.
func (s *Store) checkStall() {
	began := s.oldestDiskOp()
	if began == 0 {
		return
	}
	elapsed := time.Since(s.epoch) - time.Duration(began)
	if elapsed < s.cfg.StallTimeout {
		s.stallTimer.Reset(s.cfg.StallTimeout - elapsed) // a later operation re-armed the timer's start
		return
	}
	err := stalledError(elapsed)
	if !s.stalled.CompareAndSwap(nil, &err) {
		return
	}
	if s.oldestDiskOp() != began {
		// The operation returned meanwhile, and diskOpEnded may have looked before the store was
		// stalled.
		if s.stalled.CompareAndSwap(&err, nil) {
			return
		}
	}
	s.metrics.diskStalls.Inc()
	s.log.Warn("store refuses events: a write to disk has not returned", zap.Duration("for", elapsed))
	s.setWritable()
}

// stallErr returns the stall's refusal, or nil.
func (s *Store) stallErr() error {
	if err := s.stalled.Load(); err != nil {
		return *err
	}
	return nil
}

// stalledFor reports how long the oldest running disk operation has been running.
func (s *Store) stalledFor() time.Duration {
	began := s.oldestDiskOp()
	if began == 0 {
		return 0
	}
	return time.Since(s.epoch) - time.Duration(began)
}

// awaitWrite waits for r's answer; if the store stalls first, it abandons r and answers for it. An
// abandoned pendingWrite is not returned to the pool: the writer or the syncer may still hold it.
func (s *Store) awaitWrite(r *pendingWrite) error {
	for {
		changed := s.healthChanged()
		select {
		case err := <-r.done:
			s.reqPool.Put(r)
			return err
		case <-changed:
		}
		if s.stalled.Load() == nil {
			continue
		}
		switch {
		case r.state.CompareAndSwap(writeQueued, writeAbandoned):
			return stalledError(s.stalledFor())
		case r.state.CompareAndSwap(writeWritten, writeAbandoned):
			return abandonedError(s.stalledFor())
		}
		// Answered meanwhile: the answer is in r.done.
	}
}

// takeWritable marks the pending writes the writer took as written and drops those whose callers
// abandoned them while they were queued, releasing their queue bytes.
func (s *Store) takeWritable(reqs []*pendingWrite) []*pendingWrite {
	kept := reqs[:0]
	for i, r := range reqs {
		if r.state.CompareAndSwap(writeQueued, writeWritten) {
			kept = append(kept, r)
			continue
		}
		if s.traces != nil {
			s.traces.refund(r.capSlots)
		}
		s.q.release(reqs[i:i+1], s.metrics)
	}
	clear(reqs[len(kept):])
	return kept
}

// answer gives r its outcome unless its caller abandoned it.
func answer(r *pendingWrite, err error) {
	if r.state.CompareAndSwap(writeWritten, writeAnswered) {
		r.done <- err
	}
}
