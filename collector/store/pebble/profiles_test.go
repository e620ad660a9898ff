package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/hotpath-apm/hotpath/collector"
)

// testProfile is a slow-request capture of service svc, with a cpu part and a trace part of the given
// sizes (random bytes: the store does not parse them).
func testProfile(g *gen, svc string, ts time.Time, cpuBytes, traceBytes int) *collector.Profile {
	data := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		return b
	}
	meta := g.base(collector.KindUnknown, "", svc, ts)
	return &collector.Profile{
		ID: g.id(16), Trigger: collector.ProfileTriggerSlowRequest, Timestamp: ts, Duration: 1500 * time.Millisecond,
		Received: ts.Add(2 * time.Second), Metadata: meta, TraceID: g.id(16),
		Transaction: &collector.ProfileTransaction{ID: g.id(8), Name: "GET /search", Sampled: true, Ended: true,
			Start: ts.Add(-time.Second), Threshold: 500 * time.Millisecond},
		CPU:                &collector.ProfileCPU{Start: ts.Add(-time.Second), Duration: 2 * time.Second, Samples: 42},
		GoroutineSnapshots: 3,
		Errors:             []string{"heap: not for slow requests"},
		Parts: []collector.ProfilePart{
			{Kind: "cpu", Data: data(cpuBytes), Size: int64(cpuBytes)},
			{Kind: "trace", Data: data(traceBytes), Size: int64(traceBytes)},
		},
	}
}

// withoutData is p as the store's reads give it: parts without their data.
func withoutData(p *collector.Profile) collector.Profile {
	out := *p
	out.Parts = nil
	for _, part := range p.Parts {
		out.Parts = append(out.Parts, collector.ProfilePart{Kind: part.Kind, Size: int64(len(part.Data))})
	}
	return out
}

