package pebble

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The journal is the store's write-ahead log. Pebble runs without its own (Options.DisableWAL): what
// must survive a crash is written to the journal and fsynced before a caller is answered, in one of two
// kinds of record:
//
//   - a group commit's events, as the stored chunks its pending writes hold (recGroup), with the
//     partition and first sequence number the writer gave them. The rest of what the group writes to
//     Pebble (the index entries, aggregates, query shapes, failover series and partition meta) is
//     derived from those events, so it is not logged: after a crash, Open derives it again from the
//     record (replay). Pebble's WAL took it all, and the index keys and the ~30 KB of aggregate values
//     each group rewrites were more than half of the bytes it wrote per event;
//   - any other commit (cursors, profiles, retention's deletions, the sequence number kept after a
//     reopen) as its Pebble batch (recBatch).
//
// Every commit sets the meta key journalKey, in the same Pebble batch, to the journal position just
// after its record. Pebble writes its memtables to tables whole and in order, so the database's
// durable state holds exactly the records up to the position that key has in it; Open replays the
// records after it, in order, flushes, and starts a new segment. A checkpoint, once the segments pass
// Config.MemTableBytes, starts a new segment, flushes Pebble's memtables (every record before the new
// segment is then in tables) and deletes the segments before it. Close does the same, so a store
// closed cleanly replays nothing.
//
// Segments are files <Dir>/journal/<position of their first byte, 20 digits>.log (".log": the store's
// health checks and fault tests watch them as they watched Pebble's WAL). A record:
//
//	crc32c(the rest) uint32le | payload length uint32le | kind byte | payload
//
// Replay stops reading a segment at its first record that is cut short or fails its checksum (a crash
// during its write). No acknowledged record can follow one: a failed write stops the store's writes
// until its database is reopened, and every open starts a new segment.
//
// A version of hotpath from before the journal ignores it: after a crash, it would not see the events
// the journal held. After a clean Close, nothing is left in the journal.

// journalDir is the journal's directory, below Config.Dir.
const journalDir = "journal"

// The kinds of record.
const (
	recGroup byte = 1 // a group commit's events: appendGroupRecord
	recBatch byte = 2 // a Pebble batch's representation
)

const (
	recHeader = 9 // crc, length, kind
	// maxRecord bounds a record's payload: reading a segment refuses a length above it. A group commit
	// holds at most Config.MaxCommitBytes, or one pending write of any size when the queue is empty
	// (bounded by the intake's request limits), and a profile's batch a few MiB.
	maxRecord = 1 << 30
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// journalKey is the meta key holding the journal position after the last record the database holds.
var journalKey = metaKey("journal")

// beginRecord appends a record's header, to be completed by endRecord once the payload is appended.
func beginRecord(dst []byte) []byte { return append(dst, make([]byte, recHeader)...) }

// endRecord completes the record that begins at rec[start:], whose payload ends rec.
func endRecord(rec []byte, start int, kind byte) {
	h := rec[start:]
	binary.LittleEndian.PutUint32(h[4:], uint32(len(h)-recHeader))
	h[8] = kind
	binary.LittleEndian.PutUint32(h[0:], crc32.Checksum(h[4:], crcTable))
}

// errTornRecord ends a segment's valid records.
var errTornRecord = errors.New("record cut short or corrupt")

// nextRecord reads the record at the start of b: its kind, payload and length. It returns
// errTornRecord (wrapped) if b does not start with a whole record whose checksum matches.
func nextRecord(b []byte) (kind byte, payload []byte, n int, err error) {
	if len(b) < recHeader {
		return 0, nil, 0, fmt.Errorf("%w: %d bytes of a header", errTornRecord, len(b))
	}
	size := binary.LittleEndian.Uint32(b[4:])
	if size > maxRecord || int(size) > len(b)-recHeader {
		return 0, nil, 0, fmt.Errorf("%w: a payload of %d bytes, %d left", errTornRecord, size, len(b)-recHeader)
	}
	n = recHeader + int(size)
	if crc32.Checksum(b[4:n], crcTable) != binary.LittleEndian.Uint32(b) {
		return 0, nil, 0, fmt.Errorf("%w: checksum", errTornRecord)
	}
	return b[8], b[recHeader:n], n, nil
}

// appendGroupRecord appends the record of a group commit: its partition, its first sequence number,
// and the stored chunks of each of its pending writes.
//
//	uvarint(partition) uvarint(first seq) uvarint(writes) writes × (uvarint(chunks) chunks × (uvarint(length) chunk))
func appendGroupRecord(dst []byte, p uint32, firstSeq uint64, reqs []*pendingWrite) []byte {
	start := len(dst)
	dst = beginRecord(dst)
	dst = binary.AppendUvarint(dst, uint64(p))
	dst = binary.AppendUvarint(dst, firstSeq)
	dst = binary.AppendUvarint(dst, uint64(len(reqs)))
	for _, r := range reqs {
		dst = binary.AppendUvarint(dst, uint64(len(r.chunks)))
		for _, c := range r.chunks {
			v := r.chunk[c.value.off:c.value.end]
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		}
	}
	endRecord(dst, start, recGroup)
	return dst
}

// groupRecord is a decoded recGroup payload: chunks[i] are the stored chunks of the group's i-th
// pending write.
type groupRecord struct {
	part     uint32
	firstSeq uint64
	chunks   [][][]byte
}

var errGroupRecord = errors.New("malformed group record")

// decodeGroupRecord decodes a recGroup payload. The chunks alias payload.
func decodeGroupRecord(payload []byte) (groupRecord, error) {
	var g groupRecord
	b := payload
	next := func(what string) (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, fmt.Errorf("store: journal: %w (%s)", errGroupRecord, what)
		}
		b = b[n:]
		return v, nil
	}
	p, err := next("partition")
	if err != nil {
		return g, err
	}
	if p > 1<<32-1 {
		return g, fmt.Errorf("store: journal: %w (partition %d)", errGroupRecord, p)
	}
	g.part = uint32(p)
	if g.firstSeq, err = next("first sequence number"); err != nil {
		return g, err
	}
	writes, err := next("writes")
	if err != nil {
		return g, err
	}
	if writes > uint64(len(b)) { // each write takes a byte at least
		return g, fmt.Errorf("store: journal: %w (%d writes in %d bytes)", errGroupRecord, writes, len(b))
	}
	g.chunks = make([][][]byte, writes)
	for i := range g.chunks {
		n, err := next("chunks")
		if err != nil {
			return g, err
		}
		if n > uint64(len(b)) {
			return g, fmt.Errorf("store: journal: %w (%d chunks in %d bytes)", errGroupRecord, n, len(b))
		}
		g.chunks[i] = make([][]byte, n)
		for j := range g.chunks[i] {
			l, err := next("chunk length")
			if err != nil {
				return g, err
			}
			if l > uint64(len(b)) {
				return g, fmt.Errorf("store: journal: %w (a chunk of %d bytes, %d left)", errGroupRecord, l, len(b))
			}
			g.chunks[i][j], b = b[:l:l], b[l:]
		}
	}
	if len(b) != 0 {
		return g, fmt.Errorf("store: journal: %w (%d bytes after the last chunk)", errGroupRecord, len(b))
	}
	return g, nil
}

