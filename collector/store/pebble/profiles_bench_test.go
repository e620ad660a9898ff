package pebble

import (
	"context"
	"encoding/binary"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/hotpath-apm/hotpath/collector"
)

// BenchmarkStoreProfile: storing a capture of a slow request as the profiler sends it (a 20 KiB CPU
// profile, a 4 KiB goroutine profile, a 2 MiB execution trace), against the floor of writing the same
// bytes as one synced Pebble batch of a single key each (no chunks, no record, no index).
func BenchmarkStoreProfile(b *testing.B) {
	g := newGen(30, t0)
	parts := testProfile(g, "search", t0, 20<<10, 2<<20)
	goroutine := collector.ProfilePart{Kind: "goroutine", Data: make([]byte, 4<<10), Size: 4 << 10}
	parts.Parts = append(parts.Parts[:1], goroutine, parts.Parts[1])
	b.Run("baseline=one-batch", func(b *testing.B) {
		s := openTest(b, Config{})
		b.ReportAllocs()
		var n uint64
		for b.Loop() {
			n++
			batch := s.db.NewBatch()
			for i, p := range parts.Parts {
				key := binary.BigEndian.AppendUint64([]byte{'z'}, n)
				if err := batch.Set(append(key, byte(i)), p.Data, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := batch.Commit(pebbledb.NoSync); err != nil {
				b.Fatal(err)
			}
			_ = batch.Close()
		}
	})
	b.Run("StoreProfile", func(b *testing.B) {
		s := openTest(b, Config{})
		b.ReportAllocs()
		for b.Loop() {
			p := *parts
			p.ID = g.id(16)
			if err := s.StoreProfile(context.Background(), &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