func mustStoreProfile(t *testing.T, s *Store, p *collector.Profile) {
	t.Helper()
	if err := s.StoreProfile(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// TestProfileRoundTrip: a profile comes back as it was stored, its data from chunks (a trace of 9 MiB
// and a bit: ten chunks, written in three batches), also after the store is reopened.
func TestProfileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir})
	g := newGen(1, t0)
	p := testProfile(g, "search", t0, 1234, 9<<20+17)
	mustStoreProfile(t, s, p)
	check := func(s *Store) {
		t.Helper()
		got, ok, err := s.Profile(context.Background(), p.ID)
		if err != nil || !ok {
			t.Fatalf("Profile: %v %v", ok, err)
		}
		if want := withoutData(p); !reflect.DeepEqual(got, want) {
			t.Errorf("Profile:\n%+v\nwant\n%+v", got, want)
		}
		for _, part := range p.Parts {
			data, ok, err := s.ProfilePart(context.Background(), p.ID, part.Kind)
			if err != nil || !ok || !bytes.Equal(data, part.Data) {
				t.Errorf("%s part: %v %v, %d bytes, want %d", part.Kind, ok, err, len(data), len(part.Data))
			}
		}
		if _, ok, err := s.ProfilePart(context.Background(), p.ID, "heap"); ok || err != nil {
			t.Errorf("a part the profile does not have: %v %v", ok, err)
		}
		for _, id := range []string{"00000000000000000000000000000000", "not an id", ""} {
			if _, ok, err := s.Profile(context.Background(), id); ok || err != nil {
				t.Errorf("Profile(%q): %v %v", id, ok, err)
			}
			if _, ok, err := s.ProfilePart(context.Background(), id, "cpu"); ok || err != nil {
				t.Errorf("ProfilePart(%q): %v %v", id, ok, err)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openTest(t, Config{Dir: dir}))
}

func TestProfileRefusals(t *testing.T) {
	s := openTest(t, Config{})
	g := newGen(2, t0)
	p := testProfile(g, "search", t0, 10, 10)
	mustStoreProfile(t, s, p)
	if err := s.StoreProfile(context.Background(), p); !errors.Is(err, collector.ErrProfileExists) {
		t.Errorf("the same id again: %v", err)
	}
	bad := testProfile(g, "search", t0, 10, 10)
	bad.ID = "ABC"
	if err := s.StoreProfile(context.Background(), bad); err == nil {
		t.Error("an id that is not 32 hex digits was stored")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := testProfile(g, "search", t0, 10, 10)
	if err := s.StoreProfile(ctx, q); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	if _, ok, _ := s.Profile(context.Background(), q.ID); ok {
		t.Error("a canceled profile was stored")
	}
	// The disk budget refuses profiles as it refuses events.
	full := fmt.Errorf("%w: test", ErrDiskBudget)
	s.full.Store(&full)
	if err := s.StoreProfile(context.Background(), testProfile(g, "search", t0, 1, 1)); !errors.Is(err, collector.ErrQueueFull) {
		t.Errorf("disk budget reached: %v", err)
	}
	s.full.Store(nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreProfile(context.Background(), testProfile(g, "search", t0, 1, 1)); !errors.Is(err, collector.ErrShuttingDown) {
		t.Errorf("after Close: %v", err)
	}
	if _, _, err := s.Profile(context.Background(), p.ID); !errors.Is(err, ErrClosed) {
		t.Errorf("Profile after Close: %v", err)
	}
}

// TestProfilePartsLimit: a profile of maxProfileParts parts is stored whole; one more part is refused
// before any of its data is written (its first parts alone fill more than one batch).
func TestProfilePartsLimit(t *testing.T) {
	s := openTest(t, Config{})
	g := newGen(4, t0)
	withParts := func(n int) *collector.Profile {
		p := testProfile(g, "search", t0, 1, 1)
		p.Parts = nil
		for i := range n {
			data := bytes.Repeat([]byte{byte(i)}, 20<<10)
			p.Parts = append(p.Parts, collector.ProfilePart{Kind: fmt.Sprintf("part%d", i), Data: data, Size: int64(len(data))})
		}
		return p
	}
	over := withParts(maxProfileParts + 1)
	if err := s.StoreProfile(context.Background(), over); err == nil {
		t.Fatalf("a profile of %d parts was stored", len(over.Parts))
	}
	it, err := s.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{ksProfileBlob}, UpperBound: []byte{ksProfileBlob + 1}})
	if err != nil {
		t.Fatal(err)
	}
	if it.First() {
		t.Errorf("a refused profile left data behind: %x", it.Key())
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	p := withParts(maxProfileParts)
	mustStoreProfile(t, s, p)
	last := p.Parts[maxProfileParts-1]
	if data, ok, err := s.ProfilePart(context.Background(), p.ID, last.Kind); err != nil || !ok || !bytes.Equal(data, last.Data) {
		t.Fatalf("part %d of %d: %v %v, %d bytes", maxProfileParts, maxProfileParts, ok, err, len(data))
	}
}

// TestProfileChunkBoundaries: parts of no data, and of one byte less, exactly and one byte more than a
// chunk, come back whole.
func TestProfileChunkBoundaries(t *testing.T) {
	s := openTest(t, Config{fs: vfs.NewMem()})
	g := newGen(8, t0)
	p := testProfile(g, "search", t0, 1, 1)
	p.Parts = nil
	for i, n := range []int{0, profileChunkBytes - 1, profileChunkBytes, profileChunkBytes + 1} {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(j>>10 + j + i) // a pattern that a chunk out of place breaks
		}
		p.Parts = append(p.Parts, collector.ProfilePart{Kind: fmt.Sprintf("part%d", n), Data: data, Size: int64(n)})
	}
	mustStoreProfile(t, s, p)
	for _, part := range p.Parts {
		data, ok, err := s.ProfilePart(context.Background(), p.ID, part.Kind)
		if err != nil || !ok || !bytes.Equal(data, part.Data) {
			t.Errorf("%s: %v %v, %d bytes, want %d", part.Kind, ok, err, len(data), len(part.Data))
		}
	}
}

// TestProfilesPageLimit: a page holds at most 1,000 profiles, whatever Limit asks, and the default is
// 50. (An in-memory file system: 1,001 synced commits on disk would be slow.)
func TestProfilesPageLimit(t *testing.T) {
	s := openTest(t, Config{fs: vfs.NewMem()})
	g := newGen(5, t0)
	for i := range 1001 {
		mustStoreProfile(t, s, testProfile(g, "search", t0.Add(time.Duration(i)*time.Second), 1, 1))
	}
	for _, c := range []struct{ limit, want int }{{0, 50}, {1000, 1000}, {1001, 1000}, {1 << 30, 1000}} {
		page, err := s.Profiles(context.Background(), collector.ProfileQuery{Limit: c.limit})
		if err != nil || len(page.Profiles) != c.want || page.Next == "" {
			t.Fatalf("limit %d: %d profiles, next %q, %v; want %d and a next page", c.limit, len(page.Profiles), page.Next, err, c.want)
		}
	}
}

// TestProfilesListing: by time, service, transaction and trace, newest first, a page at a time.
func TestProfilesListing(t *testing.T) {
	s := openTest(t, Config{})
	g := newGen(3, t0)
	var all []*collector.Profile
	for i := range 12 {
		svc := []string{"search", "segmenter", "search"}[i%3]
		p := testProfile(g, svc, t0.Add(time.Duration(i)*time.Minute), 10, 10)
		if i == 7 { // a resource trigger: no transaction, no trace
			p.Trigger, p.Transaction, p.TraceID = "cpu", nil, ""
			p.Resource = &collector.ProfileResource{Name: "cpu", Value: 95, Rule: "abs", Threshold: 90}
		}
		mustStoreProfile(t, s, p)
		all = append(all, p)
	}
	// Stored in a shuffled order: the listing orders by the profiles' own time.
	ids := func(ps []collector.Profile) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	want := func(keep func(i int, p *collector.Profile) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(i, all[i]) {
				out = append(out, all[i].ID)
			}
		}
		return out
	}
	list := func(q collector.ProfileQuery) []string {
		t.Helper()
		var got []string
		for n := 0; ; n++ {
			page, err := s.Profiles(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(page.Profiles)...)
			for _, p := range page.Profiles {
				if p.Parts[0].Data != nil {
					t.Fatal("a listing returned data")
				}
			}
			if page.Next == "" {
				return got
			}
			if n > 20 {
				t.Fatal("endless pages")
			}
			q.Cursor = page.Next
		}
	}
	for _, tc := range []struct {
		name string
		q    collector.ProfileQuery
		keep func(i int, p *collector.Profile) bool
	}{
		{"all", collector.ProfileQuery{}, func(int, *collector.Profile) bool { return true }},
		{"all, pages of 5", collector.ProfileQuery{Limit: 5}, func(int, *collector.Profile) bool { return true }},
		{"service", collector.ProfileQuery{Service: "search", Limit: 3}, func(i int, p *collector.Profile) bool { return p.Metadata.Service.Name == "search" }},
		{"range", collector.ProfileQuery{From: t0.Add(3 * time.Minute), To: t0.Add(9 * time.Minute), Limit: 2},
			func(i int, p *collector.Profile) bool { return i >= 3 && i < 9 }},
		{"service and range", collector.ProfileQuery{Service: "segmenter", From: t0.Add(2 * time.Minute)},
			func(i int, p *collector.Profile) bool { return i >= 2 && p.Metadata.Service.Name == "segmenter" }},
		{"transaction", collector.ProfileQuery{TransactionID: all[4].Transaction.ID}, func(i int, p *collector.Profile) bool { return i == 4 }},
		{"transaction of another service", collector.ProfileQuery{TransactionID: all[4].Transaction.ID, Service: "search"}, func(int, *collector.Profile) bool { return false }},
		{"trace", collector.ProfileQuery{TraceID: all[5].TraceID}, func(i int, p *collector.Profile) bool { return i == 5 }},
		{"unknown service", collector.ProfileQuery{Service: "nope"}, func(int, *collector.Profile) bool { return false }},
	} {
		if got, want := list(tc.q), want(tc.keep); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q\nwant %q", tc.name, got, want)
		}
	}
	page, _ := s.Profiles(context.Background(), collector.ProfileQuery{Limit: 2})
	if _, err := s.Profiles(context.Background(), collector.ProfileQuery{Service: "search", Cursor: page.Next}); !errors.Is(err, collector.ErrBadCursor) {
		t.Errorf("a cursor of another listing: %v", err)
	}
	if _, err := s.Profiles(context.Background(), collector.ProfileQuery{Cursor: "!!"}); !errors.Is(err, collector.ErrBadCursor) {
		t.Errorf("a broken cursor: %v", err)
	}
	// A second profile of the same transaction (say the Elastic agent's and hotpath's): both listed.
	again := testProfile(g, "search", t0.Add(time.Hour), 10, 10)
	again.Transaction.ID = all[4].Transaction.ID
	mustStoreProfile(t, s, again)
	if got := list(collector.ProfileQuery{TransactionID: all[4].Transaction.ID}); !reflect.DeepEqual(got, []string{again.ID, all[4].ID}) {
		t.Errorf("two captures of a transaction: %q", got)
	}
}

