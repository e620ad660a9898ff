package elasticsearch

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"

	"github.com/hotpath-apm/hotpath/internal/selfmetrics"
	"github.com/hotpath-apm/hotpath/internal/wait"
)

// Exactly-once aggregated metricsets.
//
// APM Server aggregates in memory: a crash loses the open buckets, and a harvest sent twice is counted
// twice. Here the aggregation is derived from the store, behind a cursor of its own, and its state
// travels with that cursor:
//
//   - Events are read in order from the cursor and added to the open buckets, in memory. A crash here
//     loses nothing: the cursor has not moved, and the next start reads them again.
//   - While it reads, every aggregationSaveEvery events, the read position and the open buckets are
//     saved with the cursor (no document: only the position moves). Without this, a collector killed
//     again and again before its first harvest read the same backlog at every start and never moved
//     its cursor, which also holds retention back: the fault suite's TestSIGKILLExport met it, its
//     last collector facing 890,000 of 930,000 stored events after 30 kills. Now what a collector
//     reads is kept once it has read that many events, whether or not a bucket closed.
//   - A harvest (a bucket's end plus the grace period has passed) renders the closed buckets' documents
//     and saves, in one synced write, the read position, the buckets still open and those documents
//     (StateSpool.CommitCursorState). Every event before the position is now in exactly one place:
//     the saved open buckets, or the saved documents.
//   - The documents are then sent with op_type create and _ids made of the harvest's number and a hash
//     of the document; once Elasticsearch confirmed them the state is saved again without them. A
//     restart first sends the saved documents again: those Elasticsearch already has answer 409.
//   - A late event (its bucket already harvested) goes into a new open bucket for the same time, which
//     the next harvest writes as a second document for that bucket: Kibana sums them.
//   - On shutdown every open bucket is harvested (flushed), as APM Server does; the restart continues
//     with nothing open and counts nothing twice.

// AggregationConfig configures the aggregated metricsets. Zero values mean the documented default.
type AggregationConfig struct {
	// Disabled turns the aggregated metricsets off (only per-event documents are written).
	Disabled bool
	// Grace is how long after its end a bucket waits for late events before it is written, for agents
	// that buffer: a 1m document reaches Elasticsearch about Grace after its minute. Events later than
	// that give a second document for their bucket. Default: 30s.
	Grace time.Duration
	// Limits bound the groups per interval (see AggregationLimits). Default: APM Server's for 1 GB.
	Limits AggregationLimits
	// FlushTimeout bounds the final harvest at shutdown; documents not confirmed by then are kept in
	// the store and sent at the next start. Default: 10s.
	FlushTimeout time.Duration
	// Namespace is the data streams' namespace (metrics-apm.transaction.1m-<namespace>). Default:
	// "default".
	Namespace string
	// ObserverHostname and ObserverVersion are written to observer.*, as APM Server writes its own.
	// Defaults: the machine's hostname (os.Hostname) and "9.6.0".
	ObserverHostname string
	ObserverVersion  string
}

func (c *AggregationConfig) setDefaults() {
	if c.Grace <= 0 {
		c.Grace = 30 * time.Second
	}
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = 10 * time.Second
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.ObserverHostname == "" {
		c.ObserverHostname, _ = os.Hostname()
	}
	if c.ObserverVersion == "" {
		c.ObserverVersion = "9.6.0"
	}
	c.Limits.setDefaults()
}

// StateSpool is a Spool whose cursors carry state. With one, the Exporter also writes the aggregated
// metricsets, behind the cursor "<CursorName>-metrics".
type StateSpool interface {
	Spool
	// CommitCursorState durably moves the named cursor to pos and saves state with it, atomically.
	CommitCursorState(name string, pos uint64, state []byte) error
	// CursorState returns the state last saved with the named cursor, nil when none.
	CursorState(name string) ([]byte, error)
}

