package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"

	"github.com/hotpath-apm/hotpath/internal/selfmetrics"
	"github.com/hotpath-apm/hotpath/internal/wait"
)

// Spool is what the Exporter needs from the store: an append-only log of events numbered from 1, with
// named durable cursors that retention respects. collector/store/pebble implements it as it is.
type Spool interface {
	// RegisterCursor creates the named cursor at the oldest stored event, or returns the saved position
	// of an existing one: the sequence number of the next event to export.
	RegisterCursor(name string) (uint64, error)
	// CommitCursor durably moves the named cursor to pos: every event before pos is done.
	CommitCursor(name string, pos uint64) error
	// LastSeq returns the sequence number of the newest durably stored event (0 when none).
	LastSeq() uint64
	// WaitFor blocks until LastSeq() >= seq or ctx ends.
	WaitFor(ctx context.Context, seq uint64) error
	// ReadFrom returns, in order, up to limit stored events with sequence numbers from `from` on; none
	// when there is nothing after from yet.
	ReadFrom(ctx context.Context, from uint64, limit int) ([]collector.Record, error)
}

// Config configures an Exporter. Zero values mean the documented default; only URLs is required.
type Config struct {
	// ClientConfig says where Elasticsearch is and how to authenticate.
	ClientConfig
	// CursorName names the exporter's cursor in the store. Collectors that share a store directory must
	// not share a name; collectors with their own stores may (there is no state in Elasticsearch).
	// Default: "elasticsearch".
	CursorName string
	// FlushBytes sends a bulk request once its uncompressed body reaches this size. Default: 5 MiB
	// (Elasticsearch's recommended 5-15 MB per request; its limit is 100 MB).
	FlushBytes int
	// FlushInterval sends a bulk request that is not full once its oldest document has waited this
	// long. Default: 1s (APM Server's default).
	FlushInterval time.Duration
	// Compression is the gzip level of request bodies, 1 (fastest) to 9, or -1 for none. Default: 1.
	Compression int
	// MaxInFlight is how many bulk requests may be outstanding at once; the cursor still advances
	// in order. A cluster takes a few hundred milliseconds for a 5 MiB bulk request, so it takes
	// several in flight to export 50,000 events/s. Default: 4.
	MaxInFlight int
	// RequestTimeout bounds one bulk request, from sending it to reading its answer; a request that
	// times out is sent again. Default: 30s.
	RequestTimeout time.Duration
	// RetryBackoff is the wait before the first retry; it doubles with every retry up to
	// MaxRetryBackoff, with jitter. Defaults: 500ms and 30s.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// Registerer receives the exporter's metrics (hotpath_elasticsearch_*). Default: none.
	Registerer prometheus.Registerer
	// Logger receives failures. Default: no logging.
	Logger *zap.Logger
	// Aggregation configures APM Server's aggregated metricsets, written when the spool is a
	// StateSpool (see aggregate_export.go).
	Aggregation AggregationConfig
}

