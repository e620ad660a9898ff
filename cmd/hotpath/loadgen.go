package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// loadgenConfig configures `hotpath loadgen`.
type loadgenConfig struct {
	url         string
	mode        string // "intake" or "agent"
	duration    time.Duration
	concurrency int     // intake: concurrent streams
	events      int     // intake: events per request (rounded to whole traces)
	rate        float64 // intake: events/s in all (0: as fast as possible); agent: transactions/s
	spans       int     // spans per transaction
	gzip        bool
	secretToken string
	apiKey      string // base64(id:key), as ELASTIC_APM_API_KEY
	service     string
	sink        bool // send to an in-process server that only reads the bodies, instead of url
	clients     int  // intake: loopback addresses the streams come from (127.0.0.1 .. 127.0.0.N)
}

func parseLoadgenFlags(args []string, stderr io.Writer) (loadgenConfig, error) {
	fs := newFlagSet("loadgen", stderr,
		"Sends traces to a collector (or an APM Server) and reports what was acknowledged.",
		"  -mode intake: concurrent intake v2 streams of synthetic traces, shaped as the Go agent's;",
		"                reports events/s acknowledged (202) and the 202 latency.",
		"  -mode agent:  the real Elastic Go agent, paced at -rate transactions/s with -spans spans each;",
		"                reports the agent's own statistics (sent, dropped). ELASTIC_APM_* variables apply.",
	)
	var cfg loadgenConfig
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8200", "collector `URL`")
	fs.StringVar(&cfg.mode, "mode", "intake", "intake or agent")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how `long` to send")
	fs.IntVar(&cfg.concurrency, "concurrency", 8, "intake mode: concurrent streams")
	fs.IntVar(&cfg.events, "events", 600, "intake mode: events per request")
	fs.Float64Var(&cfg.rate, "rate", 0, "intake mode: events/s in all, 0 for as fast as acknowledged; agent mode: transactions/s (default 20000)")
	fs.IntVar(&cfg.spans, "spans", 5, "spans per transaction")
	fs.BoolVar(&cfg.gzip, "gzip", true, "intake mode: gzip request bodies")
	fs.StringVar(&cfg.secretToken, "secret-token", os.Getenv("ELASTIC_APM_SECRET_TOKEN"), "secret `token` (default $ELASTIC_APM_SECRET_TOKEN)")
	fs.StringVar(&cfg.apiKey, "api-key", os.Getenv("ELASTIC_APM_API_KEY"), "API key, `base64(id:key)` (default $ELASTIC_APM_API_KEY)")
	fs.StringVar(&cfg.service, "service", "loadgen", "service name of the events")
	fs.IntVar(&cfg.clients, "clients", 1, "intake mode: send from this many loopback addresses, 127.0.0.1 and up, in turn (the collector gives one address a quarter of its stream slots); -url must be on loopback")
	fs.BoolVar(&cfg.sink, "sink", false, "send to an in-process server that reads and discards the bodies instead of -url: the baseline of what the client side alone can do")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.mode != "intake" && cfg.mode != "agent":
		return cfg, fmt.Errorf("loadgen: unknown -mode %q", cfg.mode)
	case cfg.clients < 1 || cfg.clients > 254:
		return cfg, errors.New("loadgen: -clients must be 1 to 254")
	case cfg.concurrency < 1 || cfg.events < 1+cfg.spans || cfg.spans < 0 || cfg.duration <= 0 || cfg.rate < 0:
		return cfg, errors.New("loadgen: -concurrency, -events (at least one trace), -spans, -duration and -rate must be positive")
	}
	if cfg.mode == "agent" && cfg.rate == 0 {
		cfg.rate = 20000
	}
	return cfg, nil
}

// runLoadgen is `hotpath loadgen`.
func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLoadgenFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.sink {
		url, stop, err := startSink()
		if err != nil {
			return err
		}
		defer stop()
		cfg.url = url
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	if cfg.mode == "agent" {
		rep, err := runAgentLoad(ctx, cfg)
		if err != nil {
			return err
		}
		rep.print(stdout)
		if !rep.ok() {
			return errors.New("loadgen: the agent dropped or failed to send events")
		}
		return nil
	}
	g := newIntakeLoad(cfg)
	rep := g.run(ctx)
	rep.print(stdout, cfg)
	if rep.acked == 0 {
		return errors.New("loadgen: nothing was acknowledged")
	}
	return nil
}

// intakeLoad sends intake streams from concurrent workers and records what was acknowledged.
type intakeLoad struct {
	cfg     loadgenConfig
	gen     *payloadGen
	clients []*http.Client // one per source address; worker i sends with clients[i%len]
	traces  int            // per request

	mu  sync.Mutex // guards rep
	rep intakeReport
}

// intakeReport is the outcome of an intake load.
type intakeReport struct {
	took        time.Duration
	requests    int
	acked       int             // events in requests answered 202
	wireBytes   int64           // request bodies sent, as sent
	statuses    map[int]int     // answers by status
	firstByCode map[int]string  // the first answer's message of each status other than 202
	failures    int             // requests that got no answer (connection refused, reset...)
	firstErrors []string        // the first few failures and refusals
	latencies   []time.Duration // of 202 answers
	// ackedTraces are the trace numbers of the traces a 202 covered, as [first, first+n) ranges.
	ackedTraces [][2]uint64
}

