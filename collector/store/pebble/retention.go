package pebble

import (
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Retention deletes whole hourly partitions, oldest first: one range deletion per keyspace (events by
// sequence number, and each index under the partition's number), then a compaction of those ranges to
// give the space back. It runs in its own goroutine; the writer never waits for it (Pebble's range
// deletions do not block writes). One pass runs at a time (Store.retentionMu): a pass removes a
// partition from the list before its compaction gives the space back, so a pass overlapping it would
// measure that space as still used with the partition already gone, and would refuse intake ("the
// current hour's events alone exceed" the budget) on a false premise, or drop the same partition again.

// Retention also deletes by free space, whatever MaxDisk: below twice the free-space floor it deletes
// the oldest partitions, so that the floor refuses intake only when the newest hour alone does not fit
// (retainFreeSpace).

// retentionFlushTimeout bounds how long retention waits for a checkpoint before it measures the disk.
const retentionFlushTimeout = 10 * time.Second

// diskLowWater is the fraction of MaxDisk retention frees down to once it has started deleting for
// space, so that it does not run again after every commit.
const diskLowWater = 0.9

func (s *Store) retentionLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.retention:
		}
		if err := s.RunRetention(); err != nil && s.stopCtx.Err() == nil && s.writeErr.Load() == nil {
			s.log.Error("store retention failed", zap.Error(err))
		}
	}
}

// RunRetention applies retention now (it otherwise runs every Config.RetentionInterval) and returns
// when done. Tests and the collector's shutdown use it.
func (s *Store) RunRetention() error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	return s.applyRetention()
}

// applyRetention is one retention pass: it deletes what is past MaxAge, then frees space down to the
// low-water mark, and decides whether intake is refused (s.full) from its own last measure. Passes are
// serialized, so that decision is never made from a measure that another pass is changing.
func (s *Store) applyRetention() error {
	s.retentionMu.Lock()
	defer s.retentionMu.Unlock()
	if s.cfg.MaxAge > 0 {
		cutoff := s.cfg.Now().Add(-s.cfg.MaxAge)
		for {
			parts := s.parts.snapshot()
			if len(parts) < 2 || !partitionStart(parts[0].P).Add(partitionWidth).Before(cutoff) {
				break
			}
			dropped, day, err := s.dropPartition(parts[0], "age")
			if err != nil {
				return err
			}
			if !dropped {
				break // a cursor holds it: keep it until the cursor passes
			}
			if err := s.compactDropped(parts[0], day); err != nil {
				return err
			}
		}
		// Profiles by age, also those of hours without events (profiles.go).
		if err := s.dropProfilesBefore(partitionOf(cutoff), "age"); err != nil {
			return err
		}
	}
	if err := s.retainFreeSpace(); err != nil {
		return err
	}
	usage, live := s.updateDiskMetrics()
	budget := s.maxDisk.Load()
	if budget <= 0 {
		return nil
	}
	if live > budget && s.journal.size() > 0 {
		// The journal's records are in the memtables too: a checkpoint gives their space back before
		// anything is deleted for it.
		if err := s.checkpoint(retentionFlushTimeout); err == nil {
			usage, live = s.updateDiskMetrics()
		}
	}
	if live <= budget {
		s.full.Store(nil)
		return nil
	}
	// Free down to the low-water mark. Files a compaction made obsolete leave the disk a little later, so
	// the measure is what remains without them (live), taken again after each partition.
	target := int64(float64(budget) * diskLowWater)
	for live > target {
		parts := s.parts.snapshot()
		if len(parts) < 2 {
			if live > budget {
				s.setFull(fmt.Errorf("%w: %d bytes on disk, budget %d, and the current hour's events alone exceed it", ErrDiskBudget, usage, budget))
			} else {
				s.full.Store(nil)
			}
			return nil
		}
		dropped, day, err := s.dropPartition(parts[0], "disk")
		if err != nil {
			return err
		}
		if !dropped {
			if live > budget {
				name, pos, _ := s.cursors.min()
				s.setFull(fmt.Errorf("%w: %d bytes on disk, budget %d; cursor %q (at event %d) has not read the oldest events (%d-%d)",
					ErrDiskBudget, usage, budget, name, pos, parts[0].FirstSeq, parts[0].LastSeq))
			} else {
				s.full.Store(nil)
			}
			return nil
		}
		if err := s.compactDropped(parts[0], day); err != nil {
			return err
		}
		// The profiles stored up to the end of that hour go with its events (profiles.go).
		if err := s.dropProfilesBefore(parts[0].P+1, "disk"); err != nil {
			return err
		}
		usage, live = s.updateDiskMetrics()
	}
	s.full.Store(nil)
	return nil
}

