package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/collector"
)

// post sends body to POST /intake/v2/events (with ?verbose) and decodes the answer.
func post(t *testing.T, h http.Handler, body io.Reader, header map[string]string) (*httptest.ResponseRecorder, streamResult) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/intake/v2/events?verbose", body)
	req.Header.Set("Content-Type", "application/x-ndjson")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := serve(h, req)
	var res streamResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatalf("status %d, body %q: %v", w.Code, w.Body, err)
	}
	return w, res
}

func TestEventsVerbose(t *testing.T) {
	api, rec, reg := newTestAPI(t, Config{})
	body := newStream("svc").transactions(3).bytes()

	req := httptest.NewRequest(http.MethodPost, "/intake/v2/events", bytes.NewReader(body))
	w := serve(api.Handler(), req)
	if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
		t.Errorf("without ?verbose: %d %q, want 202 and no body", w.Code, w.Body)
	}
	if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("nosniff: %q", got)
	}
	w, res := post(t, api.Handler(), bytes.NewReader(body), nil)
	if w.Code != http.StatusAccepted || res.Accepted != 3 || len(res.Errors) != 0 {
		t.Errorf("with ?verbose: %d %+v", w.Code, res)
	}
	if got := len(rec.stored()); got != 6 {
		t.Errorf("stored %d events, want 6", got)
	}
	for _, e := range rec.stored() {
		if e.Kind != collector.KindTransaction || e.Service != "svc" || len(e.TraceID) != 32 {
			t.Errorf("stored %+v", e)
		}
	}
	if got := metric(t, reg, "hotpath_intake_events_accepted_total"); got != 6 {
		t.Errorf("accepted metric %v, want 6", got)
	}
	if got := metric(t, reg, "hotpath_intake_requests_total", "endpoint=events", "code=202"); got != 2 {
		t.Errorf("requests{events,202} %v, want 2", got)
	}
	if got := metric(t, reg, "hotpath_intake_request_duration_seconds", "endpoint=events"); got != 2 {
		t.Errorf("duration count %v, want 2", got)
	}
}

// TestEventsCompression checks every way a body may be compressed, including the first bytes
// arriving one at a time and bodies of unknown length.
func TestEventsCompression(t *testing.T) {
	plain := newStream("svc").transactions(4).bytes()
	gz, zl := gzipped(t, plain), zlibbed(t, plain)
	tests := []struct {
		name     string
		body     []byte
		encoding string
		oneByte  bool // deliver the body a byte at a time, of unknown length
	}{
		{name: "plain", body: plain},
		{name: "gzip by header", body: gz, encoding: "gzip"},
		{name: "zlib by header", body: zl, encoding: "deflate"},
		{name: "gzip sniffed", body: gz},
		{name: "zlib sniffed", body: zl},
		{name: "gzip sniffed, unknown encoding header", body: gz, encoding: "identity"},
		{name: "plain, byte by byte", body: plain, oneByte: true},
		{name: "gzip sniffed, byte by byte", body: gz, oneByte: true},
		{name: "zlib sniffed, byte by byte", body: zl, oneByte: true},
		{name: "gzip by header, byte by byte", body: gz, encoding: "gzip", oneByte: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, rec, _ := newTestAPI(t, Config{})
			var body io.Reader = bytes.NewReader(tt.body)
			if tt.oneByte {
				body = iotest.OneByteReader(body)
			}
			header := map[string]string{}
			if tt.encoding != "" {
				header["Content-Encoding"] = tt.encoding
			}
			w, res := post(t, api.Handler(), body, header)
			if w.Code != http.StatusAccepted || res.Accepted != 4 || len(rec.stored()) != 4 {
				t.Errorf("%d %+v, stored %d", w.Code, res, len(rec.stored()))
			}
		})
	}
}

