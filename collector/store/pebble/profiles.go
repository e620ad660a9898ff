package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
)

// Profiles (collector.Profile, the uploads to /intake/v2/profile) are kept beside the events, under
// keyspaces of their own. A profile is its record (profile_codec.go) and its parts' data, in chunks of
// profileChunkBytes, both under the ingest hour (the partition) it was stored in, so that retention
// drops them with range deletions, as it drops events; and four index entries, each the profile's
// time and id under a prefix, pointing at its partition:
//
//	f part id                       -> record
//	g part id partindex chunk       -> a chunk of a part's data
//	F id                            -> part (by id)
//	H time id                       -> part (every profile, by time)
//	h service time id               -> part (a service's profiles, by time)
//	i transaction-id time id        -> part (a slow request's captures)
//	j trace-id time id              -> part
//
// id is the profile's 32 hex digits as 16 bytes, time timeKey(Profile.Timestamp), the ids of
// transactions and traces as appendTraceID writes them. Index entries are deleted one by one with their
// record (a profile's record knows its keys); they are few (captures are rate-limited at the source).
const (
	ksProfile        = 'f'
	ksProfileBlob    = 'g'
	ksProfileID      = 'F'
	ksProfileTime    = 'H'
	ksProfileService = 'h'
	ksProfileTx      = 'i'
	ksProfileTrace   = 'j'
)

// profileChunkBytes is the largest value a part's data is stored in: Pebble keeps values whole in its
// blocks and memtables, so a 32 MiB trace is better 32 values than one.
const profileChunkBytes = 1 << 20

// profileBatchBytes bounds one Pebble batch of a profile's chunks: a larger batch would be applied as a
// "large batch" (flushed on its own), and held whole in memory once more.
const profileBatchBytes = 4 << 20

// maxProfileParts bounds a profile's parts: a part's index is one byte of its chunks' keys.
const maxProfileParts = 256

var errProfileID = fmt.Errorf("store: a profile id is 32 lower-case hex digits")

func profileIDBytes(id string) ([16]byte, error) {
	var b [16]byte
	if len(id) != 32 || !isLowerHex(id) {
		return b, errProfileID
	}
	_, _ = hex.Decode(b[:], []byte(id))
	return b, nil
}

func profileRecordKey(part uint32, id [16]byte) []byte {
	return append(partKey(nil, ksProfile, part), id[:]...)
}

func profileBlobPrefix(part uint32, id [16]byte, index int) []byte {
	return append(append(partKey(nil, ksProfileBlob, part), id[:]...), byte(index))
}

func profileIDKey(id [16]byte) []byte { return append([]byte{ksProfileID}, id[:]...) }

// profileIndexPrefix is the prefix of one of the by-time indexes: H (all), h service, i transaction,
// j trace.
func profileIndexPrefix(ks byte, value string) []byte {
	b := []byte{ks}
	switch ks {
	case ksProfileService:
		b = appendEscaped(b, value)
	case ksProfileTx, ksProfileTrace:
		b = appendTraceID(b, value)
	}
	return b
}

func profileIndexKey(prefix []byte, ts time.Time, id [16]byte) []byte {
	b := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), timeKey(ts))
	return append(b, id[:]...)
}

// profileIndexKeys are p's index entries (but the one by id).
func profileIndexKeys(p *collector.Profile, id [16]byte) [][]byte {
	keys := [][]byte{
		profileIndexKey(profileIndexPrefix(ksProfileTime, ""), p.Timestamp, id),
		profileIndexKey(profileIndexPrefix(ksProfileService, p.Metadata.Service.Name), p.Timestamp, id),
	}
	if p.Transaction != nil && p.Transaction.ID != "" {
		keys = append(keys, profileIndexKey(profileIndexPrefix(ksProfileTx, p.Transaction.ID), p.Timestamp, id))
	}
	if p.TraceID != "" {
		keys = append(keys, profileIndexKey(profileIndexPrefix(ksProfileTrace, p.TraceID), p.Timestamp, id))
	}
	return keys
}

