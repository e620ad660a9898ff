package decoder

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/elastic/apm-data/input/elasticapm"
	"github.com/elastic/apm-data/model/modelpb"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
)

// fixtures are the intake v2 bodies hotpath's decoder tests use.
const fixtures = "../../collector/testdata/apm-server/intake-v2"

var requestTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// semaphore is an always-free input.Semaphore.
type semaphore struct{}

func (semaphore) Acquire(context.Context, int64) error { return nil }
func (semaphore) TryAcquire(int64) bool                { return true }
func (semaphore) Release(int64)                        {}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// apmDataBase is the base event APM Server builds for a backend request from 127.0.0.1.
func apmDataBase() *modelpb.APMEvent {
	return &modelpb.APMEvent{
		Timestamp: uint64(requestTime.UnixNano()),
		Host:      &modelpb.Host{Ip: []*modelpb.IP{modelpb.MustParseIP("127.0.0.1")}},
	}
}

func hotpathBase() collector.Event {
	return collector.Event{Timestamp: requestTime, Host: collector.Host{IP: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}}
}

const batchSize = 10

// runAPMData decodes body with apm-data and returns its result and the number of events handed on.
func runAPMData(p *elasticapm.Processor, body []byte) (elasticapm.Result, int, error) {
	var res elasticapm.Result
	n := 0
	err := p.HandleStream(context.Background(), apmDataBase(), bytes.NewReader(body), batchSize,
		modelpb.ProcessBatchFunc(func(_ context.Context, b *modelpb.Batch) error {
			n += len(*b)
			return nil
		}), &res)
	return res, n, err
}

func BenchmarkDecodeHeavy(b *testing.B) {
	body := readFixture(b, "heavy.ndjson")
	const events = 1920

	b.Run("impl=apm-data", func(b *testing.B) {
		p := elasticapm.NewProcessor(elasticapm.Config{MaxEventSize: decoder.DefaultMaxEventSize, Semaphore: semaphore{}})
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			res, _, err := runAPMData(p, body)
			if err != nil || res.Accepted != events {
				b.Fatal(err, res.Accepted)
			}
		}
		b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(testing.AllocsPerRun(1, func() { runAPMData(p, body) }))/events, "allocs/event")
	})

	b.Run("impl=hotpath", func(b *testing.B) {
		d := decoder.New(decoder.Options{BatchSize: batchSize})
		base := hotpathBase()
		noop := collector.ProcessBatchFunc(func(context.Context, *collector.Batch) error { return nil })
		r := bytes.NewReader(body)
		run := func() {
			r.Reset(body)
			res, err := d.Decode(context.Background(), r, &base, noop)
			if err != nil || res.Accepted != events {
				b.Fatal(err, res.Accepted)
			}
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			run()
		}
		b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(testing.AllocsPerRun(1, run)/events, "allocs/event")
	})
}
