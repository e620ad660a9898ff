//go:build faults

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const hostileMetadata = `{"metadata":{"service":{"name":"hostile","agent":{"name":"go","version":"2.7.0"}}}}` + "\n"

// rootProber asks GET / every 50 ms and keeps the slowest answer (a failure counts as infinitely slow).
type rootProber struct {
	mu      sync.Mutex
	slowest time.Duration
	fails   []string
	n       int
	stop    chan struct{}
	done    chan struct{}
}

func startRootProber(url string) *rootProber {
	p := &rootProber{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			resp, err := client.Get(url + "/")
			took := time.Since(start)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			p.mu.Lock()
			p.n++
			p.slowest = max(p.slowest, took)
			if err != nil || resp.StatusCode != http.StatusOK {
				p.fails = append(p.fails, fmt.Sprint(err, resp))
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// check stops the prober and fails the test if GET / failed or took 1 s or more.
func (p *rootProber) check(t *testing.T, what string) time.Duration {
	t.Helper()
	close(p.stop)
	<-p.done
	if len(p.fails) > 0 {
		t.Errorf("%s: GET / failed %d times: %v", what, len(p.fails), p.fails[0])
	}
	if p.slowest >= time.Second {
		t.Errorf("%s: GET / took %v", what, p.slowest)
	}
	return p.slowest
}

// rawRequest sends head and body on a new connection and returns the answer's status line and how
// long the collector took to answer or close.
func rawRequest(t *testing.T, addr string, head []byte, body io.Reader) (string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	go func() {
		if _, err := c.Write(head); err != nil {
			return
		}
		if body != nil {
			_, _ = io.Copy(c, body)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "closed: " + err.Error(), time.Since(start)
	}
	return strings.TrimSpace(line), time.Since(start)
}

// slowReader gives one byte per interval.
type slowReader struct {
	b        []byte
	interval time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.interval) // the client's pace: this is the fault, not a synchronisation
	p[0], r.b = r.b[0], r.b[1:]
	return 1, nil
}

// gzipBomb is a gzip body (concatenated members, as gzip allows) of the metadata line and then
// members×16 MiB of newlines: 16 KiB a member, so 256 members are 4 MiB inflating to 4 GiB.
func gzipBomb(members int) []byte {
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	_, _ = zw.Write(bytes.Repeat([]byte{'\n'}, 16<<20))
	_ = zw.Close()
	var out bytes.Buffer
	zw = gzip.NewWriter(&out)
	_, _ = zw.Write([]byte(hostileMetadata))
	_ = zw.Close()
	for range members {
		out.Write(one.Bytes())
	}
	return out.Bytes()
}

// TestFaultHostileClients: hostile clients against a collector process, each bounded in time and in the
// collector's memory, while GET / answers within 1 s throughout: a gzip bomb (4 MiB inflating to 4
// GiB, more than MaxDecodedBytes) four at once, a body sent one byte a second, 1 MB of headers (and 2 MB), and 2,000 idle
// connections.
func TestFaultHostileClients(t *testing.T) {
	if raceEnabled {
		t.Fatal("run the fault suite without -race: it measures the collector's memory")
	}
	proc := startCollectorProcess(t, "127.0.0.1:0", t.TempDir())
	defer proc.kill(t)
	pid := proc.cmd.Process.Pid
	addr := strings.TrimPrefix(proc.url, "http://")
	intakeHead := func(extra string, length int) []byte {
		h := "POST /intake/v2/events HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-ndjson\r\n" + extra
		if length >= 0 {
			h += fmt.Sprintf("Content-Length: %d\r\n", length)
		}
		return []byte(h + "\r\n")
	}

	t.Run("gzip bomb", func(t *testing.T) {
		bomb := gzipBomb(256)
		p := startRootProber(proc.url)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, took := rawRequest(t, addr, intakeHead("Content-Encoding: gzip\r\n", len(bomb)), bytes.NewReader(bomb))
				t.Logf("bomb %d (%d KiB inflating to 4 GiB): %q after %v", i, len(bomb)>>10, status, took.Round(time.Millisecond))
				// 400 once MaxDecodedBytes (512 MiB) is inflated; on a busy machine the server's read
				// timeout (30 s) may end it first, closing the connection.
				if !strings.Contains(status, " 400 ") && !strings.HasPrefix(status, "closed") || took > 35*time.Second {
					t.Errorf("gzip bomb: %q after %v", status, took)
				}
			}()
		}
		wg.Wait()
		t.Logf("GET / slowest %v", p.check(t, "gzip bomb"))
	})

	t.Run("one byte a second", func(t *testing.T) {
		p := startRootProber(proc.url)
		body := []byte(hostileMetadata + strings.Repeat(`{"transaction":{}}`+"\n", 10))
		status, took := rawRequest(t, addr, intakeHead("", len(body)), &slowReader{b: body, interval: time.Second})
		t.Logf("1 B/s body: %q after %v", status, took.Round(time.Millisecond))
		if !strings.Contains(status, " 503 ") && !strings.Contains(status, " 408 ") && !strings.HasPrefix(status, "closed") {
			t.Errorf("1 B/s body: %q", status)
		}
		if took > 40*time.Second {
			t.Errorf("1 B/s body held for %v", took)
		}
		t.Logf("GET / slowest %v", p.check(t, "one byte a second"))
	})

	t.Run("1 MB of headers", func(t *testing.T) {
		p := startRootProber(proc.url)
		body := []byte(hostileMetadata)
		for _, tc := range []struct {
			size int
			want string
		}{{1_000_000, " 202 "}, {2 << 20, " 431 "}} {
			var h strings.Builder
			for i := 0; h.Len() < tc.size; i++ {
				fmt.Fprintf(&h, "X-Pad-%d: %s\r\n", i, strings.Repeat("a", 1000))
			}
			status, took := rawRequest(t, addr, intakeHead(h.String(), len(body)), bytes.NewReader(body))
			t.Logf("%d bytes of headers: %q after %v", h.Len(), status, took.Round(time.Millisecond))
			if !strings.Contains(status, tc.want) || took > 10*time.Second {
				t.Errorf("%d bytes of headers: %q after %v, want%s", h.Len(), status, took, tc.want)
			}
		}
		t.Logf("GET / slowest %v", p.check(t, "1 MB of headers"))
	})

	t.Run("idle connections", func(t *testing.T) {
		const n = 2000
		p := startRootProber(proc.url)
		before := procStatus(t, pid, "VmRSS")
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("connection %d: %v", len(conns), err)
			}
			conns = append(conns, c)
		}
		start := time.Now()
		held := procStatus(t, pid, "VmRSS")
		// The collector closes a connection that sends no request header within its header timeout.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		var mu sync.Mutex
		closed, last := 0, time.Duration(0)
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dl, _ := ctx.Deadline()
				_ = c.SetReadDeadline(dl)
				if _, err := c.Read(make([]byte, 1)); err == io.EOF {
					mu.Lock()
					closed++
					last = max(last, time.Since(start))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		t.Logf("%d idle connections: RSS %d MiB before, %d MiB with them open; %d closed by the collector, the last after %v",
			n, before>>20, held>>20, closed, last.Round(time.Millisecond))
		if closed != n {
			t.Errorf("%d of %d idle connections closed within a minute", closed, n)
		}
		t.Logf("GET / slowest %v", p.check(t, "idle connections"))
	})

	peak := procStatus(t, pid, "VmHWM")
	t.Logf("peak RSS over the hostile clients: %d MiB", peak>>20)
	if peak >= memloadPeakBound {
		t.Errorf("peak resident memory %d MiB, bound %d MiB", peak>>20, memloadPeakBound>>20)
	}
}