// TestEventsCorruptCompression: a body that starts as gzip and then breaks is refused with APM Server's
// decoding prefix; the events before the break are accepted.
func TestEventsCorruptCompression(t *testing.T) {
	plain := newStream("svc").transactions(2000).bytes()
	gz := gzipped(t, plain)
	corrupt := append([]byte(nil), gz...)
	for i := len(corrupt) / 2; i < len(corrupt)/2+64; i++ {
		corrupt[i] ^= 0x55
	}
	api, _, reg := newTestAPI(t, Config{BatchSize: 10})
	w, res := post(t, api.Handler(), bytes.NewReader(corrupt), nil)
	if w.Code != http.StatusBadRequest || len(res.Errors) == 0 {
		t.Fatalf("%d %+v", w.Code, res)
	}
	last := res.Errors[len(res.Errors)-1].Message
	if !strings.HasPrefix(last, "data decoding error: ") {
		t.Errorf("message %q, want the prefix \"data decoding error: \"", last)
	}
	if res.Accepted == 0 || res.Accepted >= 2000 {
		t.Errorf("accepted %d: want the events before the corruption", res.Accepted)
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=decompression"); got != 1 {
		t.Errorf("rejected{decompression} %v", got)
	}
}

func TestEventsContentType(t *testing.T) {
	body := newStream("svc").transactions(1).bytes()
	for ct, want := range map[string]int{
		"":                                     202,
		"application/x-ndjson":                 202,
		"application/x-ndjson; charset=UTF-8":  202,
		"application/json":                     400,
		"text/plain":                           400,
		"multipart/form-data; boundary=abcdef": 400,
	} {
		api, _, _ := newTestAPI(t, Config{})
		req := httptest.NewRequest(http.MethodPost, "/intake/v2/events", bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if w := serve(api.Handler(), req); w.Code != want {
			t.Errorf("Content-Type %q: %d, want %d", ct, w.Code, want)
		}
	}
}

// TestEventsQueueFull: the store refuses the second batch; the first counts as accepted.
func TestEventsQueueFull(t *testing.T) {
	for name, tt := range map[string]struct {
		err        error
		wantStatus int
		wantMsg    string
		reason     string
	}{
		"queue full":    {collector.ErrQueueFull, 503, "cannot handle stream: cannot process batch: queue is full", "queue_full"},
		"wrapped":       {fmt.Errorf("store: %w", collector.ErrQueueFull), 503, "cannot handle stream: cannot process batch: store: queue is full", "queue_full"},
		"shutting down": {collector.ErrShuttingDown, 503, "server is shutting down", "shutting_down"},
		"disk full": {fmt.Errorf("store: disk nearly full: 1.0 MiB free: %w", collector.ErrStorageUnavailable), 503,
			"cannot handle stream: cannot process batch: store: disk nearly full: 1.0 MiB free: storage unavailable", "storage"},
		"other": {errors.New("disk on fire"), 500, "cannot handle stream: cannot process batch: disk on fire", "internal"},
	} {
		t.Run(name, func(t *testing.T) {
			api, rec, reg := newTestAPI(t, Config{BatchSize: 10})
			rec.fail = func(call int, _ *collector.Batch) error {
				if call == 2 {
					return tt.err
				}
				return nil
			}
			w, res := post(t, api.Handler(), bytes.NewReader(newStream("svc").transactions(25).bytes()), nil)
			if w.Code != tt.wantStatus || res.Accepted != 10 || len(res.Errors) != 1 || res.Errors[0].Message != tt.wantMsg {
				t.Errorf("%d %+v, want %d accepted 10 %q", w.Code, res, tt.wantStatus, tt.wantMsg)
			}
			if w.Header().Get("Connection") != "Close" {
				t.Error("no Connection: Close")
			}
			if got := metric(t, reg, "hotpath_intake_rejected_total", "reason="+tt.reason); got != 1 {
				t.Errorf("rejected{%s} %v", tt.reason, got)
			}
		})
	}
}

// TestEventsErrorLimit: at most 5 event errors are listed, then the error that ended the stream; all
// are counted; the status is the highest.
func TestEventsErrorLimit(t *testing.T) {
	api, rec, reg := newTestAPI(t, Config{BatchSize: 5})
	rec.fail = func(call int, _ *collector.Batch) error {
		if call == 2 {
			return collector.ErrQueueFull
		}
		return nil
	}
	body := newStream("svc").transactions(2).invalid(8).transactions(10).bytes()
	w, res := post(t, api.Handler(), bytes.NewReader(body), nil)
	if w.Code != 503 || res.Accepted != 5 || len(res.Errors) != 6 {
		t.Fatalf("%d accepted %d, %d errors: %+v", w.Code, res.Accepted, len(res.Errors), res.Errors)
	}
	for _, e := range res.Errors[:5] {
		if !strings.HasPrefix(e.Message, "decode error: ") || !strings.Contains(e.Document, `"id":12345`) {
			t.Errorf("event error %+v", e)
		}
	}
	if res.Errors[5].Message != "cannot handle stream: cannot process batch: queue is full" {
		t.Errorf("last error %+v", res.Errors[5])
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=invalid"); got != 8 {
		t.Errorf("rejected{invalid} %v, want 8", got)
	}
}

// TestEventsMaxEventSize checks the per-event limit at its boundary, through the handler. APM Server's
// boundary: a line fits when it fits MaxEventSize bytes with its newline.
func TestEventsMaxEventSize(t *testing.T) {
	const limit = 4096
	api, _, reg := newTestAPI(t, Config{MaxEventSize: limit})
	w, res := post(t, api.Handler(), bytes.NewReader(newStream("svc").sizedTransaction(limit-1).transactions(1).bytes()), nil)
	if w.Code != 202 || res.Accepted != 2 {
		t.Errorf("event of %d bytes + newline: %d %+v", limit-1, w.Code, res)
	}
	w, res = post(t, api.Handler(), bytes.NewReader(newStream("svc").sizedTransaction(limit).transactions(1).bytes()), nil)
	if w.Code != 400 || res.Accepted != 1 || len(res.Errors) != 1 || res.Errors[0].Message != "event exceeded the permitted size" {
		t.Errorf("event of %d bytes + newline: %d %+v", limit, w.Code, res)
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=too_large"); got != 1 {
		t.Errorf("rejected{too_large} %v", got)
	}
}

// TestEventsMaxBodyBytes checks the request body limits at their boundaries: as received, and after
// decompression.
func TestEventsMaxBodyBytes(t *testing.T) {
	body := newStream("svc").transactions(50).bytes()
	gz := gzipped(t, body)
	tests := []struct {
		name       string
		cfg        Config
		body       []byte
		wantStatus int
		wantMsg    string
	}{
		{"wire: exactly the limit", Config{MaxBodyBytes: int64(len(body))}, body, 202, ""},
		{"wire: one byte over", Config{MaxBodyBytes: int64(len(body)) - 1}, body, 400,
			fmt.Sprintf("request body exceeded the permitted size of %d bytes", len(body)-1)},
		{"wire, gzip: exactly the limit", Config{MaxBodyBytes: int64(len(gz))}, gz, 202, ""},
		{"wire, gzip: one byte over", Config{MaxBodyBytes: int64(len(gz)) - 1}, gz, 400,
			fmt.Sprintf("request body exceeded the permitted size of %d bytes", len(gz)-1)},
		{"decoded: exactly the limit", Config{MaxDecodedBytes: int64(len(body))}, gz, 202, ""},
		{"decoded: one byte over", Config{MaxDecodedBytes: int64(len(body)) - 1}, gz, 400,
			fmt.Sprintf("decompressed request body exceeded the permitted size of %d bytes", len(body)-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.BatchSize = 10
			api, _, reg := newTestAPI(t, tt.cfg)
			w, res := post(t, api.Handler(), bytes.NewReader(tt.body), nil)
			if w.Code != tt.wantStatus {
				t.Fatalf("%d %+v, want %d", w.Code, res, tt.wantStatus)
			}
			if tt.wantStatus == 202 {
				if res.Accepted != 50 {
					t.Errorf("accepted %d", res.Accepted)
				}
				return
			}
			if last := res.Errors[len(res.Errors)-1].Message; last != tt.wantMsg {
				t.Errorf("message %q, want %q", last, tt.wantMsg)
			}
			// The events read whole before the limit count (with gzip, the limit may cut only the
			// trailer, after every event).
			if res.Accepted < 40 || res.Accepted > 50 {
				t.Errorf("accepted %d: the batches before the limit count", res.Accepted)
			}
			if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=body_too_large"); got != 1 {
				t.Errorf("rejected{body_too_large} %v", got)
			}
		})
	}
}

