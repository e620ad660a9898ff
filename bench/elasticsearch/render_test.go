// Package elasticsearch compares hotpath's rendering of events as Elasticsearch documents
// (collector/elasticsearch.AppendDocument) with APM Server's own (apm-data's modeljson.MarshalAPMEvent,
// v1.10.0, what docappender sends), on the same input: heavy.ndjson (1920 transactions, spans, errors
// and metricsets), decoded by each side's decoder and enriched by each side's processors, outside the
// timed loop. Only the rendering of the _source document is timed.
//
//	cd bench && go test -run '^$' -bench BenchmarkRender -benchmem -count 10 ./elasticsearch | tee /tmp/render.txt
//	benchstat -col /impl /tmp/render.txt
package elasticsearch

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/elastic/apm-data/input/elasticapm"
	"github.com/elastic/apm-data/model/modeljson"
	"github.com/elastic/apm-data/model/modelpb"
	"github.com/elastic/apm-data/model/modelprocessor"
	"go.elastic.co/fastjson"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
)

const (
	fixture = "../../collector/testdata/apm-server/intake-v2/heavy.ndjson"
	events  = 1920
	// batch holds the whole fixture, so every event is alive in one ProcessBatch call.
	batch = 4096
)

var requestTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type semaphore struct{}

func (semaphore) Acquire(context.Context, int64) error { return nil }
func (semaphore) TryAcquire(int64) bool                { return true }
func (semaphore) Release(int64)                        {}

func BenchmarkRender(b *testing.B) {
	body, err := os.ReadFile(fixture)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=apm-data", func(b *testing.B) {
		p := elasticapm.NewProcessor(elasticapm.Config{MaxEventSize: decoder.DefaultMaxEventSize, Semaphore: semaphore{}})
		base := &modelpb.APMEvent{Timestamp: uint64(requestTime.UnixNano()),
			Host: &modelpb.Host{Ip: []*modelpb.IP{modelpb.MustParseIP("127.0.0.1")}}}
		processors := modelprocessor.Chained{modelprocessor.SetHostHostname{}, modelprocessor.SetServiceNodeName{},
			modelprocessor.SetGroupingKey{}, modelprocessor.SetErrorMessage{}, &modelprocessor.SetDataStream{Namespace: "default"}}
		var res elasticapm.Result
		err := p.HandleStream(context.Background(), base, bytes.NewReader(body), batch,
			modelpb.ProcessBatchFunc(func(ctx context.Context, batch *modelpb.Batch) error {
				if len(*batch) != events {
					b.Fatalf("%d events in the batch", len(*batch))
				}
				if err := processors.ProcessBatch(ctx, batch); err != nil {
					return err
				}
				var w fastjson.Writer
				var out int
				b.ReportAllocs()
				for b.Loop() {
					out = 0
					for _, e := range *batch {
						w.Reset()
						if err := modeljson.MarshalAPMEvent(e, &w); err != nil {
							b.Fatal(err)
						}
						out += w.Size()
					}
				}
				report(b, out)
				return nil
			}), &res)
		if err != nil {
			b.Fatal(err)
		}
	})
	b.Run("impl=hotpath", func(b *testing.B) {
		d := decoder.New(decoder.Options{BatchSize: batch})
		en := enrich.New(enrich.Config{ObserverHostname: "bench"})
		base := collector.Event{Timestamp: requestTime, Host: collector.Host{IP: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}}
		_, err := d.Decode(context.Background(), bytes.NewReader(body), &base,
			collector.ProcessBatchFunc(func(_ context.Context, batch *collector.Batch) error {
				if len(*batch) != events {
					b.Fatalf("%d events in the batch", len(*batch))
				}
				en.Process(batch)
				var buf []byte
				var out int
				b.ReportAllocs()
				for b.Loop() {
					out = 0
					for i := range *batch {
						var err error
						if buf, err = elasticsearch.AppendDocument(buf[:0], &(*batch)[i]); err != nil {
							b.Fatal(err)
						}
						out += len(buf)
					}
				}
				report(b, out)
				return nil
			}))
		if err != nil {
			b.Fatal(err)
		}
	})
}

// report adds per-event figures: one op renders the whole fixture.
func report(b *testing.B, bytesPerOp int) {
	b.SetBytes(int64(bytesPerOp))
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perOp/events*1e9, "ns/event")
	b.ReportMetric(events/perOp, "events/s")
}
