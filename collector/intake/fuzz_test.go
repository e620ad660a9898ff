package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

// FuzzEvents feeds arbitrary bodies, with and without compression headers, to the events endpoint:
// whatever comes in, the answer is one of APM Server's statuses with a well-formed body, and accepted
// is exactly what the Processor took. Run it with a short minimisation time (the fuzzer otherwise
// spends a minute shrinking each new input): go test ./collector/intake -run X -fuzz FuzzEvents
// -fuzzminimizetime 2s.
func FuzzEvents(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "apm-server", "intake-v2", "*.ndjson"))
	if len(files) == 0 {
		f.Fatal("no intake fixtures in ../testdata/apm-server/intake-v2")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Small seeds only: the fuzzer minimises every new input it finds, at a cost that grows with
		// the input's size.
		if len(b) > 8<<10 {
			b = b[:8<<10]
		}
		f.Add(b, "")
		f.Add(gzipped(f, b), "gzip")
		f.Add(zlibbed(f, b), "")
	}
	f.Add([]byte{0x1f, 0x8b, 0x08}, "")
	f.Add([]byte{0x78}, "deflate")
	f.Add([]byte{}, "gzip")

	api, _, _ := newTestAPI(f, Config{MaxEventSize: 4096, BatchSize: 3, MaxDecodedBytes: 1 << 20})
	// Count what the decoder hands over, before enrich drops unsampled transactions (which count as
	// accepted, as in APM Server).
	var took atomic.Int64
	enriched := api.processor
	api.processor = collector.ProcessBatchFunc(func(ctx context.Context, b *collector.Batch) error {
		took.Add(int64(len(*b)))
		return enriched.ProcessBatch(ctx, b)
	})
	h := api.Handler()
	f.Fuzz(func(t *testing.T, body []byte, encoding string) {
		before := took.Load()
		req := httptest.NewRequest(http.MethodPost, "/intake/v2/events?verbose", bytes.NewReader(body))
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		w := serve(h, req)
		switch w.Code {
		case http.StatusAccepted, http.StatusBadRequest:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var res streamResult
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		if took := took.Load() - before; int64(res.Accepted) != took {
			t.Fatalf("accepted %d, the processor took %d", res.Accepted, took)
		}
		if (w.Code == http.StatusAccepted) != (len(res.Errors) == 0) || len(res.Errors) > 6 {
			t.Fatalf("status %d with %d errors", w.Code, len(res.Errors))
		}
	})
}