// blockingProcessor blocks every batch until released, and says when a batch arrived.
type blockingProcessor struct {
	arrived chan struct{}
	release chan struct{}
}

func newBlockingProcessor() *blockingProcessor {
	return &blockingProcessor{arrived: make(chan struct{}, 100), release: make(chan struct{})}
}

func (p *blockingProcessor) ProcessBatch(ctx context.Context, _ *collector.Batch) error {
	p.arrived <- struct{}{}
	select {
	case <-p.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// oneSlot is an API with a single stream slot, whose Processor blocks every batch until released, and
// a stream of one transaction to send it.
type oneSlot struct {
	proc *blockingProcessor
	h    http.Handler
	reg  *prometheus.Registry
	body []byte
}

// newOneSlot returns a oneSlot whose streams wait up to streamWait for the slot.
func newOneSlot(t *testing.T, streamWait time.Duration) *oneSlot {
	proc := newBlockingProcessor()
	api, _, reg := newTestAPI(t, Config{Processor: proc, MaxConcurrentStreams: 1, StreamWait: streamWait})
	return &oneSlot{proc: proc, h: api.Handler(), reg: reg, body: newStream("svc").transactions(1).bytes()}
}

// post sends the stream without checking the answer; any goroutine may call it.
func (o *oneSlot) post() *httptest.ResponseRecorder {
	return serve(o.h, httptest.NewRequest(http.MethodPost, "/intake/v2/events", bytes.NewReader(o.body)))
}

// TestEventsStreamLimit: with every stream slot taken, a new stream waits StreamWait, then gets 503.
func TestEventsStreamLimit(t *testing.T) {
	o := newOneSlot(t, 50*time.Millisecond)
	proc, reg := o.proc, o.reg
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- o.post() }()
	<-proc.arrived // the first stream holds the only slot
	if got := metric(t, reg, "hotpath_intake_streams_in_flight"); got != 1 {
		t.Errorf("streams_in_flight %v, want 1", got)
	}

	start := time.Now()
	w, res := post(t, o.h, bytes.NewReader(o.body), nil)
	if w.Code != 503 || len(res.Errors) != 1 || res.Errors[0].Message != errStreamLimit.Error() {
		t.Errorf("second stream: %d %+v", w.Code, res)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("refused after %s, before StreamWait", waited)
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=stream_limit"); got != 1 {
		t.Errorf("rejected{stream_limit} %v", got)
	}

	close(proc.release)
	if w := <-first; w.Code != 202 {
		t.Errorf("first stream: %d", w.Code)
	}
	if got := metric(t, reg, "hotpath_intake_streams_in_flight"); got != 0 {
		t.Errorf("streams_in_flight %v after the stream ended", got)
	}
}

// TestEventsStreamWaits: a stream that finds no slot gets one as soon as it is freed.
func TestEventsStreamWaits(t *testing.T) {
	o := newOneSlot(t, time.Minute)
	proc, reg := o.proc, o.reg
	results := make(chan int, 2)
	for range 2 {
		go func() { results <- o.post().Code }()
	}
	<-proc.arrived
	waitFor(t, func() bool { return metric(t, reg, "hotpath_intake_streams_waiting") == 1 })
	proc.release <- struct{}{} // the first stream's batch
	<-proc.arrived             // the second stream got the slot
	proc.release <- struct{}{}
	for range 2 {
		if code := <-results; code != 202 {
			t.Errorf("status %d", code)
		}
	}
}

// TestEventsClientGone: a client that disconnects while its stream waits for a slot frees it at once.
func TestEventsClientGone(t *testing.T) {
	o := newOneSlot(t, time.Minute)
	proc, reg := o.proc, o.reg
	go func() { o.post() }()
	<-proc.arrived

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/intake/v2/events", bytes.NewReader(o.body))
		done <- serve(o.h, req)
	}()
	waitFor(t, func() bool { return metric(t, reg, "hotpath_intake_streams_waiting") == 1 })
	cancel()
	if w := <-done; w.Code != 503 || !strings.Contains(w.Body.String(), msgTimeout) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	close(proc.release)
	waitFor(t, func() bool { return metric(t, reg, "hotpath_intake_streams_in_flight") == 0 })
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// postHTTP posts body to srv's path over real HTTP, with the headers given, and returns the status and
// the decoded answer. It fails the test with t.Error, so that any goroutine may call it, and then
// returns status 0.
func postHTTP(t testing.TB, srv *httptest.Server, path string, body io.Reader, header map[string]string) (int, streamResult) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return 0, streamResult{}
	}
	defer resp.Body.Close()
	var res streamResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Errorf("status %d: %v", resp.StatusCode, err)
		return 0, streamResult{}
	}
	return resp.StatusCode, res
}