// A journalSegment is one file of the journal.
type journalSegment struct {
	base uint64   // the journal position of the file's first byte
	f    vfs.File // nil for a segment found at open, until replay has read it
	end  uint64   // the position after its last byte written
}

func segmentName(base uint64) string { return fmt.Sprintf("%020d.log", base) }

// journal appends records to the current segment and fsyncs them. Appends are serialized by the
// store's commitMu; syncTo may run concurrently with them.
type journal struct {
	fs  vfs.FS
	dir string

	mu     sync.Mutex // guards cur, sealed and failed
	cur    *journalSegment
	sealed []*journalSegment // older segments, until a checkpoint deletes them
	failed error             // set by a failed write: later appends fail too

	syncMu  sync.Mutex    // one fsync at a time; held while segments are closed
	synced  atomic.Uint64 // every record ending at or before this position is durable
	written atomic.Int64  // bytes in the segments
}

// openJournal opens the journal in dir, creating the directory if needed, and lists its segments
// (oldest first) for replay. It starts no segment: start does, after replay.
func openJournal(fs vfs.FS, dir string) (*journal, []*journalSegment, error) {
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("store: journal: %w", err)
	}
	// The directory's own entry must survive a crash too, before a record in it is acknowledged.
	if err := syncDir(fs, fs.PathDir(dir)); err != nil {
		return nil, nil, err
	}
	names, err := fs.List(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("store: journal: %w", err)
	}
	var segs []*journalSegment
	for _, name := range names {
		digits, ok := strings.CutSuffix(name, ".log")
		if !ok || len(digits) != 20 {
			continue
		}
		base, err := strconv.ParseUint(digits, 10, 64)
		if err != nil {
			continue
		}
		st, err := fs.Stat(fs.PathJoin(dir, name))
		if err != nil {
			return nil, nil, fmt.Errorf("store: journal: %w", err)
		}
		segs = append(segs, &journalSegment{base: base, end: base + uint64(st.Size())})
	}
	slices.SortFunc(segs, func(a, b *journalSegment) int { return cmp.Compare(a.base, b.base) })
	return &journal{fs: fs, dir: dir}, segs, nil
}

