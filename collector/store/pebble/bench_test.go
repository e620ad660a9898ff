package pebble

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// Codec benchmarks: the generated codec against the two encoders the standard library offers for
// arbitrary Go values (encoding/json and encoding/gob), on a transaction and a span as the Go agent
// sends them. B/event is the encoded size.

func codecSamples() map[string]collector.Event {
	b := newGen(20, t0).trace(1)
	return map[string]collector.Event{"transaction": b[0], "span": b[1]}
}

func BenchmarkCodec(b *testing.B) {
	for name, e := range codecSamples() {
		b.Run("encode/hotpath/"+name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf = appendEvent(buf[:0], &e)
			}
			b.ReportMetric(float64(len(buf)), "B/event")
		})
		b.Run("encode/json/"+name, func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			for b.Loop() {
				buf.Reset()
				if err := enc.Encode(&e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "B/event")
		})
		b.Run("encode/gob/"+name, func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset() // one encoder per value: a stored value must decode on its own
				if err := gob.NewEncoder(&buf).Encode(&e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "B/event")
		})

		ours := appendEvent(nil, &e)
		js, _ := json.Marshal(&e)
		var gb bytes.Buffer
		_ = gob.NewEncoder(&gb).Encode(&e)
		b.Run("decode/hotpath/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out collector.Event
				if err := decodeEvent(ours, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode/json/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out collector.Event
				if err := json.Unmarshal(js, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode/gob/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out collector.Event
				if err := gob.NewDecoder(bytes.NewReader(gb.Bytes())).Decode(&out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProcessBatch measures durable writes: 8 concurrent callers, batches of about 120 events
// (20 traces of a transaction and 5 spans), an fsync per group commit. events/s is the figure.
func BenchmarkProcessBatch(b *testing.B) {
	s := openTest(b, Config{})
	var seed atomic.Uint64
	var events atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4) // 4 x GOMAXPROCS callers
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		g := newGen(seed.Add(1), t0)
		batch := g.batch(120, 5)
		for pb.Next() {
			if err := s.ProcessBatch(context.Background(), &batch); err != nil {
				b.Error(err)
				return
			}
			events.Add(int64(len(batch)))
		}
	})
	b.ReportMetric(float64(events.Load())/time.Since(start).Seconds(), "events/s")
}

// readStore is a store with 20k traces (a transaction and 5 spans each, 120k events) over 24 hourly
// partitions, for the read benchmarks. The floors (1M transactions and 5M spans) are measured by
// bench/store (see BENCHMARKS.md).
func readStore(b *testing.B) (*Store, []string, time.Time) {
	clk := newClock(t0)
	s := openTest(b, Config{Now: clk.Now})
	g := newGen(21, t0)
	var ids []string
	for h := range 24 {
		for range 10 {
			batch := g.batch(500, 5)
			for i := 0; i < len(batch); i += 60 {
				ids = append(ids, batch[i].TraceID)
			}
			mustProcess(b, s, batch)
		}
		clk.Add(time.Hour)
		g.now = t0.Add(time.Duration(h+1) * time.Hour)
	}
	return s, ids, clk.Now()
}

func BenchmarkGetTrace(b *testing.B) {
	s, ids, _ := readStore(b)
	r := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	for b.Loop() {
		recs, err := s.GetTrace(context.Background(), ids[r.IntN(len(ids))], 0)
		if err != nil || len(recs) == 0 {
			b.Fatal(err, len(recs))
		}
	}
}

func BenchmarkSlowestOfEndpoint24h(b *testing.B) {
	s, _, now := readStore(b)
	r := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	for b.Loop() {
		q := collector.TransactionQuery{Service: services[r.IntN(len(services))], Name: endpoints[r.IntN(len(endpoints))],
			From: now.Add(-24 * time.Hour), To: now, Order: collector.SlowestFirst, Limit: 50}
		p, err := s.Transactions(context.Background(), q)
		if err != nil || len(p.Transactions) != 50 {
			b.Fatal(err, len(p.Transactions))
		}
	}
}

func BenchmarkReadFrom(b *testing.B) {
	s, _, _ := readStore(b)
	b.ReportAllocs()
	from := uint64(1)
	for b.Loop() {
		recs, err := s.ReadFrom(context.Background(), from, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) < 1000 {
			from = 1
			continue
		}
		from = recs[len(recs)-1].Seq + 1
	}
	b.ReportMetric(1000, "events/op")
}

// BenchmarkPrepare measures what ProcessBatch does in the caller's goroutine for one intake batch (500
// events: traces of a transaction and 5 spans): encoding the events and compressing their chunks,
// the index entries and the aggregates' inputs. chunk-B/event is the stored chunks' size per event.
// In "intake", the events share their metadata's slices, as the events intake decodes from one stream
// do (each is a copy of the stream's metadata): their shared fields are encoded once per distinct
// value (chunk.go). In "unshared", each event has slices of its own.
func BenchmarkPrepare(b *testing.B) {
	for _, shared := range []bool{true, false} {
		name := "intake"
		if !shared {
			name = "unshared"
		}
		b.Run(name, func(b *testing.B) {
			batch := newGen(1, t0).batch(500, 5)
			if shared {
				shareMetadata(batch)
			}
			r := pendingWrite{memo: &shapeMemo{}}
			b.ReportAllocs()
			for b.Loop() {
				r.prepare(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
			b.ReportMetric(float64(len(r.chunk))/float64(len(batch)), "chunk-B/event")
		})
	}
}

// shareMetadata makes the events of b hold the first one's metadata slices, as the events intake
// decodes from one stream do.
func shareMetadata(b collector.Batch) {
	for i := range b {
		b[i].Host.IP, b[i].Process.Argv, b[i].Labels = b[0].Host.IP, b[0].Process.Argv, b[0].Labels
	}
}