// aggState is what is saved with the aggregation's cursor.
type aggState struct {
	Version    int
	Checkpoint uint64 // number of the last harvest
	Tables     [len(aggIntervals)]aggTable
	Pending    []byte // the last harvest's bulk body while Elasticsearch has not confirmed it
}

const aggStateVersion = 1

// encodeAggState encodes the state for the store.
func encodeAggState(s *aggState) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return nil, fmt.Errorf("elasticsearch: encode aggregation state: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeAggState decodes a saved state; a state of another version or a damaged one is an error.
func decodeAggState(b []byte) (*aggState, error) {
	var s aggState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return nil, fmt.Errorf("elasticsearch: decode aggregation state: %w", err)
	}
	if s.Version != aggStateVersion {
		return nil, fmt.Errorf("elasticsearch: aggregation state of version %d, want %d", s.Version, aggStateVersion)
	}
	for i := range s.Tables {
		if s.Tables[i].Buckets == nil {
			s.Tables[i].Buckets = map[int64]*aggBucket{}
		}
	}
	return &s, nil
}

// aggMetrics are the aggregation's Prometheus metrics (hotpath_elasticsearch_metricsets_*).
type aggMetrics struct {
	docs     prometheus.Counter
	harvests prometheus.Counter
	lag      prometheus.GaugeFunc
	unread   prometheus.GaugeFunc
	open     prometheus.Gauge
}

// aggregation is the aggregated metricsets' side of an Exporter.
type aggregation struct {
	cfg    AggregationConfig
	cursor string
	spool  StateSpool
	// position is the aggregation cursor's saved position (0 before it is registered).
	position atomic.Uint64
	// read is the run's read position: every stored event before it is in the open buckets or in
	// saved documents (0 before run reads).
	read    atomic.Uint64
	metrics aggMetrics
	now     func() time.Time
	// harvestEvery bounds how often a backlog being read is harvested (see run).
	harvestEvery time.Duration
	// saveEvery is how many events read between harvests make run save its position and open buckets.
	saveEvery uint64
}

// aggregationSaveEvery is how many events the aggregation reads between two saves of its position and
// open buckets when no harvest saved them: a crash makes the next start read at most about that many
// events again. A save encodes the open buckets and syncs them: for heavy.ndjson's events (12 open
// buckets) 3.6 kB encoded in 0.56 ms, where adding 65,536 of its events to the buckets took 35 ms;
// the state grows with the groups, which AggregationLimits bound.
const aggregationSaveEvery = 1 << 16

func newAggregation(cfg AggregationConfig, cursor string, sp StateSpool) *aggregation {
	cfg.setDefaults()
	g := &aggregation{cfg: cfg, cursor: cursor, spool: sp, now: time.Now, harvestEvery: 10 * time.Second,
		saveEvery: aggregationSaveEvery}
	const p = "hotpath_elasticsearch_metricsets_"
	g.metrics = aggMetrics{
		docs: selfmetrics.Counter(p+"docs_total",
			"Aggregated metricset documents (transaction, service_transaction, service_summary, service_destination) confirmed by Elasticsearch."),
		harvests: selfmetrics.Counter(p+"harvests_total",
			"Harvests of closed aggregation buckets saved with the aggregation cursor."),
		open: selfmetrics.Gauge(p+"open_buckets", "Aggregation buckets (interval and time) still open."),
		lag: selfmetrics.GaugeFunc(p+"lag_events",
			"Stored events after the aggregation's saved position, which a restart reads again (events before it are in documents Elasticsearch confirmed or in open buckets saved with the position).",
			func() float64 { return float64(g.lag()) }),
		unread: selfmetrics.GaugeFunc(p+"unread_events",
			"Stored events the aggregation has not read yet: in no bucket, open or harvested (a backlog; 0 when it keeps up).",
			func() float64 { return float64(g.unread()) }),
	}
	return g
}

func (g *aggregation) collectors() []prometheus.Collector {
	return []prometheus.Collector{g.metrics.docs, g.metrics.harvests, g.metrics.lag, g.metrics.unread, g.metrics.open}
}

