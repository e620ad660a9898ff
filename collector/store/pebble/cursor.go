package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// Named durable cursors let a consumer of the event log (the Elasticsearch exporter) resume where it
// stopped. A cursor's position is the sequence number of the next event to read: everything before it
// is done. While a cursor is registered, retention deletes no event at or after its position (see
// Config.MaxDisk for what happens when that blocks the disk budget).

// ErrUnknownCursor is returned by CommitCursor for a name that RegisterCursor did not create.
var ErrUnknownCursor = errors.New("store: unknown cursor")

type cursors struct {
	mu sync.Mutex
	m  map[string]uint64 // guarded by mu
}

func cursorKey(name string) []byte { return append([]byte{ksCursor}, name...) }

func (c *cursors) load(db *pebbledb.DB) error {
	c.m = map[string]uint64{}
	it, err := db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{ksCursor}, UpperBound: []byte{ksCursor + 1}})
	if err != nil {
		return fmt.Errorf("store: load cursors: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		if len(it.Value()) != 8 {
			_ = it.Close()
			return fmt.Errorf("store: cursor %q: value of %d bytes", it.Key()[1:], len(it.Value()))
		}
		c.m[string(it.Key()[1:])] = binary.BigEndian.Uint64(it.Value())
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: load cursors: %w", err)
	}
	return nil
}

// min returns the smallest position and its cursor's name; ok is false when there is no cursor.
func (c *cursors) min() (name string, pos uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n, p := range c.m {
		if !ok || p < pos {
			name, pos, ok = n, p, true
		}
	}
	return name, pos, ok
}

// RegisterCursor creates the named cursor at the oldest stored event, so its consumer reads everything
// the store holds, and returns its position; for an existing cursor it returns the saved position.
func (s *Store) RegisterCursor(name string) (uint64, error) {
	if err := s.acquire(); err != nil {
		return 0, err
	}
	defer s.release()
	if name == "" {
		return 0, errors.New("store: register cursor: empty name")
	}
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	if pos, ok := s.cursors.m[name]; ok {
		return pos, nil
	}
	pos := s.OldestSeq()
	if err := s.set(cursorKey(name), binary.BigEndian.AppendUint64(nil, pos)); err != nil {
		return 0, fmt.Errorf("store: register cursor %q: %w", name, err)
	}
	s.cursors.m[name] = pos
	return pos, nil
}

// Cursor returns the position of the named cursor; ok is false when it is not registered.
func (s *Store) Cursor(name string) (pos uint64, ok bool) {
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	pos, ok = s.cursors.m[name]
	return pos, ok
}

// lockCursorCommit checks a commit of the named cursor to pos (registered, not past LastSeq()+1) and
// returns with s.cursors.mu held; on an error it is not held.
func (s *Store) lockCursorCommit(name string, pos uint64) error {
	if last := s.LastSeq(); pos > last+1 {
		return fmt.Errorf("store: commit cursor %q to %d: past the last event (%d)", name, pos, last)
	}
	s.cursors.mu.Lock()
	if _, ok := s.cursors.m[name]; !ok {
		s.cursors.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownCursor, name)
	}
	return nil
}

// CommitCursor durably (fsync) moves the named cursor to pos, the sequence number of the next event its
// consumer will read. It may move backwards (to read again), but not past LastSeq()+1.
func (s *Store) CommitCursor(name string, pos uint64) error {
	return s.commitCursor(name, pos, func() error {
		if err := s.set(cursorKey(name), binary.BigEndian.AppendUint64(nil, pos)); err != nil {
			return fmt.Errorf("store: commit cursor %q: %w", name, err)
		}
		return nil
	})
}

// commitCursor moves the named cursor to pos once write has stored it durably, under the lock of the
// cursors' commits (lockCursorCommit's checks first), and lets retention run if the cursor may have
// released the oldest partition.
func (s *Store) commitCursor(name string, pos uint64, write func() error) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	if err := s.lockCursorCommit(name, pos); err != nil {
		return err
	}
	err := write()
	if err == nil {
		s.cursors.m[name] = pos
	}
	s.cursors.mu.Unlock()
	if err != nil {
		return err
	}
	if s.full.Load() != nil {
		s.kickRetention()
	}
	return nil
}

// DeleteCursor unregisters the named cursor: retention no longer waits for it.
func (s *Store) DeleteCursor(name string) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	err := errors.Join(b.Delete(cursorStateKey(name), nil), b.Delete(cursorKey(name), nil))
	if err == nil {
		err = s.commit(b, true)
	}
	if err != nil {
		return fmt.Errorf("store: delete cursor %q: %w", name, err)
	}
	delete(s.cursors.m, name)
	s.kickRetention()
	return nil
}

// set durably (fsync) sets key to value, through commit.
func (s *Store) set(key, value []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(key, value, nil); err != nil {
		return err
	}
	return s.commit(b, true)
}