// read returns the content of segment seg, found at open.
func (j *journal) read(seg *journalSegment) ([]byte, error) {
	f, err := j.fs.Open(j.fs.PathJoin(j.dir, segmentName(seg.base)))
	if err != nil {
		return nil, fmt.Errorf("store: journal: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("store: journal: read %s: %w", segmentName(seg.base), err)
	}
	return b, nil
}

// remove deletes the segments found at open, once the database holds all their records.
func (j *journal) remove(segs []*journalSegment) error {
	for _, seg := range segs {
		if err := j.fs.Remove(j.fs.PathJoin(j.dir, segmentName(seg.base))); err != nil {
			return fmt.Errorf("store: journal: %w", err)
		}
	}
	return nil
}

// start creates the segment that appends go to, at position base.
func (j *journal) start(base uint64) error {
	seg, err := j.create(base)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.cur = seg
	j.mu.Unlock()
	j.synced.Store(base)
	return nil
}

func (j *journal) create(base uint64) (*journalSegment, error) {
	f, err := j.fs.Create(j.fs.PathJoin(j.dir, segmentName(base)), vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, fmt.Errorf("store: journal: %w", err)
	}
	// The new file's name must survive a crash before a record in it is acknowledged.
	if err := syncDir(j.fs, j.dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &journalSegment{base: base, f: f, end: base}, nil
}

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("store: journal: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: journal: sync %s: %w", dir, err)
	}
	return nil
}

// append writes rec (whole records) to the current segment and returns the position after it. It does
// not fsync: syncTo does. The caller holds commitMu. After a failed write every append fails: a
// segment's records after a torn one would not be replayed.
func (j *journal) append(rec []byte) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed != nil {
		return 0, j.failed
	}
	if _, err := j.cur.f.Write(rec); err != nil {
		j.failed = fmt.Errorf("store: journal: write %s: %w", segmentName(j.cur.base), err)
		return 0, j.failed
	}
	j.cur.end += uint64(len(rec))
	j.written.Add(int64(len(rec)))
	return j.cur.end, nil
}

// syncTo returns once every record ending at or before end is durable: it fsyncs the segments that
// hold unsynced records, or returns at once if an fsync already covered end.
func (j *journal) syncTo(end uint64) error {
	if j.synced.Load() >= end {
		return nil
	}
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced.Load() >= end {
		return nil
	}
	synced := j.synced.Load()
	j.mu.Lock()
	files := make([]*journalSegment, 0, 2)
	for _, seg := range j.sealed {
		if seg.end > synced {
			files = append(files, seg)
		}
	}
	files = append(files, j.cur)
	upTo := j.cur.end
	j.mu.Unlock()
	for _, seg := range files {
		if err := seg.f.Sync(); err != nil {
			err = fmt.Errorf("store: journal: sync %s: %w", segmentName(seg.base), err)
			j.mu.Lock()
			if j.failed == nil {
				j.failed = err
			}
			j.mu.Unlock()
			return err
		}
	}
	j.synced.Store(upTo)
	return nil
}

// rotate starts a new segment and returns its position: every record before it is in an older one.
// The caller holds commitMu, so that every record before the position has been applied to the
// database as well.
func (j *journal) rotate() (uint64, error) {
	j.mu.Lock()
	base, empty, failed := j.cur.end, j.cur.end == j.cur.base, j.failed
	j.mu.Unlock()
	if failed != nil {
		return 0, failed
	}
	if empty {
		return base, nil // a segment of that name is the current one
	}
	seg, err := j.create(base)
	if err != nil {
		return 0, err
	}
	j.mu.Lock()
	j.sealed = append(j.sealed, j.cur)
	j.cur = seg
	j.mu.Unlock()
	return base, nil
}

// dropBefore closes and deletes the sealed segments before position base, once the database holds
// their records in its tables.
func (j *journal) dropBefore(base uint64) error {
	j.syncMu.Lock() // no fsync of them is running
	defer j.syncMu.Unlock()
	j.mu.Lock()
	var drop []*journalSegment
	keep := j.sealed[:0]
	for _, seg := range j.sealed {
		if seg.end <= base {
			drop = append(drop, seg)
		} else {
			keep = append(keep, seg)
		}
	}
	clear(j.sealed[len(keep):])
	j.sealed = keep
	j.mu.Unlock()
	var errs []error
	for _, seg := range drop {
		errs = append(errs, seg.f.Close(), j.fs.Remove(j.fs.PathJoin(j.dir, segmentName(seg.base))))
		j.written.Add(-int64(seg.end - seg.base))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: journal: %w", err)
	}
	return nil
}

// size is the bytes in the journal's segments.
func (j *journal) size() int64 { return j.written.Load() }

// close closes the segments' files, leaving them for the next open to replay. With clean set (the
// database has flushed every record), it deletes them.
func (j *journal) close(clean bool) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	for _, seg := range append(j.sealed, j.cur) {
		if seg == nil || seg.f == nil {
			continue
		}
		errs = append(errs, seg.f.Close())
		if clean {
			errs = append(errs, j.fs.Remove(j.fs.PathJoin(j.dir, segmentName(seg.base))))
		}
	}
	j.sealed, j.cur = nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: journal: %w", err)
	}
	return nil
}
