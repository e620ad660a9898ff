package pebble

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"time"
)

// partition describes the events of one ingest hour: their sequence numbers are FirstSeq..LastSeq, their
// own timestamps lie within MinTS..MaxTS (Unix nanoseconds, saturated). Queries by event time visit
// only the partitions whose MinTS..MaxTS overlaps the range, so an agent with a skewed clock costs a
// lookup, not a wrong answer.
type partition struct {
	P        uint32
	FirstSeq uint64
	LastSeq  uint64
	MinTS    int64
	MaxTS    int64
	Events   uint64
	Bytes    uint64 // encoded event bytes
}

const partitionMetaSize = 4 + 8*6

func (p *partition) marshal(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, p.P)
	for _, u := range [...]uint64{p.FirstSeq, p.LastSeq, uint64(p.MinTS), uint64(p.MaxTS), p.Events, p.Bytes} {
		b = binary.BigEndian.AppendUint64(b, u)
	}
	return b
}

func (p *partition) unmarshal(b []byte) error {
	if len(b) != partitionMetaSize {
		return fmt.Errorf("store: partition meta of %d bytes, want %d", len(b), partitionMetaSize)
	}
	p.P = binary.BigEndian.Uint32(b)
	u := func(i int) uint64 { return binary.BigEndian.Uint64(b[4+8*i:]) }
	p.FirstSeq, p.LastSeq, p.MinTS, p.MaxTS, p.Events, p.Bytes = u(0), u(1), int64(u(2)), int64(u(3)), u(4), u(5)
	return nil
}

// overlaps reports whether events with timestamps in [from, to) may be in p; a zero bound is open.
func (p *partition) overlaps(from, to time.Time) bool {
	if p.Events == 0 {
		return false
	}
	if !from.IsZero() && p.MaxTS < int64(timeKey(from)^1<<63) {
		return false
	}
	return to.IsZero() || p.MinTS < int64(timeKey(to)^1<<63)
}

// partitions is the in-memory list of live partitions, oldest first. The writer appends and updates the
// newest; retention removes the oldest; readers take snapshots.
type partitions struct {
	mu   sync.RWMutex
	list []partition // guarded by mu
}

func (ps *partitions) snapshot() []partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return append([]partition(nil), ps.list...)
}

func (ps *partitions) last() (partition, bool) {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if len(ps.list) == 0 {
		return partition{}, false
	}
	return ps.list[len(ps.list)-1], true
}

// put replaces the partition with p's number or appends p.
func (ps *partitions) put(p partition) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if n := len(ps.list); n > 0 && ps.list[n-1].P == p.P {
		ps.list[n-1] = p
		return
	}
	ps.list = append(ps.list, p)
	sort.Slice(ps.list, func(i, j int) bool { return ps.list[i].P < ps.list[j].P })
}

func (ps *partitions) remove(p uint32) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i := range ps.list {
		if ps.list[i].P == p {
			ps.list = append(ps.list[:i], ps.list[i+1:]...)
			return
		}
	}
}

// select returns the partitions that may hold events with timestamps in [from, to), newest first.
func selectPartitions(list []partition, from, to time.Time) []partition {
	var out []partition
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].overlaps(from, to) {
			out = append(out, list[i])
		}
	}
	return out
}