// TestEventsReadTimeout: a client that stops sending mid-stream is cut off by the server's read
// timeout and answered 503 "request timed out"; what it sent before counts.
func TestEventsReadTimeout(t *testing.T) {
	api, _, reg := newTestAPI(t, Config{BatchSize: 10})
	srv := httptest.NewUnstartedServer(api.Handler())
	srv.Config.ReadTimeout = time.Second // long enough for the 20 events to be read on a loaded machine
	srv.Start()
	defer srv.Close()

	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(newStream("svc").transactions(20).bytes())
		// ... and then nothing, until the test ends.
	}()
	defer pw.Close()
	code, res := postHTTP(t, srv, "/intake/v2/events", pr, nil)
	if code != 503 || res.Accepted != 20 || res.Errors[len(res.Errors)-1].Message != msgTimeout {
		t.Errorf("%d %+v", code, res)
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=timeout"); got != 1 {
		t.Errorf("rejected{timeout} %v", got)
	}
}

// TestEventsMemoryBudget: a stream whose batch would hold more decoded bytes than the budget is refused
// with 503, and what it held is given back. (The decoder's line buffer, MaxEventSize, is not charged.)
func TestEventsMemoryBudget(t *testing.T) {
	body := newStream("svc").transactions(400).bytes() // about 80 KiB of 200-byte events
	for _, tt := range []struct {
		budget     int64
		batch      int
		wantStatus int
	}{
		{budget: 1 << 20, batch: 400, wantStatus: 202},
		{budget: 32 << 10, batch: 400, wantStatus: 503}, // the one batch needs all 80 KiB
		{budget: 32 << 10, batch: 10, wantStatus: 202},  // batches of 2 KiB never hold 32 KiB
	} {
		api, _, reg := newTestAPI(t, Config{MemoryBudget: tt.budget, BatchSize: tt.batch, MaxEventSize: 4096})
		w, res := post(t, api.Handler(), bytes.NewReader(body), nil)
		if w.Code != tt.wantStatus {
			t.Errorf("budget %d, batches of %d: %d %+v, want %d", tt.budget, tt.batch, w.Code, res, tt.wantStatus)
		}
		// The events read before the budget ran out are handed over (and count), as with the body limits.
		if w.Code == 503 && (res.Accepted >= 400 || res.Errors[0].Message != errMemoryBudget.Error()) {
			t.Errorf("refusal %+v", res)
		}
		if got := metric(t, reg, "hotpath_intake_decoded_bytes_in_flight"); got != 0 {
			t.Errorf("%v bytes still counted after the stream", got)
		}
	}
}