func newIntakeLoad(cfg loadgenConfig) *intakeLoad {
	traces := cfg.events / (1 + cfg.spans)
	l := &intakeLoad{
		cfg:    cfg,
		gen:    newPayloadGen(cfg.service, cfg.spans),
		traces: traces,
		rep:    intakeReport{statuses: map[int]int{}},
	}
	for i := range max(cfg.clients, 1) {
		tr := &http.Transport{MaxIdleConnsPerHost: cfg.concurrency, DisableCompression: true}
		if cfg.clients > 1 {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}, Timeout: 30 * time.Second}
			tr.DialContext = d.DialContext
		}
		l.clients = append(l.clients, &http.Client{Timeout: time.Minute, Transport: tr})
	}
	return l
}

// run sends until ctx is done, waits for the requests in flight, and returns the report.
func (l *intakeLoad) run(ctx context.Context) intakeReport {
	start := time.Now()
	var wg sync.WaitGroup
	for i := range l.cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.worker(ctx, l.clients[i%len(l.clients)])
		}()
	}
	wg.Wait()
	for _, c := range l.clients {
		c.CloseIdleConnections()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rep.took = time.Since(start)
	return l.rep
}

// acked returns the events acknowledged so far.
func (l *intakeLoad) acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rep.acked
}

func (l *intakeLoad) worker(ctx context.Context, client *http.Client) {
	var raw []byte // a stream, reused: it grows to a request's size once
	var body bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&body, gzip.BestSpeed) // BestSpeed is a valid level
	// Pacing: each worker sends its share of the rate, a request every interval.
	var interval time.Duration
	if l.cfg.rate > 0 {
		perRequest := float64(l.traces * l.gen.eventsPerTrace())
		interval = time.Duration(perRequest * float64(l.cfg.concurrency) / l.cfg.rate * float64(time.Second))
	}
	next := time.Now()
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			next = next.Add(interval)
		}
		var first uint64
		raw, first = l.gen.appendStream(raw[:0], l.traces, time.Now())
		payload := raw
		if l.cfg.gzip {
			body.Reset()
			zw.Reset(&body)
			_, _ = zw.Write(raw) // writes to a bytes.Buffer do not fail
			_ = zw.Close()
			payload = body.Bytes()
		}
		// A request once sent is waited for, even past the end of the run: a request cut off would be
		// neither acknowledged nor refused, and the collector's counts would not match the report.
		status, msg, took, err := l.send(context.WithoutCancel(ctx), client, payload)
		l.record(status, msg, took, err, len(payload), first)
		if err != nil || status == http.StatusServiceUnavailable {
			// The collector is down or full: back off a little, as agents do.
			backoff = min(max(2*backoff, 5*time.Millisecond), 200*time.Millisecond)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
		} else {
			backoff = 0
		}
	}
}

// send posts one stream and returns the answer's status and body.
func (l *intakeLoad) send(ctx context.Context, client *http.Client, payload []byte) (int, string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.cfg.url+"/intake/v2/events", bytes.NewReader(payload))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if l.cfg.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	switch {
	case l.cfg.apiKey != "":
		req.Header.Set("Authorization", "ApiKey "+l.cfg.apiKey)
	case l.cfg.secretToken != "":
		req.Header.Set("Authorization", "Bearer "+l.cfg.secretToken)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	took := time.Since(start)
	if err != nil {
		// The answer's status came, its body did not: it still says what happened.
		return resp.StatusCode, "", took, nil
	}
	return resp.StatusCode, string(bytes.TrimSpace(msg)), took, nil
}

func (l *intakeLoad) record(status int, msg string, took time.Duration, err error, size int, first uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &l.rep
	r.requests++
	r.wireBytes += int64(size)
	switch {
	case err != nil:
		r.failures++
		if len(r.firstErrors) < 5 {
			r.firstErrors = append(r.firstErrors, err.Error())
		}
		return
	case status == http.StatusAccepted:
		r.acked += l.traces * l.gen.eventsPerTrace()
		r.latencies = append(r.latencies, took)
		r.ackedTraces = append(r.ackedTraces, [2]uint64{first, first + uint64(l.traces)})
	default:
		if len(r.firstErrors) < 5 {
			r.firstErrors = append(r.firstErrors, strconv.Itoa(status)+": "+msg)
		}
		if _, ok := r.firstByCode[status]; !ok {
			if r.firstByCode == nil {
				r.firstByCode = map[int]string{}
			}
			r.firstByCode[status] = msg
		}
	}
	r.statuses[status]++
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(sorted)-1))
	return sorted[i]
}

func (r intakeReport) print(w io.Writer, cfg loadgenConfig) {
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	secs := r.took.Seconds()
	fmt.Fprintf(w, "loadgen: intake, %d streams, %d events per request, gzip=%t, %.1fs\n",
		cfg.concurrency, cfg.events/(1+cfg.spans)*(1+cfg.spans), cfg.gzip, secs)
	fmt.Fprintf(w, "  acknowledged: %d events in %d requests = %.0f events/s (%.1f MB/s on the wire)\n",
		r.acked, r.statuses[http.StatusAccepted], float64(r.acked)/secs, float64(r.wireBytes)/secs/1e6)
	if n := len(lat); n > 0 {
		fmt.Fprintf(w, "  202 latency:  p50 %s  p90 %s  p99 %s  max %s\n",
			round(percentile(lat, 50)), round(percentile(lat, 90)), round(percentile(lat, 99)), round(lat[n-1]))
	}
	for status, n := range r.statuses {
		if status != http.StatusAccepted {
			fmt.Fprintf(w, "  answered %d: %d requests\n", status, n)
		}
	}
	if r.failures > 0 {
		fmt.Fprintf(w, "  no answer: %d requests\n", r.failures)
	}
	for _, e := range r.firstErrors {
		fmt.Fprintf(w, "    %s\n", e)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
