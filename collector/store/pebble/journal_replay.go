package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// The store's side of the journal (journal.go): recovery at open, the commits that go through it, and
// checkpoints.

// recoverState loads the partitions and sequence number from the database just opened, replays the
// journal records the database does not hold yet, and starts the journal's new segment.
func (s *Store) recoverState() error {
	s.seq, s.part, s.partOK = 0, partition{}, false // as the database has them, not as a failed commit left them
	s.parts.mu.Lock()
	s.parts.list = nil
	s.parts.mu.Unlock()
	if err := s.loadLog(); err != nil {
		return err
	}
	replayed, err := s.recoverJournal()
	if err != nil {
		return err
	}
	if replayed == 0 {
		return nil
	}
	s.parts.mu.Lock()
	s.parts.list = nil
	s.parts.mu.Unlock()
	return s.loadLog()
}

// recoverJournal replays the records after the database's journal position, in order, flushes them to
// tables, deletes the segments and starts a new one. It returns the number of records replayed.
func (s *Store) recoverJournal() (int, error) {
	fs := s.dbFS()
	j, segs, err := openJournal(fs, fs.PathJoin(s.cfg.Dir, journalDir))
	if err != nil {
		return 0, err
	}
	held, err := s.journalPosition()
	if err != nil {
		return 0, err
	}
	// The writer's caches must describe the database as it is now: they may hold what a failed
	// commit added before the reopen.
	clear(s.names)
	s.namesPart = 0
	s.agg.cache.reset()
	next, replayed := held, 0
	for _, seg := range segs {
		next = max(next, seg.end)
		if seg.end <= held {
			continue
		}
		data, err := j.read(seg)
		if err != nil {
			return 0, err
		}
		for off := 0; off < len(data); {
			kind, payload, n, err := nextRecord(data[off:])
			if err != nil {
				// A crash during the record's write; nothing acknowledged follows it (journal.go).
				s.log.Warn("store: the journal's segment ends with a record cut short by a crash",
					zap.String("segment", segmentName(seg.base)), zap.Int("offset", off), zap.Error(err))
				break
			}
			pos := seg.base + uint64(off)
			off += n
			if pos < held {
				continue // the database holds it
			}
			if err := s.replay(kind, payload, pos+uint64(n)); err != nil {
				return 0, fmt.Errorf("store: replay the journal's record at %d (%s): %w", pos, segmentName(seg.base), err)
			}
			replayed++
		}
	}
	s.metrics.replayed.Add(float64(replayed))
	if replayed > 0 {
		if err := s.db.Flush(); err != nil {
			return 0, fmt.Errorf("store: flush the replayed journal: %w", err)
		}
		s.log.Info("store: replayed its journal", zap.Int("records", replayed), zap.Uint64("last_seq", s.seq))
	}
	if err := j.remove(segs); err != nil {
		return 0, err
	}
	if err := j.start(next); err != nil {
		return 0, err
	}
	s.journal = j
	return replayed, nil
}