// TestProfileRetentionByAge: profiles go with the age of their ingest hour, whether or not the hour had
// events, and everything of them goes: record, data and every index entry.
func TestProfileRetentionByAge(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: 48 * time.Hour})
	g := newGen(4, t0)
	old := testProfile(g, "search", t0, 100, 3<<20)
	mustStoreProfile(t, s, old)
	clk.Add(47 * time.Hour)
	kept := testProfile(g, "search", clk.Now(), 100, 100)
	mustStoreProfile(t, s, kept)
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Profile(context.Background(), old.ID); !ok {
		t.Fatal("a profile 47 h old was deleted")
	}
	clk.Add(2 * time.Hour)
	if err := s.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Profile(context.Background(), old.ID); ok || err != nil {
		t.Errorf("a profile 49 h old is still there (%v)", err)
	}
	if _, ok, err := s.ProfilePart(context.Background(), old.ID, "trace"); ok || err != nil {
		t.Errorf("its trace is still there (%v)", err)
	}
	for _, q := range []collector.ProfileQuery{{}, {Service: "search"}, {TransactionID: old.Transaction.ID}, {TraceID: old.TraceID}} {
		page, err := s.Profiles(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Profiles {
			if p.ID == old.ID {
				t.Errorf("%+v still lists it", q)
			}
		}
	}
	// No key of it is left.
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	oldID, _ := profileIDBytes(old.ID)
	for it.First(); it.Valid(); it.Next() {
		if bytes.Contains(it.Key(), oldID[:]) {
			t.Errorf("key %q of the deleted profile", it.Key())
		}
	}
	_ = it.Close()
	if _, ok, _ := s.Profile(context.Background(), kept.ID); !ok {
		t.Error("the newer profile went too")
	}
	// Its id is free again.
	mustStoreProfile(t, s, old)
}