// lag returns how many stored events are after the saved position.
func (g *aggregation) lag() uint64 {
	return g.after(g.position.Load())
}

// unread returns how many stored events the aggregation has not read yet.
func (g *aggregation) unread() uint64 {
	next := g.read.Load()
	if next == 0 {
		next = g.position.Load()
	}
	return g.after(next)
}

// after returns how many stored events are at next or after it; 0 when next is 0 (not known yet).
func (g *aggregation) after(next uint64) uint64 {
	last := g.spool.LastSeq()
	if next == 0 || last < next {
		return 0
	}
	return last - next + 1
}

// register creates the aggregation cursor (or finds it) and publishes its position, for lag.
func (g *aggregation) register() error {
	pos, err := g.spool.RegisterCursor(g.cursor)
	if err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	g.position.Store(max(pos, 1))
	return nil
}

// run aggregates the store from the aggregation cursor until ctx ends, then harvests every open
// bucket and sends it within FlushTimeout.
func (g *aggregation) run(ctx context.Context, x *Exporter) error {
	if err := g.register(); err != nil {
		return err
	}
	pos := g.position.Load()
	st := &aggState{Version: aggStateVersion}
	raw, err := g.spool.CursorState(g.cursor)
	if err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	if raw != nil {
		if st, err = decodeAggState(raw); err != nil {
			return err
		}
	}
	agg := newAggregator(g.cfg.Limits)
	agg.tables = st.Tables
	for i := range agg.tables {
		if agg.tables[i].Buckets == nil {
			agg.tables[i].Buckets = map[int64]*aggBucket{}
		}
	}
	g.position.Store(pos)
	ix := newIndexer(x.client, &x.cfg, x.metrics, x.log)
	h := harvester{g: g, x: x, ix: ix, agg: agg, st: st, pos: pos, saved: pos}
	if len(st.Pending) > 0 {
		// The last run saved a harvest it may not have delivered: deliver it (409 for what arrived).
		if err := h.deliver(ctx); err != nil {
			return h.stopped(ctx, err)
		}
	}
	lastHarvest := g.now()
	for {
		recs, err := g.spool.ReadFrom(ctx, h.pos, readChunk)
		for i := range recs {
			agg.add(&recs[i].Event)
			h.pos = recs[i].Seq + 1
		}
		g.read.Store(h.pos)
		n := len(recs)
		if err != nil {
			if ctx.Err() != nil {
				return h.stopped(ctx, nil)
			}
			return fmt.Errorf("elasticsearch: aggregation: read store: %w", err)
		}
		now := g.now()
		closeAt, open := agg.nextClose(g.cfg.Grace)
		if open && !now.Before(closeAt) && (n == 0 || now.Sub(lastHarvest) >= g.harvestEvery) {
			if err := h.harvest(ctx, now, false); err != nil {
				return h.stopped(ctx, err)
			}
			lastHarvest = now
			continue
		}
		g.metrics.open.Set(float64(agg.openBuckets()))
		if n > 0 {
			if h.pos-h.saved >= g.saveEvery {
				// A backlog: keep what was read, so that a crash does not make it be read again.
				if err := h.save(ctx); err != nil {
					return h.stopped(ctx, err)
				}
			}
			continue
		}
		// Caught up: wait for events, or until the next bucket closes.
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if open {
			wctx, cancel = context.WithDeadline(ctx, time.Now().Add(closeAt.Sub(now)))
		}
		err = g.spool.WaitFor(wctx, h.pos)
		cancel()
		switch {
		case ctx.Err() != nil:
			return h.stopped(ctx, nil)
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("elasticsearch: aggregation: wait for events: %w", err)
		}
	}
}

// openBuckets counts the open buckets of every interval.
func (a *aggregator) openBuckets() int {
	n := 0
	for i := range a.tables {
		n += len(a.tables[i].Buckets)
	}
	return n
}