// journalPosition reads the journal position the database holds the records up to.
func (s *Store) journalPosition() (uint64, error) {
	v, closer, err := s.db.Get(journalKey)
	if errors.Is(err, pebbledb.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read the journal position: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("store: the journal position has %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// replay applies one journal record ending at position end to the database.
func (s *Store) replay(kind byte, payload []byte, end uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	switch kind {
	case recBatch:
		if err := b.SetRepr(slices.Clone(payload)); err != nil {
			return err
		}
	case recGroup:
		if err := s.replayGroup(b, payload); err != nil {
			return err
		}
	default:
		return fmt.Errorf("a record of unknown kind %d", kind)
	}
	if err := setJournalPosition(b, end); err != nil {
		return err
	}
	return s.db.Apply(b, pebbledb.NoSync)
}

// replayGroup writes into b what the writer wrote for the group commit of payload: the events are
// decoded from their chunks and prepared again, and the group built under its partition and
// sequence numbers.
func (s *Store) replayGroup(b *pebbledb.Batch, payload []byte) error {
	rec, err := decodeGroupRecord(payload)
	if err != nil {
		return err
	}
	if rec.firstSeq <= s.seq {
		return fmt.Errorf("its first sequence number %d is not after the database's %d", rec.firstSeq, s.seq)
	}
	g := &group{}
	for _, chunks := range rec.chunks {
		var events collector.Batch
		for _, c := range chunks {
			if _, err := eachInChunk(c, 0, 0, math.MaxUint64, func(_ uint64, body []byte) error {
				events = append(events, collector.Event{})
				return decodeEvent(body, &events[len(events)-1])
			}); err != nil {
				return err
			}
		}
		r := &pendingWrite{memo: &s.shapes}
		r.prepare(events)
		g.reqs = append(g.reqs, r)
	}
	s.seq = rec.firstSeq - 1 // numbers a reopen kept used (health.go) are skipped as they were
	if err := s.build(g, b, rec.part); err != nil {
		return err
	}
	s.seq, s.part, s.partOK = g.seq, g.part, true
	return nil
}

func setJournalPosition(b *pebbledb.Batch, end uint64) error {
	if err := b.Set(journalKey, binary.BigEndian.AppendUint64(nil, end), nil); err != nil {
		return fmt.Errorf("store: write batch: %w", err)
	}
	return nil
}

// journalApply writes b to the journal and applies it to the database, and returns the journal
// position to sync to. The caller holds commitMu.
func (s *Store) journalApply(b *pebbledb.Batch) (uint64, error) {
	s.jbatch = beginRecord(s.jbatch[:0])
	s.jbatch = append(s.jbatch, b.Repr()...)
	endRecord(s.jbatch, 0, recBatch)
	end, err := s.journal.append(s.jbatch)
	if cap(s.jbatch) > 1<<20 {
		s.jbatch = nil // a profile's parts: do not keep megabytes for the next cursor
	}
	if err != nil {
		return 0, err
	}
	if err := setJournalPosition(b, end); err != nil {
		return 0, err
	}
	return end, s.db.Apply(b, pebbledb.NoSync)
}

// kickCheckpoint wakes the checkpoint loop once the journal has grown past Config.MemTableBytes.
func (s *Store) kickCheckpoint() {
	if s.journal.size() < int64(s.cfg.MemTableBytes) {
		return
	}
	select {
	case s.checkpointKick <- struct{}{}:
	default:
	}
}

// checkpointLoop runs checkpoints when kicked, until the store closes.
func (s *Store) checkpointLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case <-s.checkpointKick:
		}
		if err := s.acquire(); err != nil {
			continue // closing, or reopening (which starts the journal afresh)
		}
		if err := s.checkpoint(0); err != nil && s.stopCtx.Err() == nil {
			s.log.Warn("store: journal checkpoint", zap.Error(err))
		}
		s.release()
	}
}

// checkpoint starts a new journal segment, flushes the database's memtables and deletes the segments
// whose records are now in its tables. It gives up waiting for the flush after timeout (0: never), and
// when the store closes: a flush does not finish while the disk is full (Pebble retries it).
func (s *Store) checkpoint(timeout time.Duration) error {
	s.checkpointMu.Lock()
	defer s.checkpointMu.Unlock()
	s.commitMu.Lock()
	if err := s.writeErr.Load(); err != nil {
		s.commitMu.Unlock()
		return *err
	}
	base, err := s.journal.rotate()
	s.commitMu.Unlock()
	if err != nil {
		return err
	}
	if err := flush(s.db, s.stop, timeout); err != nil {
		return err
	}
	s.metrics.checkpoints.Inc()
	return s.journal.dropBefore(base)
}

// flush flushes db's memtables and waits until they are in tables, stop is closed, or timeout has
// passed (0: no timeout).
func flush(db *pebbledb.DB, stop <-chan struct{}, timeout time.Duration) error {
	done, err := db.AsyncFlush()
	if err != nil {
		return fmt.Errorf("store: flush: %w", err)
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-done:
		return nil
	case <-stop:
		return fmt.Errorf("store: flush: %w", collector.ErrShuttingDown)
	case <-expired:
		return fmt.Errorf("store: flush: not done after %v (is the disk full?)", timeout)
	}
}
