package pebble

import (
	"errors"
	"fmt"

	"encoding/binary"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// A cursor may carry state: what its consumer derived from the events before the cursor and has not
// passed on yet (the Elasticsearch exporter's open aggregation buckets and the documents of a harvest
// not yet confirmed). CommitCursorState saves the position and the state in one synced write, so after
// a crash the consumer finds a position and the state that goes with it, never one without the other.

// ksCursorState is the keyspace of cursor states: s name -> state.
const ksCursorState = 's'

func cursorStateKey(name string) []byte { return append([]byte{ksCursorState}, name...) }

// CommitCursorState durably (fsync) moves the named cursor to pos and saves state with it, atomically.
// The cursor must be registered; pos follows CommitCursor's rules.
func (s *Store) CommitCursorState(name string, pos uint64, state []byte) error {
	return s.commitCursor(name, pos, func() error {
		b := s.db.NewBatch()
		err := errors.Join(
			b.Set(cursorKey(name), binary.BigEndian.AppendUint64(nil, pos), nil),
			b.Set(cursorStateKey(name), state, nil))
		if err == nil {
			err = s.commit(b, true)
		}
		_ = b.Close()
		if err != nil {
			return fmt.Errorf("store: commit cursor %q with state: %w", name, err)
		}
		return nil
	})
}

// CursorState returns the state last saved with the named cursor (nil when none was).
func (s *Store) CursorState(name string) ([]byte, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	v, closer, err := s.db.Get(cursorStateKey(name))
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: cursor %q state: %w", name, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}