// harvester saves and delivers harvests.
type harvester struct {
	g   *aggregation
	x   *Exporter
	ix  *indexer
	agg *aggregator
	st  *aggState
	pos uint64 // events before pos are in agg (or in saved documents)
	// saved is the position last saved with the state.
	saved uint64
}

// harvest renders the closed buckets (all of them when all is set), saves them with the position and
// the open buckets, and delivers them.
func (h *harvester) harvest(ctx context.Context, now time.Time, all bool) error {
	r := aggRenderer{namespace: h.g.cfg.Namespace, observerHostname: h.g.cfg.ObserverHostname,
		observerVersion: h.g.cfg.ObserverVersion, checkpoint: h.st.Checkpoint + 1}
	h.agg.harvest(&r, now, h.g.cfg.Grace, all)
	if r.docs > 0 {
		h.st.Checkpoint++
		h.st.Pending = r.out
	}
	if err := h.save(ctx); err != nil {
		return err
	}
	h.g.metrics.harvests.Inc()
	return h.deliver(ctx)
}

// save writes the position, the open buckets and the pending documents with the cursor. While the
// store cannot write for now (collector.ErrStorageUnavailable) it tries again with backoff until ctx
// ends.
func (h *harvester) save(ctx context.Context) error {
	h.st.Tables = h.agg.tables
	b, err := encodeAggState(h.st)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err = h.g.spool.CommitCursorState(h.g.cursor, h.pos, b)
		if err == nil || !errors.Is(err, collector.ErrStorageUnavailable) || wait.For(ctx, h.ix.backoff(attempt)) != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("elasticsearch: aggregation: %w", err)
	}
	h.saved = h.pos
	if len(h.st.Pending) == 0 {
		h.g.position.Store(h.pos)
	}
	return nil
}

// deliver sends the pending documents, FlushBytes at a time, and saves the state without them once
// Elasticsearch confirmed them all.
func (h *harvester) deliver(ctx context.Context) error {
	if len(h.st.Pending) == 0 {
		return nil
	}
	var body bulkBody
	rest := h.st.Pending
	for len(rest) > 0 {
		body.reset()
		for len(rest) > 0 && body.size() < h.x.cfg.FlushBytes {
			n := docEnd(rest)
			body.starts = append(body.starts, len(body.buf))
			body.buf = append(body.buf, rest[:n]...)
			rest = rest[n:]
		}
		res, err := h.ix.send(ctx, &body)
		if err != nil {
			return err
		}
		h.x.account(res)
		h.g.metrics.docs.Add(float64(res.indexed + res.duplicates))
	}
	h.st.Pending = nil
	return h.save(ctx)
}

// docEnd returns the length of the first document (action and source lines) of an NDJSON bulk body.
func docEnd(b []byte) int {
	first := bytes.IndexByte(b, '\n')
	second := bytes.IndexByte(b[first+1:], '\n')
	return first + 1 + second + 1
}

// stopped ends run: when ctx ended (shutdown) it harvests every open bucket and delivers it within
// FlushTimeout; what is not confirmed by then is saved and delivered at the next start.
func (h *harvester) stopped(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	fctx, cancel := context.WithTimeout(context.Background(), h.g.cfg.FlushTimeout)
	defer cancel()
	if len(h.st.Pending) == 0 && h.agg.empty() {
		return err
	}
	if len(h.st.Pending) > 0 {
		// A harvest not delivered yet: keep it as it is, with the open buckets, for the next start.
		if derr := h.deliver(fctx); derr != nil {
			h.x.log.Warn("aggregated metricsets not confirmed at shutdown; sent at the next start", zap.Error(derr))
			return err
		}
	}
	if herr := h.harvest(fctx, h.g.now(), true); herr != nil {
		if errors.Is(herr, context.DeadlineExceeded) || errors.Is(herr, context.Canceled) {
			h.x.log.Warn("aggregated metricsets not confirmed at shutdown; saved, sent at the next start", zap.Error(herr))
			return err
		}
		return errors.Join(err, herr)
	}
	return err
}