// TestBlankLinesHoldNoBudget: a body of metadata and then only blank lines, far more of them than the
// memory budget, is answered as APM Server answers it (202, nothing accepted), not 503 "retry later";
// past MaxDecodedBytes it is the body limit's 400.
func TestBlankLinesHoldNoBudget(t *testing.T) {
	meta := newStream("svc").bytes()
	for _, tt := range []struct {
		blank      int
		wantStatus int
	}{
		{blank: 1 << 20, wantStatus: 202},
		{blank: 4 << 20, wantStatus: 400},
	} {
		api, _, reg := newTestAPI(t, Config{MemoryBudget: 64 << 10, MaxEventSize: 4096, MaxDecodedBytes: 2 << 20})
		body := append(slices.Clone(meta), bytes.Repeat([]byte("\n"), tt.blank)...)
		w, res := post(t, api.Handler(), bytes.NewReader(body), nil)
		if w.Code != tt.wantStatus || res.Accepted != 0 {
			t.Errorf("%d blank lines: %d %+v, want %d", tt.blank, w.Code, res, tt.wantStatus)
		}
		if got := metric(t, reg, "hotpath_intake_decoded_bytes_in_flight"); got != 0 {
			t.Errorf("%v bytes still counted after the stream", got)
		}
	}
}

// TestStreamSlotsReuseDecoders: streams one after another reuse one decoder; a decoder is made only
// for a stream that runs while the others are busy.
func TestStreamSlotsReuseDecoders(t *testing.T) {
	api, _, _ := newTestAPI(t, Config{MaxConcurrentStreams: 8})
	body := newStream("svc").transactions(3).bytes()
	for range 20 {
		if w, _ := post(t, api.Handler(), bytes.NewReader(body), nil); w.Code != 202 {
			t.Fatal(w.Code)
		}
	}
	if n := len(api.streams.idle); n != 1 {
		t.Errorf("%d decoders after 20 streams one at a time, want 1", n)
	}
}