// retainFreeSpace deletes the oldest partitions while the filesystem has less than twice the free-space
// floor free (and, while the disk reserve is out, room for it too), so that retention gets ahead of a
// full disk instead of intake being refused at the floor: a store keeps its newest hours when the disk
// runs short, whoever filled it. The space a deletion gives back reaches the filesystem some time after
// the compaction (Pebble deletes the obsolete files in the background), so the partitions are counted
// by their event bytes against what is missing, from one measure, rather than measured again after
// each. As by the budget, the current hour and the hours a cursor has not passed are kept.
func (s *Store) retainFreeSpace() error {
	want := 2 * s.floor
	if s.reserveGone.Load() != nil {
		want += s.reserveSize
	}
	if want <= 0 {
		return nil
	}
	du, err := s.cfg.diskUsage(s.cfg.Dir)
	if err != nil {
		return nil // the floor's measure says why
	}
	missing := want - int64(du.AvailBytes)
	if missing <= 0 {
		return nil
	}
	s.log.Warn("store retention deletes the oldest hours: the disk is short of free space",
		zap.String("free", mib(int64(du.AvailBytes))), zap.String("want", mib(want)))
	for missing > 0 {
		parts := s.parts.snapshot()
		if len(parts) < 2 {
			return nil
		}
		dropped, day, err := s.dropPartition(parts[0], "free_space")
		if err != nil || !dropped {
			return err
		}
		if err := s.compactDropped(parts[0], day); err != nil {
			return err
		}
		if err := s.dropProfilesBefore(parts[0].P+1, "free_space"); err != nil {
			return err
		}
		missing -= int64(parts[0].Bytes)
	}
	return nil
}

// partitionRanges returns the key ranges of a partition's events and indexes (and, with day, of its
// day's trace index): what dropPartition deletes and compactDropped compacts.
func partitionRanges(p partition, day bool) [][2][]byte {
	var lo, hi [9]byte
	ranges := [][2][]byte{{eventKey(lo[:0], p.FirstSeq), eventKey(hi[:0], p.LastSeq+1)}}
	for _, ks := range []byte{ksTxTime, ksTxDur, ksError, ksNames, ksAgg} {
		ranges = append(ranges, [2][]byte{partKey(nil, ks, p.P), partKey(nil, ks, p.P+1)})
	}
	if day {
		d := p.P / partitionsPerDay
		ranges = append(ranges, [2][]byte{partKey(nil, ksTrace, d), partKey(nil, ksTrace, d+1)})
	}
	return ranges
}

func (s *Store) setFull(err error) {
	if s.full.Load() == nil {
		s.log.Warn("store refuses events: disk budget reached", zap.Error(err))
	}
	s.full.Store(&err)
}

// updateDiskMetrics measures the store's disk usage, publishes it and returns it, and also what will
// remain once the files that compactions made obsolete are deleted (live), which is what MaxDisk bounds.
func (s *Store) updateDiskMetrics() (usage, live int64) {
	m := s.db.Metrics()
	usage = int64(m.DiskSpaceUsage())
	if s.journal != nil {
		usage += s.journal.size()
	}
	// Obsolete and zombie files are about to be deleted, and a running compaction's output replaces its
	// inputs: neither is counted against the budget.
	pending := m.Table.Local.ObsoleteSize + m.Table.Local.ZombieSize + m.BlobFiles.Local.ObsoleteSize +
		m.BlobFiles.Local.ZombieSize + uint64(max(m.Compact.InProgressBytes, 0))
	live = usage - int64(pending)
	s.diskCached.Store(usage)
	s.metrics.diskBytes.Set(float64(usage))
	var events uint64
	for _, p := range s.parts.snapshot() {
		events += p.Events
	}
	s.metrics.retainedEvents.Set(float64(events))
	return usage, live
}

// DiskUsage returns the bytes the store occupied on disk when retention last measured it.
func (s *Store) DiskUsage() int64 { return s.diskCached.Load() }

// dropPartition deletes partition p unless a registered cursor has not passed it (dropped is false
// then), or it is the partition being written. day reports whether p's day of the trace index went
// with it (p was the last partition of its day).
func (s *Store) dropPartition(p partition, reason string) (dropped, day bool, err error) {
	// Hold the cursors' lock so that RegisterCursor cannot start a cursor inside p meanwhile.
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	for _, pos := range s.cursors.m {
		if pos <= p.LastSeq {
			return false, false, nil
		}
	}
	if last, ok := s.parts.last(); !ok || last.P == p.P {
		return false, false, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	lastOfDay := s.lastOfDay(p)
	for _, r := range partitionRanges(p, lastOfDay) {
		if err := b.DeleteRange(r[0], r[1], nil); err != nil {
			return false, false, fmt.Errorf("store: retention: %w", err)
		}
	}
	if err := b.Delete(partKey(nil, ksPartition, p.P), nil); err != nil {
		return false, false, fmt.Errorf("store: retention: %w", err)
	}
	if err := s.commit(b, true); err != nil {
		return false, false, fmt.Errorf("store: retention: delete partition %d: %w", p.P, err)
	}
	s.parts.remove(p.P)
	s.metrics.deleted.WithLabelValues(reason).Add(float64(p.Events))
	s.metrics.deletedParts.WithLabelValues(reason).Inc()
	s.log.Info("store retention deleted a partition", zap.String("reason", reason),
		zap.Time("hour", partitionStart(p.P)), zap.Uint64("events", p.Events))
	return true, lastOfDay, nil
}

// lastOfDay reports whether p is the only live partition of its trace-index day.
func (s *Store) lastOfDay(p partition) bool {
	for _, q := range s.parts.snapshot() {
		if q.P != p.P && q.P/partitionsPerDay == p.P/partitionsPerDay {
			return false
		}
	}
	return true
}

// compactDropped compacts the ranges of a deleted partition (and of its trace-index day, when that went
// too) so that their space is given back now.
func (s *Store) compactDropped(p partition, day bool) error {
	for _, r := range partitionRanges(p, day) {
		if err := s.db.Compact(s.stopCtx, r[0], r[1], false); err != nil {
			return fmt.Errorf("store: retention: compact: %w", err)
		}
	}
	return nil
}
