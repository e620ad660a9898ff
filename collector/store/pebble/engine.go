package pebble

import (
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable/block"
	"go.uber.org/zap"
)

// engineOptions are the Pebble options of a store.
//
// Flushes and compactions write a separate table per keyspace (keyspacePolicy). Without that, every
// table flushed from a memtable spans from the aggregates ('a') to the transaction index ('x'), so
// each one overlaps every table of the level below and each compaction into it rewrites the events
// already there with the few new keys that fall among them: most of the store's CPU went to rewriting
// event bodies that never change.
func engineOptions(cfg *Config, cache *pebbledb.Cache, m *metrics) *pebbledb.Options {
	opts := &pebbledb.Options{
		Cache:                       cache,
		FormatMajorVersion:          pebbledb.FormatNewest,
		MemTableSize:                uint64(cfg.MemTableBytes),
		MemTableStopWritesThreshold: 4,
		// The store's journal (journal.go) is its write-ahead log: it logs a group commit's events and
		// not what they derive, which Pebble's WAL would log too.
		DisableWAL: true,
		// Eight sublevels of L0 before they are compacted into the level below: each such compaction
		// rewrites the tables of the indexes there that the new keys overlap (the random trace ids
		// overlap all of the day's), so half as many of them halve that rewriting (the intake run of
		// BENCHMARKS.md: 65 -> 27 bytes written by compactions per event).
		L0CompactionThreshold: 8,
		L0StopWritesThreshold: 64,
		LBaseMaxBytes:         256 << 20,
		FlushDelayDeleteRange: 10 * time.Second,
		Logger:                cfg.Logger.Sugar(),
		// One compaction normally, a second one when compaction debt builds up (a machine with two
		// cores also runs the intake).
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
		EventListener: &pebbledb.EventListener{
			WriteStallBegin: func(info pebbledb.WriteStallBeginInfo) {
				m.writeStalls.Inc()
				cfg.Logger.Warn("store write stall: compactions are behind", zap.String("reason", info.Reason))
			},
		},
	}
	opts.Experimental.SpanPolicyFunc = keyspacePolicy
	opts.Experimental.ValueSeparationPolicy = func() pebbledb.ValueSeparationPolicy {
		return pebbledb.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           valueSeparationMinSize,
			MaxBlobReferenceDepth: 10,
			RewriteMinimumAge:     5 * time.Minute,
			TargetGarbageRatio:    1.0,
		}
	}
	if cfg.fs != nil {
		opts.FS = cfg.fs
	}
	// Tables compress their blocks with MinLZ; blob files hold the event chunks, compressed already
	// (chunk.go): compressing them again would cost CPU for nothing.
	profile := *block.FastestCompression
	profile.Name = "hotpath"
	profile.ValueBlocks = block.NoCompression.ValueBlocks
	settings := pebbledb.UniformDBCompressionSettings(&profile)
	opts.ApplyCompressionSettings(func() pebbledb.DBCompressionSettings { return settings })
	opts.EnsureDefaults()
	return opts
}

// valueSeparationMinSize is the smallest value Pebble writes to a blob file instead of the table: event
// chunks go there, index values (summaries of 50 to 150 bytes) stay in the tables.
const valueSeparationMinSize = 256

// keyspacePolicy ends a flush's or a compaction's output table where the keyspace (the first byte of
// the key, keys.go) changes. Events ('e') are keyed by sequence number, so a table of new events
// overlaps no older table and Pebble moves it down the levels without rewriting it; the random trace
// index ('t') and the other indexes are compacted on their own, small, tables.
func keyspacePolicy(start []byte) (pebbledb.SpanPolicy, []byte, error) {
	if len(start) == 0 {
		return pebbledb.SpanPolicy{}, []byte{0}, nil
	}
	if start[0] == 0xff {
		return pebbledb.SpanPolicy{}, nil, nil
	}
	return pebbledb.SpanPolicy{}, []byte{start[0] + 1}, nil
}