func (c *Config) setDefaults() error {
	if c.CursorName == "" {
		c.CursorName = "elasticsearch"
	}
	if c.FlushBytes <= 0 {
		c.FlushBytes = 5 << 20
	}
	if c.FlushBytes > 90<<20 {
		return fmt.Errorf("elasticsearch: FlushBytes %d is over Elasticsearch's 100 MB request limit", c.FlushBytes)
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	switch {
	case c.Compression == 0:
		c.Compression = 1
	case c.Compression == -1:
	case c.Compression < 1 || c.Compression > 9:
		return fmt.Errorf("elasticsearch: compression level %d is not 1-9 or -1", c.Compression)
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 4
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 500 * time.Millisecond
	}
	if c.MaxRetryBackoff <= 0 {
		c.MaxRetryBackoff = 30 * time.Second
	}
	if c.MaxRetryBackoff < c.RetryBackoff {
		c.MaxRetryBackoff = c.RetryBackoff
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return nil
}

// readChunk is how many events the exporter asks the store for at a time.
const readChunk = 512

// Exporter copies every event of the store to Elasticsearch, in order, and advances its durable cursor
// only over events Elasticsearch has confirmed (or refused for good): after an outage or a restart it
// resumes from the cursor, so nothing acknowledged to an agent is lost. See Config for batching,
// compression and retries.
type Exporter struct {
	cfg       Config
	spool     Spool
	client    *elasticsearch.Client
	transport *http.Transport
	metrics   *metrics
	log       *zap.Logger
	// confirmed is the cursor position last committed: every event before it is done.
	confirmed atomic.Uint64
	lag       prometheus.GaugeFunc
	running   atomic.Bool

	// agg writes the aggregated metricsets; nil when the spool keeps no cursor state or they are off.
	agg *aggregation

	mu sync.Mutex
	// advanced is closed and replaced each time confirmed moves (see WaitConfirmed); guarded by mu.
	advanced chan struct{}
}

// New returns an Exporter that reads spool. It registers its metrics with cfg.Registerer and does no
// I/O: Run connects.
func New(cfg Config, spool Spool) (*Exporter, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	c, tr, err := newClient(cfg.ClientConfig)
	if err != nil {
		return nil, err
	}
	x := &Exporter{cfg: cfg, spool: spool, client: c, transport: tr, metrics: newMetrics(), log: cfg.Logger,
		advanced: make(chan struct{})}
	x.lag = selfmetrics.GaugeFunc("hotpath_elasticsearch_lag_events", "Stored events not yet confirmed by Elasticsearch.",
		func() float64 { return float64(x.Lag()) })
	cs := append(x.metrics.collectors(), x.lag)
	if sp, ok := spool.(StateSpool); ok && !cfg.Aggregation.Disabled {
		x.agg = newAggregation(cfg.Aggregation, cfg.CursorName+"-metrics", sp)
		cs = append(cs, x.agg.collectors()...)
	}
	if err := selfmetrics.Register(cfg.Registerer, cs...); err != nil {
		return nil, fmt.Errorf("elasticsearch: register metrics: %w", err)
	}
	return x, nil
}

// Close releases the exporter's connections; call it after Run returned. It unregisters nothing:
// metrics stay readable.
func (x *Exporter) Close() error {
	err := x.client.Close(context.Background())
	x.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("elasticsearch: close client: %w", err)
	}
	return nil
}

// Lag returns how many stored events Elasticsearch has not confirmed yet, counted from the cursor in
// the store as soon as Run starts, before the cluster answers (0 before Run).
func (x *Exporter) Lag() uint64 {
	last, next := x.spool.LastSeq(), x.confirmed.Load()
	if next == 0 || last < next {
		return 0
	}
	return last - next + 1
}

// Confirmed returns the exporter's cursor position: every stored event before it is confirmed by
// Elasticsearch (or was refused for good). It is 0 before Run has read the cursor.
func (x *Exporter) Confirmed() uint64 { return x.confirmed.Load() }

// WaitConfirmed blocks until every stored event before pos is confirmed (Confirmed() >= pos) or ctx
// ends. The collector uses it at shutdown to give the export a grace period to catch up.
func (x *Exporter) WaitConfirmed(ctx context.Context, pos uint64) error {
	for {
		x.mu.Lock()
		ch := x.advanced
		x.mu.Unlock()
		if x.confirmed.Load() >= pos {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// setConfirmed records a committed cursor position and wakes WaitConfirmed.
func (x *Exporter) setConfirmed(pos uint64) {
	x.mu.Lock()
	x.confirmed.Store(pos)
	close(x.advanced)
	x.advanced = make(chan struct{})
	x.mu.Unlock()
}

// CheckVersion checks that the cluster is reachable, accepts the credentials and runs MinVersion or
// later (see the function CheckVersion).
func (x *Exporter) CheckVersion(ctx context.Context) (string, error) {
	return CheckVersion(ctx, x.client)
}

// Run exports until ctx ends, then returns nil after committing what Elasticsearch confirmed. It first
// checks the cluster's version, retrying while the cluster cannot be reached (events wait in the store
// meanwhile); it returns an error (wrapping ErrConfig) when the cluster is too old or refuses the
// credentials, or when the store fails.
func (x *Exporter) Run(ctx context.Context) error {
	if !x.running.CompareAndSwap(false, true) {
		return errors.New("elasticsearch: exporter already running")
	}
	defer x.running.Store(false)
	// The cursor first, so that Lag counts from it while the cluster does not answer: an alert on lag
	// must not stay silent during exactly that outage.
	pos, err := x.spool.RegisterCursor(x.cfg.CursorName)
	if err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	if pos == 0 {
		pos = 1
	}
	x.setConfirmed(pos)
	if x.agg != nil {
		// The same for the aggregation's cursor (its lag).
		if err := x.agg.register(); err != nil {
			return err
		}
	}
	if err := x.waitForCluster(ctx); err != nil {
		if errors.Is(err, ErrConfig) {
			return err
		}
		return nil // ctx ended
	}
	if x.agg == nil {
		return x.pipeline(ctx, pos)
	}
	// The aggregation runs beside the event export, behind its own cursor; when the export fails it
	// stops too (and flushes what it holds).
	actx, stop := context.WithCancel(ctx)
	aggErr := make(chan error, 1)
	go func() { aggErr <- x.agg.run(actx, x) }()
	err = x.pipeline(ctx, pos)
	stop()
	return errors.Join(err, <-aggErr)
}

// MetricsCursor returns the name of the aggregated metricsets' cursor in the store, or "" when they
// are not written.
func (x *Exporter) MetricsCursor() string {
	if x.agg == nil {
		return ""
	}
	return x.agg.cursor
}

// MetricsConfirmed returns the aggregation cursor's position: every stored event before it is in
// aggregated documents Elasticsearch confirmed. It is 0 when they are not written or before Run.
func (x *Exporter) MetricsConfirmed() uint64 {
	if x.agg == nil {
		return 0
	}
	return x.agg.position.Load()
}

// MetricsRead returns how far the aggregation has read the store: every stored event before it is
// counted in an open bucket or in a saved harvest, which a graceful stop sends. It is 0 when the
// aggregated metricsets are not written or before they read anything.
func (x *Exporter) MetricsRead() uint64 {
	if x.agg == nil {
		return 0
	}
	return x.agg.read.Load()
}

// waitForCluster checks the version until the cluster answers.
func (x *Exporter) waitForCluster(ctx context.Context) error {
	ix := indexer{minBackoff: x.cfg.RetryBackoff, maxBackoff: x.cfg.MaxRetryBackoff}
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, x.cfg.RequestTimeout)
		v, err := CheckVersion(cctx, x.client)
		cancel()
		switch {
		case err == nil:
			x.log.Info("exporting to elasticsearch", zap.String("version", v), zap.Strings("urls", RedactedURLs(x.cfg.URLs)))
			return nil
		case errors.Is(err, ErrConfig):
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		}
		x.log.Warn("elasticsearch not available; events wait in the store", zap.Error(err))
		if err := wait.For(ctx, ix.backoff(attempt)); err != nil {
			return err
		}
	}
}

// batch is one bulk request on its way: rendered by the reader, sent by a sender, committed in order.
type batch struct {
	order int64
	body  bulkBody
	next  uint64 // cursor position once this batch is done: its last event's seq + 1
	res   sendResult
	err   error
}

// pipeline runs the reader, MaxInFlight senders and the in-order committer until ctx ends.
func (x *Exporter) pipeline(parent context.Context, pos uint64) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	n := x.cfg.MaxInFlight
	free := make(chan *batch, n+1)
	for range n + 1 {
		free <- &batch{}
	}
	work := make(chan *batch)
	done := make(chan *batch, n+1)

	var senders sync.WaitGroup
	for range n {
		senders.Add(1)
		go func() {
			defer senders.Done()
			ix := newIndexer(x.client, &x.cfg, x.metrics, x.log)
			for b := range work {
				b.res, b.err = ix.send(ctx, &b.body)
				done <- b
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		readErr <- x.read(ctx, pos, free, work)
		close(work)
	}()
	go func() {
		senders.Wait()
		close(done)
	}()

	// The cursor is written by its own goroutine, always to the latest position confirmed in order: an
	// fsync holds back neither reading nor sending, and commits that fall behind coalesce into one.
	target := make(chan uint64, 1)
	committed := make(chan error, 1)
	go func() { committed <- x.commitCursor(target, cancel) }()

	// Confirm in order: batch k's end may be committed only once batches 0..k are done.
	var (
		next    int64
		waiting = map[int64]*batch{}
		failed  error
	)
	for b := range done {
		waiting[b.order] = b
		for {
			b, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			if b.err != nil {
				// Stopped before Elasticsearch answered: nothing after this may be committed.
				if !errors.Is(b.err, context.Canceled) {
					failed = errors.Join(failed, b.err)
				}
				next = -1
				break
			}
			x.account(b.res)
			latest(target, b.next)
			next++
			b.body.reset()
			free <- b
		}
	}
	close(target)
	if err := <-committed; err != nil {
		failed = errors.Join(failed, err)
	}
	err := <-readErr
	if parent.Err() != nil && failed == nil {
		return nil // stopped: what was confirmed is committed, the rest is read again next time
	}
	return errors.Join(err, failed)
}

// latest puts pos in target, replacing a position not committed yet. There is one sender.
func latest(target chan uint64, pos uint64) {
	select {
	case target <- pos:
	default:
		select {
		case <-target:
		default:
		}
		target <- pos
	}
}

// commitCursor durably writes each position it receives (the latest one, when they come faster than
// fsyncs) and publishes it with setConfirmed, until target is closed. While the store cannot write for
// now (collector.ErrStorageUnavailable: a full or failing disk, from which it recovers by itself) it
// tries again with backoff, taking newer positions meanwhile; if the store fails otherwise it stops the
// export (stop) and returns the error.
func (x *Exporter) commitCursor(target <-chan uint64, stop context.CancelFunc) error {
	ix := indexer{minBackoff: x.cfg.RetryBackoff, maxBackoff: x.cfg.MaxRetryBackoff}
	for pos := range target {
		for attempt := 0; ; attempt++ {
			err := x.spool.CommitCursor(x.cfg.CursorName, pos)
			if err == nil {
				break
			}
			if errors.Is(err, collector.ErrStorageUnavailable) {
				if attempt == 0 {
					x.log.Warn("the store cannot record the export's progress for now; retrying", zap.Error(err))
				}
				select {
				case p, ok := <-target:
					if ok {
						pos = p
						continue
					}
				case <-time.After(ix.backoff(attempt)):
					continue
				}
			}
			stop() // nothing more can be recorded
			for range target {
			}
			return fmt.Errorf("elasticsearch: commit cursor: %w", err)
		}
		x.metrics.cursorCommits.Inc()
		x.setConfirmed(pos)
	}
	return nil
}

// account adds a sent batch's outcome to the metrics.
func (x *Exporter) account(r sendResult) {
	x.metrics.docsIndexed.Add(float64(r.indexed))
	x.metrics.docsDuplicate.Add(float64(r.duplicates))
}

// read fills batches from the store, from pos on, and hands them to the senders, until ctx ends.
func (x *Exporter) read(ctx context.Context, pos uint64, free <-chan *batch, work chan<- *batch) error {
	var order int64
	for {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return nil
		}
		b.body.reset()
		if cap(b.body.buf) == 0 {
			// A batch ends after the read that crosses FlushBytes: room for that read too, so the
			// buffer is allocated once.
			b.body.buf = make([]byte, 0, x.cfg.FlushBytes+x.cfg.FlushBytes/4)
		}
		b.order = order
		order++
		var deadline time.Time
		for b.body.size() < x.cfg.FlushBytes {
			recs, err := x.spool.ReadFrom(ctx, pos, readChunk)
			for i := range recs {
				if err := b.body.add(&recs[i].Event); err != nil {
					// Only a bug (an event stored without enrichment) or a non-finite number gets here;
					// retrying would not help, and holding the cursor would stop the export.
					x.metrics.renderFailed.Inc()
					x.log.Error("stored event cannot be rendered for elasticsearch; skipped",
						zap.Uint64("seq", recs[i].Seq), zap.Stringer("kind", recs[i].Event.Kind), zap.Error(err))
				}
				pos = recs[i].Seq + 1
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("elasticsearch: read store: %w", err)
			}
			if len(recs) > 0 {
				now := time.Now()
				if deadline.IsZero() {
					deadline = now.Add(x.cfg.FlushInterval)
				} else if !now.Before(deadline) {
					break // events keep coming, too few to fill the batch: its oldest has waited enough
				}
				continue
			}
			// Nothing more stored yet: wait for more, but not past the flush deadline when the batch
			// already holds something.
			if err := x.waitForEvents(ctx, pos, deadline); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if errors.Is(err, context.DeadlineExceeded) {
					break
				}
				return fmt.Errorf("elasticsearch: wait for events: %w", err)
			}
		}
		b.next = pos
		if b.body.len() == 0 {
			// Only unrenderable or metrics-only events: commit past them without a request.
			b.res = sendResult{}
		}
		select {
		case work <- b:
		case <-ctx.Done():
			return nil
		}
	}
}

// waitForEvents waits until an event at or after seq is stored, until deadline if it is not zero.
func (x *Exporter) waitForEvents(ctx context.Context, seq uint64, deadline time.Time) error {
	if deadline.IsZero() {
		return x.spool.WaitFor(ctx, seq)
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return x.spool.WaitFor(wctx, seq)
}
