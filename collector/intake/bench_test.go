package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
)

// benchStream is a realistic stream: the heavy fixture (every kind of event, as agents send them).
func benchStream(b *testing.B) (plain, gz []byte, events int) {
	plain = readFixture(b, "intake-v2/heavy.ndjson")
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	res, err := decoder.New(decoder.Options{}).Decode(context.Background(), bytes.NewReader(plain), &collector.Event{}, discard{})
	if err != nil || len(res.Errors) > 0 {
		b.Fatalf("fixture: %v %v", err, res.Errors)
	}
	return plain, buf.Bytes(), res.Accepted
}

type discard struct{}

func (discard) ProcessBatch(context.Context, *collector.Batch) error { return nil }

// BenchmarkIntake measures what the HTTP handling adds to decoding: the baseline is the decoder alone
// on the decompressed stream; "handler" is the whole POST /intake/v2/events (auth with a secret token,
// gzip, limits, stream slot, enrich, the answer) into a Processor that discards. Compare with
// benchstat: go test ./collector/intake -run X -bench Intake -count 10 | benchstat -col /path -.
func BenchmarkIntake(b *testing.B) {
	plain, gz, events := benchStream(b)
	b.Run("path=decoder", func(b *testing.B) {
		dec := decoder.New(decoder.Options{BatchSize: DefaultBatchSize})
		base := collector.Event{Timestamp: time.Now()}
		b.SetBytes(int64(len(plain)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dec.Decode(context.Background(), bytes.NewReader(plain), &base, discard{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("path=handler", func(b *testing.B) {
		api, _, _ := newTestAPI(b, Config{Processor: discard{}, SecretToken: "t"})
		h := api.Handler()
		b.SetBytes(int64(len(plain)))
		b.ReportAllocs()
		body := bytes.NewReader(gz)
		for b.Loop() {
			body.Reset(gz)
			postGzip(b, h, body, "Bearer t")
		}
		b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
	})
}

// discardEnqueuer is a BatchEnqueuer that takes every batch and whose commits are done at once, as
// a store whose fsync costs nothing: intake then runs as in the collector (pipeline, enrich).
type discardEnqueuer struct{ discard }

func (discardEnqueuer) EnqueueBatch(context.Context, *collector.Batch) (func() error, error) {
	return func() error { return nil }, nil
}

// BenchmarkIntakeLoadgen is the collector's intake side under bench/collector/intake.sh: one request
// of `hotpath loadgen` (collector/testdata/loadgen.ndjson, 100 traces of a transaction and 5 spans,
// gzip-compressed as the load generator sends it) through the whole handler (gzip, decoder, enrich,
// the pipeline) into a BatchEnqueuer that discards. What the store does with the batches is
// collector/store/pebble's BenchmarkPrepare.
func BenchmarkIntakeLoadgen(b *testing.B) {
	plain, err := os.ReadFile(filepath.Join("..", "testdata", "loadgen.ndjson"))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := kgzip.NewWriterLevel(&buf, kgzip.BestSpeed) // as the load generator compresses
	_, _ = zw.Write(plain)
	_ = zw.Close()
	gz := buf.Bytes()
	api, _, _ := newTestAPI(b, Config{Processor: discardEnqueuer{}})
	h := api.Handler()
	body := bytes.NewReader(gz)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(gz)
		postGzip(b, h, body, "")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*600), "ns/event")
}

// postGzip posts body, gzip-compressed ndjson, to h's intake with the Authorization header auth (none
// if empty) and fails b unless it is answered 202.
func postGzip(b *testing.B, h http.Handler, body io.Reader, auth string) {
	req := httptest.NewRequest(http.MethodPost, "/intake/v2/events", body)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/x-ndjson")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		b.Fatalf("%d %s", w.Code, w.Body)
	}
}

// latencyStore is a Processor whose every commit takes a fixed time and no CPU, as an fsync does: it
// is a BatchEnqueuer (commits run concurrently) or, behind syncOnly, a plain BatchProcessor.
type latencyStore struct{ latency time.Duration }

func (s latencyStore) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	time.Sleep(s.latency)
	return nil
}

func (s latencyStore) EnqueueBatch(ctx context.Context, b *collector.Batch) (func() error, error) {
	done := time.After(s.latency)
	return func() error { <-done; return nil }, nil
}

type syncOnly struct{ p collector.BatchProcessor }

func (s syncOnly) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	return s.p.ProcessBatch(ctx, b)
}

// BenchmarkStreamCommitLatency measures one stream (the way an agent sends) into a store whose commits
// take 2 ms: "wait" waits for each batch's commit before decoding the next (a plain BatchProcessor);
// "pipeline" keeps decoding while up to MaxBatchesInFlight batches commit (a BatchEnqueuer).
func BenchmarkStreamCommitLatency(b *testing.B) {
	s := newStream("bench")
	s.transactions(5000)
	body := s.bytes()
	store := latencyStore{latency: 2 * time.Millisecond}
	for _, tt := range []struct {
		name string
		p    collector.BatchProcessor
	}{{"processor=wait", syncOnly{store}}, {"processor=pipeline", store}} {
		b.Run(tt.name, func(b *testing.B) {
			api, _, _ := newTestAPI(b, Config{Processor: tt.p})
			h := api.Handler()
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/intake/v2/events", bytes.NewReader(body)))
				if w.Code != http.StatusAccepted {
					b.Fatal(w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