// StoreProfile stores p (intake.ProfileSink) and returns once it is durable. Its parts' data are written
// in chunks, in batches of a few MiB, then the record and the index entries in one synced batch: a
// profile is visible, whole, once that batch is committed, and never partly. It returns
// collector.ErrProfileExists when a profile with p's ID is stored, ErrDiskBudget (which is
// collector.ErrQueueFull) when the disk budget refuses events too, an error that Is
// collector.ErrStorageUnavailable when the disk does (health.go), collector.ErrShuttingDown after
// Close, and ctx's error if ctx ends before the record is written. p is not retained.
func (s *Store) StoreProfile(ctx context.Context, p *collector.Profile) error {
	if s.closing.Load() {
		return collector.ErrShuttingDown
	}
	if err := s.full.Load(); err != nil {
		return *err
	}
	if err := s.writableErr(); err != nil {
		return err
	}
	id, err := profileIDBytes(p.ID)
	if err != nil {
		return fmt.Errorf("%w: %q", err, p.ID)
	}
	if len(p.Parts) > maxProfileParts {
		return fmt.Errorf("store: profile %s has more than %d parts", p.ID, maxProfileParts)
	}
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	s.profileMu.Lock()
	defer s.profileMu.Unlock()

	switch _, closer, err := s.db.Get(profileIDKey(id)); {
	case err == nil:
		_ = closer.Close()
		return collector.ErrProfileExists
	case err != pebbledb.ErrNotFound:
		return fmt.Errorf("store: profile %s: %w", p.ID, err)
	}
	part := partitionOf(s.cfg.Now())
	var size int
	for _, pp := range p.Parts {
		size += len(pp.Data)
	}
	// Sized for the data (up to a batch's worth) and the record, so that the batch does not grow by
	// doubling a few times.
	batchSize := func() int { return min(size, profileBatchBytes+profileChunkBytes) + 64<<10 }
	b := s.db.NewBatchWithSize(batchSize())
	defer func() { _ = b.Close() }()
	for i := range p.Parts {
		data := p.Parts[i].Data
		prefix := profileBlobPrefix(part, id, i)
		for c, off := uint32(0), 0; off < len(data); c, off = c+1, off+profileChunkBytes {
			end := min(off+profileChunkBytes, len(data))
			if err := b.Set(binary.BigEndian.AppendUint32(bytes.Clone(prefix), c), data[off:end], nil); err != nil {
				return fmt.Errorf("store: profile %s: %w", p.ID, err)
			}
			if b.Len() >= profileBatchBytes {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := s.commit(b, false); err != nil {
					return fmt.Errorf("store: profile %s: write data: %w", p.ID, err)
				}
				size -= int(b.Len())
				_ = b.Close()
				b = s.db.NewBatchWithSize(batchSize())
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := *p
	rec.Parts = make([]collector.ProfilePart, len(p.Parts))
	for i, pp := range p.Parts {
		rec.Parts[i] = collector.ProfilePart{Kind: pp.Kind, Size: int64(len(pp.Data))}
	}
	partBytes := binary.BigEndian.AppendUint32(nil, part)
	sets := append(profileIndexKeys(&rec, id), profileIDKey(id))
	if err := b.Set(profileRecordKey(part, id), appendProfile(nil, &rec), nil); err != nil {
		return fmt.Errorf("store: profile %s: %w", p.ID, err)
	}
	for _, k := range sets {
		if err := b.Set(k, partBytes, nil); err != nil {
			return fmt.Errorf("store: profile %s: %w", p.ID, err)
		}
	}
	if err := s.commit(b, true); err != nil {
		return fmt.Errorf("store: profile %s: commit: %w", p.ID, err)
	}
	if s.maxDisk.Load() > 0 {
		select {
		case s.retention <- struct{}{}:
		default:
		}
	}
	return nil
}

// Profile returns the profile with the given id, its parts without their data; ok is false when there
// is none.
func (s *Store) Profile(ctx context.Context, id string) (p collector.Profile, ok bool, err error) {
	if err := s.acquire(); err != nil {
		return p, false, err
	}
	defer s.release()
	p, _, _, ok, err = s.storedProfile(id)
	return p, ok, err
}

// storedProfile reads the record of the profile with the given id, and the id's 16 bytes and the
// partition it is stored in (where its parts' data is); ok is false when there is none.
func (s *Store) storedProfile(id string) (p collector.Profile, bid [16]byte, part uint32, ok bool, err error) {
	bid, part, ok, err = s.profilePartition(id)
	if err != nil || !ok {
		return p, bid, part, false, err
	}
	p, ok, err = s.profileRecord(part, bid)
	return p, bid, part, ok, err
}

// profilePartition returns the id's 16 bytes and the partition its profile is stored in, from the
// index by id; ok is false when there is no such profile (or id is not a profile id).
func (s *Store) profilePartition(id string) (bid [16]byte, part uint32, ok bool, err error) {
	bid, err = profileIDBytes(id)
	if err != nil {
		return bid, 0, false, nil
	}
	v, ok, err := s.get(profileIDKey(bid), "profile "+id)
	if err != nil || !ok || len(v) != 4 {
		return bid, 0, false, err
	}
	return bid, binary.BigEndian.Uint32(v), true, nil
}

// get reads one value (copied); ok is false when there is none.
func (s *Store) get(key []byte, what string) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if err == pebbledb.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: %s: %w", what, err)
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

func (s *Store) profileRecord(part uint32, id [16]byte) (collector.Profile, bool, error) {
	var p collector.Profile
	v, ok, err := s.get(profileRecordKey(part, id), "profile")
	if err != nil || !ok {
		return p, false, err // an index entry whose profile retention is deleting
	}
	if err := decodeProfile(v, &p); err != nil {
		return collector.Profile{}, false, err
	}
	return p, true, nil
}

// ProfilePart returns the data of the profile's part of the given kind (a gzipped pprof profile, or
// the gzipped trace); ok is false when there is no such profile or part.
func (s *Store) ProfilePart(ctx context.Context, id, kind string) (data []byte, ok bool, err error) {
	if err := s.acquire(); err != nil {
		return nil, false, err
	}
	defer s.release()
	p, bid, part, ok, err := s.storedProfile(id)
	if err != nil || !ok {
		return nil, false, err
	}
	index := -1
	for i := range p.Parts {
		if p.Parts[i].Kind == kind {
			index = i
			break
		}
	}
	if index < 0 {
		return nil, false, nil
	}
	want := p.Parts[index].Size
	prefix := profileBlobPrefix(part, bid, index)
	it, err := s.db.NewIterWithContext(ctx, &pebbledb.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, false, fmt.Errorf("store: profile %s: %w", id, err)
	}
	defer it.Close()
	data = make([]byte, 0, want)
	for it.First(); it.Valid(); it.Next() {
		if int64(len(data)+len(it.Value())) > want {
			break
		}
		data = append(data, it.Value()...)
	}
	if err := it.Error(); err != nil {
		return nil, false, fmt.Errorf("store: profile %s: %w", id, err)
	}
	if int64(len(data)) != want {
		return nil, false, fmt.Errorf("store: profile %s: its %s part has %d bytes of %d", id, kind, len(data), want)
	}
	return data, true, nil
}

// Profiles lists profiles, newest first, a page at a time, from one of the by-time indexes.
func (s *Store) Profiles(ctx context.Context, q collector.ProfileQuery) (collector.ProfilePage, error) {
	if err := s.acquire(); err != nil {
		return collector.ProfilePage{}, err
	}
	defer s.release()
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	var prefix []byte
	switch {
	case q.TransactionID != "":
		prefix = profileIndexPrefix(ksProfileTx, q.TransactionID)
	case q.TraceID != "":
		prefix = profileIndexPrefix(ksProfileTrace, q.TraceID)
	case q.Service != "":
		prefix = profileIndexPrefix(ksProfileService, q.Service)
	default:
		prefix = profileIndexPrefix(ksProfileTime, "")
	}
	const suffixLen = 8 + 16
	after, err := decodeCursor(prefix[0], q.Cursor, suffixLen)
	if err != nil {
		return collector.ProfilePage{}, err
	}
	lo, hi := append([]byte(nil), prefix...), prefixEnd(prefix)
	if !q.From.IsZero() {
		lo = binary.BigEndian.AppendUint64(lo, timeKey(q.From))
	}
	if !q.To.IsZero() {
		hi = binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), timeKey(q.To))
	}
	if after != nil {
		if c := append(append([]byte(nil), prefix...), after...); bytes.Compare(c, hi) < 0 {
			hi = c
		}
	}
	it, err := s.db.NewIterWithContext(ctx, &pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return collector.ProfilePage{}, fmt.Errorf("store: list profiles: %w", err)
	}
	defer it.Close()
	var page collector.ProfilePage
	var last []byte // the index suffix of the last profile listed
	for it.Last(); it.Valid(); it.Prev() {
		if err := ctx.Err(); err != nil {
			return collector.ProfilePage{}, err
		}
		key, v := it.Key(), it.Value()
		if len(key) != len(prefix)+suffixLen || len(v) != 4 {
			continue
		}
		if len(page.Profiles) == q.Limit {
			page.Next = encodeCursor(prefix[0], last)
			break
		}
		var id [16]byte
		copy(id[:], key[len(key)-16:])
		p, ok, err := s.profileRecord(binary.BigEndian.Uint32(v), id)
		if err != nil {
			return collector.ProfilePage{}, err
		}
		if !ok || (q.Service != "" && p.Metadata.Service.Name != q.Service) ||
			(q.TraceID != "" && p.TraceID != q.TraceID) {
			continue
		}
		page.Profiles = append(page.Profiles, p)
		last = bytes.Clone(key[len(prefix):])
	}
	if err := it.Error(); err != nil {
		return collector.ProfilePage{}, fmt.Errorf("store: list profiles: %w", err)
	}
	return page, nil
}

// dropProfilesBefore deletes the profiles stored before partition `before` (their ingest hour): the
// index entries each record names, then their records and data with range deletions, in one synced
// batch, then compacts those ranges to give the space back. Retention calls it with the event
// partitions it deletes (and by age, for hours that held only profiles).
func (s *Store) dropProfilesBefore(before uint32, reason string) error {
	lo, hi := partKey(nil, ksProfile, 0), partKey(nil, ksProfile, before)
	it, err := s.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("store: retention: profiles: %w", err)
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		key := it.Key()
		if len(key) != 1+4+16 {
			continue
		}
		var id [16]byte
		copy(id[:], key[5:])
		_ = b.Delete(profileIDKey(id), nil)
		var p collector.Profile
		if err := decodeProfile(it.Value(), &p); err != nil {
			s.log.Warn("store retention: a profile record does not decode; its index entries stay (they point at nothing)",
				zap.String("profile.id", hex.EncodeToString(id[:])), zap.Error(err))
		} else {
			for _, k := range profileIndexKeys(&p, id) {
				_ = b.Delete(k, nil)
			}
		}
		n++
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: retention: profiles: %w", err)
	}
	if n == 0 {
		return nil
	}
	for _, ks := range []byte{ksProfile, ksProfileBlob} {
		if err := b.DeleteRange(partKey(nil, ks, 0), partKey(nil, ks, before), nil); err != nil {
			return fmt.Errorf("store: retention: profiles: %w", err)
		}
	}
	if err := s.commit(b, true); err != nil {
		return fmt.Errorf("store: retention: delete profiles: %w", err)
	}
	s.log.Info("store retention deleted profiles", zap.String("reason", reason), zap.Int("profiles", n),
		zap.Time("before", partitionStart(before)))
	for _, ks := range []byte{ksProfile, ksProfileBlob} {
		if err := s.db.Compact(s.stopCtx, partKey(nil, ks, 0), partKey(nil, ks, before), false); err != nil {
			return fmt.Errorf("store: retention: compact profiles: %w", err)
		}
	}
	return nil
}
