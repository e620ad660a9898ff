package intake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// deadlineRecorder is a ResponseWriter whose connection read deadline is recorded (what
// http.ResponseController sets).
type deadlineRecorder struct {
	httptest.ResponseRecorder
	deadlines []time.Time
}

func (d *deadlineRecorder) SetReadDeadline(t time.Time) error {
	d.deadlines = append(d.deadlines, t)
	return nil
}

// TestPacerDeadline: the read deadline is the grace from the start plus 1/MinStreamRate s per byte
// received plus the time the server spent out of Read, moved in steps of at least paceStep, and never
// past the server's read timeout. In a synctest bubble: time moves only where the test sleeps.
func TestPacerDeadline(t *testing.T) {
	synctest.Test(t, testPacerDeadline)
}

func testPacerDeadline(t *testing.T) {
	api, _, _ := newTestAPI(t, Config{StreamGrace: 10 * time.Second, MinStreamRate: 1000})
	srv := &http.Server{ReadTimeout: 30 * time.Second}
	r := httptest.NewRequest(http.MethodPost, "/intake/v2/events", strings.NewReader(strings.Repeat("x", 30_000)))
	r = r.WithContext(context.WithValue(r.Context(), http.ServerContextKey, srv))
	w := &deadlineRecorder{}
	p := api.newPacer(w, r)
	buf := make([]byte, 100)
	read := func(n int) {
		t.Helper()
		if _, err := io.ReadFull(p, buf[:n]); err != nil {
			t.Fatal(err)
		}
	}
	read(100) // deadline set before the first read: start + grace
	want := []time.Time{p.start.Add(10 * time.Second)}
	read(100) // 100, then 200 bytes buy 200 ms before the next reads: less than a step, the deadline stays
	read(50)
	read(1) // 250 bytes before this read: the deadline moves by 250 ms
	want = append(want, p.start.Add(10*time.Second+250*time.Millisecond))
	// The server busy for 5 s between two reads (decoding, the store's backpressure): the client's
	// bytes wait in the connection, and the deadline moves by those 5 s.
	time.Sleep(5 * time.Second)
	read(1)
	want = append(want, p.start.Add(15*time.Second+251*time.Millisecond))
	if fmt.Sprint(w.deadlines) != fmt.Sprint(want) {
		t.Fatalf("deadlines %v, want %v", w.deadlines, want)
	}
	// 20 s of credit would pass the server's read timeout: the deadline stops there.
	for range 200 {
		read(100)
	}
	if last := w.deadlines[len(w.deadlines)-1]; !last.Equal(p.start.Add(30 * time.Second)) {
		t.Errorf("deadline %v after 20 kB, want the read timeout's %v", last, p.start.Add(30*time.Second))
	}
}

// TestMinStreamRate over real HTTP: a stream sending four times MinStreamRate after its grace is
// answered 202; one sending a byte every 100 ms loses its slot at the end of the grace, answered 503
// "request timed out" with the events it completed kept.
func TestMinStreamRate(t *testing.T) {
	api, _, reg := newTestAPI(t, Config{StreamGrace: time.Second, MinStreamRate: 1024, BatchSize: 1})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()

	body := newStream("paced").transactions(60).bytes()
	send := func(chunk int, every time.Duration) (int, streamResult, time.Duration) {
		pr, pw := io.Pipe()
		go func() {
			rest := body
			for len(rest) > 0 {
				n := min(chunk, len(rest))
				if _, err := pw.Write(rest[:n]); err != nil {
					return // the server answered and closed
				}
				rest = rest[n:]
				time.Sleep(every) // the client's pace, not synchronisation
			}
			pw.Close()
		}()
		defer pw.Close()
		start := time.Now()
		code, res := postHTTP(t, srv, "/intake/v2/events?verbose", pr, nil)
		return code, res, time.Since(start)
	}

	code, res, took := send(512, 125*time.Millisecond) // 4 KiB/s: the body (about 13 KB) in about 3 s
	if code != 202 || res.Accepted != 60 {
		t.Errorf("4 × MinStreamRate: %d %+v after %v", code, res, took)
	}
	code, res, took = send(1, 100*time.Millisecond)
	if code != 503 || res.Errors[len(res.Errors)-1].Message != msgTimeout || took > 3*time.Second {
		t.Errorf("10 bytes/s: %d %+v after %v, want 503 at the grace's end", code, res, took)
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=too_slow"); got != 1 {
		t.Errorf("rejected{too_slow} %v, want 1", got)
	}
}

// TestProfileUploadMinRate: a profile upload is held to the same minimum rate: one sending a byte every
// 100 ms loses its slot at the end of the grace, 503 "request timed out" (reason too_slow), and the slot
// is free for the next upload.
func TestProfileUploadMinRate(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, sink, _ := newProfileAPI(t, Config{StreamGrace: time.Second, MinStreamRate: 1024, Registerer: reg}, ProfileConfig{MaxConcurrent: 1})
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, ctype := multipartBody(t, metaPart(testMetadata), profPart("goroutine", goroutinePprof(t)))
	post := func(r io.Reader) (int, string, time.Duration) {
		start := time.Now()
		resp, err := srv.Client().Post(srv.URL+"/intake/v2/profile", ctype, r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), time.Since(start)
	}
	pr, pw := io.Pipe()
	go func() {
		for _, c := range body {
			if _, err := pw.Write([]byte{c}); err != nil {
				return // the server answered and closed
			}
			time.Sleep(100 * time.Millisecond) // the client's pace, not synchronisation
		}
		pw.Close()
	}()
	defer pw.Close()
	code, answer, took := post(pr)
	if code != 503 || !strings.Contains(answer, msgTimeout) || took > 3*time.Second {
		t.Errorf("10 bytes/s: %d %s after %v, want 503 at the grace's end", code, answer, took)
	}
	if got := metric(t, reg, "hotpath_intake_rejected_total", "reason=too_slow"); got != 1 {
		t.Errorf("rejected{too_slow} %v, want 1", got)
	}
	if code, answer, _ := post(bytes.NewReader(body)); code != 202 || len(sink.profiles()) != 1 {
		t.Errorf("the next upload, at once: %d %s", code, answer)
	}
}