// TestProfileRetentionByDisk: when the disk budget deletes an hour of events, that hour's profiles
// (and older ones) go with it.
func TestProfileRetentionByDisk(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now, MaxAge: -1, MemTableBytes: 128 << 10})
	g := newGen(5, t0)
	var profiles []*collector.Profile
	for h := range 4 {
		p := testProfile(g, "search", clk.Now(), 1000, 256<<10)
		mustStoreProfile(t, s, p)
		profiles = append(profiles, p)
		fillHours(t, s, clk, g, 1, 1500)
		_ = h
	}
	retainWithin(t, s, 7)
	oldest := s.parts.snapshot()[0].P
	for i, p := range profiles {
		_, ok, err := s.Profile(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gone := partitionOf(t0.Add(time.Duration(i)*time.Hour)) < oldest; ok == gone {
			t.Errorf("profile of hour %d: stored %v, its hour's events deleted %v", i, ok, gone)
		}
	}
	if _, ok, _ := s.Profile(context.Background(), profiles[0].ID); ok {
		t.Error("the oldest hour's profile survived its events")
	}
}

// TestProfileCodecRoundTrip: every field of a record survives, and unknown fields are skipped.
func TestProfileCodecRoundTrip(t *testing.T) {
	g := newGen(6, t0)
	full := withoutData(testProfile(g, "search", t0, 1, 1))
	full.Resource = &collector.ProfileResource{Name: "cpu", Value: 95.5, Rule: "diff", Threshold: 50, Average: collector.Some(20.25)}
	full.Metadata.Labels = append(full.Metadata.Labels, collector.Label{Key: "b", Value: "true", Bool: true, Global: true})
	sparse := collector.Profile{ID: g.id(16), Trigger: collector.ProfilePeriodic, Timestamp: t0, Received: t0,
		Metadata: collector.Event{Timestamp: t0, Service: collector.Service{Name: "x"}}}
	for _, p := range []collector.Profile{full, sparse} {
		enc := appendProfile(nil, &p)
		var got collector.Profile
		if err := decodeProfile(enc, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip:\n%+v\nwant\n%+v", got, p)
		}
		// A newer build's field 99 (varint, bytes) is skipped.
		withUnknown := appendString(appendUint(bytes.Clone(enc), fkey(99, wtVarint), 7), fkey(98, wtBytes), "new")
		got = collector.Profile{}
		if err := decodeProfile(withUnknown, &got); err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("with unknown fields: %v", err)
		}
	}
	for _, bad := range [][]byte{nil, {2}, {profileCodecVersion}, {profileCodecVersion, 0x0a, 5, 'a'}} {
		var p collector.Profile
		if err := decodeProfile(bad, &p); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}

// FuzzProfileCodec: no input makes the record decoder panic, and what decodes encodes to a record
// that decodes to the same.
//
//	go test ./collector/store/pebble -run '^$' -fuzz FuzzProfileCodec -fuzztime 1m
func FuzzProfileCodec(f *testing.F) {
	g := newGen(7, t0)
	p := withoutData(testProfile(g, "search", t0, 1, 1))
	p.Resource = &collector.ProfileResource{Name: "heap", Value: 1 << 30, Rule: "abs", Threshold: 1 << 29, Average: collector.Some(3.0)}
	f.Add(appendProfile(nil, &p))
	f.Add(appendProfile(nil, &collector.Profile{ID: "x"}))
	r := rand.New(rand.NewPCG(1, 2))
	enc := appendProfile(nil, &p)
	for range 8 {
		b := bytes.Clone(enc)
		b[1+r.IntN(len(b)-1)] ^= byte(1 + r.IntN(255))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p collector.Profile
		if err := decodeProfile(data, &p); err != nil {
			return
		}
		var again collector.Profile
		if err := decodeProfile(appendProfile(nil, &p), &again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(p)) {
			t.Fatalf("re-encoded:\n%+v\nwas\n%+v", again, p)
		}
	})
}

// normalize is p with what a round trip may legitimately change made equal: empty and nil slices.
func normalize(p collector.Profile) collector.Profile {
	if len(p.Errors) == 0 {
		p.Errors = nil
	}
	if len(p.Parts) == 0 {
		p.Parts = nil
	}
	return p
}
