package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"go.elastic.co/apm/v2/transport"
)

// timedTransport is the agent's own HTTP transport, unchanged (its other methods, the server version
// and central configuration, are the embedded transport's), timing each intake request. The agent
// stops moving events from its ring buffer into the request once the request is full (750 KB
// compressed) and starts the next only when the answer comes: the time from the body's last byte to
// the answer is how long the ring buffer must hold what the application records meanwhile.
type timedTransport struct {
	*transport.HTTPTransport

	mu sync.Mutex
	rt requestTimes // guarded by mu
}

// requestTimes are the durations of the agent's intake requests.
type requestTimes struct {
	total []time.Duration // request start to answer
	tail  []time.Duration // the body's last byte read to the answer
	bytes int64           // request bodies, as sent (compressed)
}

func (t *timedTransport) SendStream(ctx context.Context, r io.Reader) error {
	start := time.Now()
	er := &eofReader{r: r}
	err := t.HTTPTransport.SendStream(ctx, er)
	end := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rt.total = append(t.rt.total, end.Sub(start))
	if !er.eof.IsZero() {
		t.rt.tail = append(t.rt.tail, end.Sub(er.eof))
	}
	t.rt.bytes += er.n
	return err
}

func (t *timedTransport) times() requestTimes {
	t.mu.Lock()
	defer t.mu.Unlock()
	return requestTimes{total: slices.Clone(t.rt.total), tail: slices.Clone(t.rt.tail), bytes: t.rt.bytes}
}

// eofReader notes when its reader reached the end.
type eofReader struct {
	r   io.Reader
	n   int64
	eof time.Time
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.n += int64(n)
	if err == io.EOF && e.eof.IsZero() {
		e.eof = time.Now()
	}
	return n, err
}

func (rt requestTimes) print(w io.Writer) {
	n := len(rt.total)
	if n == 0 {
		return
	}
	total, tail := slices.Clone(rt.total), slices.Clone(rt.tail)
	slices.Sort(total)
	slices.Sort(tail)
	fmt.Fprintf(w, "  requests: %d, %.0f KiB each on the wire; duration p50 %s, max %s\n", n,
		float64(rt.bytes)/float64(n)/1024, round(percentile(total, 50)), round(total[n-1]))
	if m := len(tail); m > 0 {
		fmt.Fprintf(w, "  last body byte to answer: p50 %s  p90 %s  p99 %s  max %s\n",
			round(percentile(tail, 50)), round(percentile(tail, 90)), round(percentile(tail, 99)), round(tail[m-1]))
	}
}
