package intake

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
	"github.com/hotpath-apm/hotpath/collector/intake/enrich"
)

// Defaults of Config's fields.
const (
	// DefaultVersion is the APM Server version the collector reports at GET / and writes to
	// observer.version: the release whose documents hotpath writes. Agents gate features on it; the Go
	// agent drops unsampled transactions from 8.0 on.
	DefaultVersion = enrich.DefaultObserverVersion
	// DefaultMaxEventSize is APM Server's per-event limit (max_event_size): 300 KiB.
	DefaultMaxEventSize = 300 * 1024
	// DefaultBatchSize is the number of events per batch handed to the Processor. Each batch waits for
	// a durable commit, so larger batches make a single stream faster (on one stream into the Pebble
	// store, alternating runs: 1000 against 250 gave +25–35 % events/s, 500 +0–16 %), at the cost of
	// 2 KiB of event structures per event of a batch, per stream slot. APM Server uses 10.
	DefaultBatchSize = 500
	// DefaultMaxConcurrentStreams is the number of intake streams decoded at once. Each slot costs
	// about 1.3 MiB once used (a 300 KiB line buffer, a batch of 500 events' 2 KiB structures).
	DefaultMaxConcurrentStreams = 64
	// DefaultMaxBatchesInFlight is the number of a stream's batches that may be committing at once when
	// the Processor is a BatchEnqueuer.
	DefaultMaxBatchesInFlight = 4
	// DefaultStreamWait is how long a stream waits for a slot before a 503.
	DefaultStreamWait = 5 * time.Second
	// DefaultStreamGrace is how long a stream may send nothing from its start: the agents' request
	// time (ELASTIC_APM_API_REQUEST_TIME, 10 s), during which the Go agent may send no byte at all
	// (it compresses into a buffer and sends it when full or at the end), and 2 s to spare.
	DefaultStreamGrace = 12 * time.Second
	// DefaultMinStreamRate is the slowest average a stream may keep after its grace, in bytes per
	// second as received: far below any real link, far above a byte a second.
	DefaultMinStreamRate = 1024
	// DefaultMaxBodyBytes limits an intake request body as received. Agents send at most 768 KiB
	// (compressed) per request by default.
	DefaultMaxBodyBytes = 64 << 20
	// DefaultMaxDecodedBytes limits an intake request body after decompression.
	DefaultMaxDecodedBytes = 512 << 20
	// DefaultMemoryBudget bounds the decoded bytes all streams hold in batches at once: room for
	// every stream slot's batch of 500 events of 4 KiB.
	DefaultMemoryBudget = 128 << 20
	// decodedEventBytes is what the structures of one decoded event of a batch take, about: what a
	// stream slot's decoder is charged per event of its batch (Config.Budget).
	decodedEventBytes = 2 << 10
	// DefaultAgentConfigMaxAge is the Cache-Control max-age of agent configuration answers (APM
	// Server's agent.config.cache.expiration).
	DefaultAgentConfigMaxAge = 30 * time.Second
)

// Config configures the API. The zero value of every field except Processor means its default.
type Config struct {
	// Processor receives every decoded batch; a stream's events are acknowledged (counted in accepted,
	// answered 202) only when it returned nil for all of them. collector.ErrQueueFull and
	// collector.ErrShuttingDown from it are answered 503 as APM Server does. If it is a BatchEnqueuer,
	// a stream's batches are pipelined (see BatchEnqueuer). Required.
	Processor collector.BatchProcessor

	// MaxBatchesInFlight is, when Processor is a BatchEnqueuer, the number of a stream's batches that
	// may be committing while the stream is decoded further. Default: DefaultMaxBatchesInFlight.
	MaxBatchesInFlight int

	// Logger receives one line per request (debug for success, info for 4xx, error for 5xx) and the
	// reasons of refusals; secrets are never logged. Default: no logging.
	Logger *zap.Logger

	// Registerer receives the intake metrics (hotpath_intake_*). Default: they are kept but not
	// registered anywhere.
	Registerer prometheus.Registerer

	// SecretToken, when set, is accepted as "Authorization: Bearer <token>" (ELASTIC_APM_SECRET_TOKEN).
	// With neither SecretToken nor APIKeys every request is allowed, as in APM Server.
	SecretToken string

	// APIKeys are accepted as "Authorization: ApiKey base64(id:key)" (ELASTIC_APM_API_KEY).
	APIKeys []APIKey

	// MaxEventSize is the largest event (one ndjson line) accepted, in bytes; a larger one is refused
	// with "event exceeded the permitted size" and the rest of the stream still decoded.
	// Default: DefaultMaxEventSize (300 KiB, APM Server's).
	MaxEventSize int

	// BatchSize is the number of events handed to Processor at a time. Default: DefaultBatchSize.
	BatchSize int

	// MaxConcurrentStreams caps the event streams decoded at once. Agents keep a stream open while they
	// have data, up to 10 s by default, so this is about how many agents may send at the same moment.
	// Default: DefaultMaxConcurrentStreams.
	MaxConcurrentStreams int

	// StreamWait is how long a stream waits for one of the MaxConcurrentStreams slots before it is
	// answered 503. Default: DefaultStreamWait.
	StreamWait time.Duration

	// MaxStreamsPerClient is how many of the stream slots one client may hold at once: a connection's
	// peer address (IPv4, or IPv6 /64), never a header, so that one address cannot take every slot.
	// Its streams past the share wait StreamWait for one of its own to end, then get APM Server's 503
	// (reason client_stream_limit). Behind a proxy that hides the agents' addresses, set it to
	// MaxConcurrentStreams. Default: a quarter of MaxConcurrentStreams (at least 1).
	MaxStreamsPerClient int

	// StreamGrace and MinStreamRate hold a stream's body to a minimum transfer rate, so that a client
	// sending a byte a second loses its slot in seconds rather than at the server's read timeout: at
	// any time t from its start a stream must have received MinStreamRate × (t − StreamGrace) bytes
	// (as received, compressed); each byte buys 1/MinStreamRate s. The HTTP server's ReadTimeout
	// still bounds the whole stream. A stream that falls behind ends with 503 "request timed out"
	// (reason too_slow), its events decoded so far kept. StreamGrace must be longer than the agents'
	// request time (ELASTIC_APM_API_REQUEST_TIME): the Go agent may send nothing until it ends.
	// Defaults: DefaultStreamGrace, DefaultMinStreamRate (bytes per second).
	StreamGrace   time.Duration
	MinStreamRate int64

	// MaxBodyBytes limits an intake request body as received, MaxDecodedBytes after decompression.
	// Past either the stream ends with a 400 naming the limit; the events before it count.
	// Defaults: DefaultMaxBodyBytes, DefaultMaxDecodedBytes.
	MaxBodyBytes    int64
	MaxDecodedBytes int64

	// MemoryBudget bounds the decompressed bytes that all streams together hold in batches not yet
	// handed to the Processor; a stream that would go past it ends with a 503 (agents retry). With it,
	// intake's memory is at most about MemoryBudget plus, per stream slot, two line buffers
	// (MaxEventSize) and BatchSize decoded events' structures, whatever the events' sizes.
	// Default: DefaultMemoryBudget.
	MemoryBudget int64

	// Budget, when set, is the memory budget intake shares with the rest of the collector (the store's
	// queue): the decoded bytes above and the stream slots' decoders (2 × MaxEventSize + BatchSize ×
	// 2 KiB each, charged while the stream runs; a stream that finds the budget spent is answered 503
	// "intake memory budget exceeded") are charged to it, and MemoryBudget is not used. Default: a
	// budget of MemoryBudget bytes for the decoded bytes alone.
	Budget *collector.MemoryBudget

	// AgentConfigFile is the JSON file of agent central configuration (see serveAgentConfig's
	// documentation in agentconfig.go for its format). It need not exist. Default: none, so every
	// agent is told "no configuration" (settings {}, ETag "-").
	AgentConfigFile string

	// AgentConfigMaxAge is the Cache-Control max-age of agent configuration answers, in whole
	// seconds. Default: DefaultAgentConfigMaxAge.
	AgentConfigMaxAge time.Duration

	// Version is the version reported at GET / and written to observer.version. Default:
	// DefaultVersion.
	Version string

	// PublishReady reports "publish_ready" at GET /. Default: always true.
	PublishReady func() bool
}

// API serves the APM Server endpoints agents talk to. Create it with New and mount it with Register.
type API struct {
	cfg     Config
	log     *zap.Logger
	auth    *authenticator
	metrics *metrics
	streams *streamSlots
	decomp  decompressors
	budget  *memoryBudget
	// processor is Config.Processor behind enrich: what APM Server does to events before indexing.
	processor collector.BatchProcessor
	enrich    *enrich.Processor
	enqueuer  BatchEnqueuer // Config.Processor, if it is one

	agentConfig             *agentConfigFile
	agentConfigCacheControl string
	info                    serverInfo
}

// New checks cfg, fills in its defaults and returns the API. It fails if Processor is nil, an API key
// is malformed, the agent configuration file does not parse, or the metrics cannot be registered.
func New(cfg Config) (*API, error) {
	if cfg.Processor == nil {
		return nil, errors.New("intake: Config.Processor is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	setDefault(&cfg.MaxEventSize, DefaultMaxEventSize)
	setDefault(&cfg.BatchSize, DefaultBatchSize)
	setDefault(&cfg.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	setDefault(&cfg.StreamWait, DefaultStreamWait)
	setDefault(&cfg.MaxStreamsPerClient, max(1, cfg.MaxConcurrentStreams/4))
	setDefault(&cfg.StreamGrace, DefaultStreamGrace)
	setDefault(&cfg.MinStreamRate, DefaultMinStreamRate)
	setDefault(&cfg.MaxBatchesInFlight, DefaultMaxBatchesInFlight)
	setDefault(&cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&cfg.MaxDecodedBytes, DefaultMaxDecodedBytes)
	setDefault(&cfg.MemoryBudget, DefaultMemoryBudget)
	setDefault(&cfg.AgentConfigMaxAge, DefaultAgentConfigMaxAge)
	setDefault(&cfg.Version, DefaultVersion)
	if cfg.AgentConfigMaxAge%time.Second != 0 {
		return nil, fmt.Errorf("intake: AgentConfigMaxAge %s is not a whole number of seconds", cfg.AgentConfigMaxAge)
	}
	if cfg.PublishReady == nil {
		cfg.PublishReady = func() bool { return true }
	}

	auth, err := newAuthenticator(cfg.SecretToken, cfg.APIKeys)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("intake: register metrics: %w", err)
	}
	acfg, err := newAgentConfigFile(cfg.AgentConfigFile, cfg.Logger)
	if err != nil {
		return nil, err
	}
	budget, slotCost := cfg.Budget, int64(0)
	if budget == nil {
		budget = collector.NewMemoryBudget(cfg.MemoryBudget)
	} else {
		slotCost = int64(2*cfg.MaxEventSize + cfg.BatchSize*decodedEventBytes)
	}
	date, sha := buildInfo()
	enr := enrich.New(enrich.Config{ObserverVersion: cfg.Version})
	enq, _ := cfg.Processor.(BatchEnqueuer)
	return &API{
		cfg:     cfg,
		log:     cfg.Logger,
		auth:    auth,
		metrics: m,
		streams: newStreamSlots(cfg.MaxConcurrentStreams, cfg.MaxStreamsPerClient, cfg.StreamWait,
			decoder.Options{MaxEventSize: cfg.MaxEventSize, BatchSize: cfg.BatchSize}, m).charging(budget, slotCost),
		processor:               enr.Wrap(cfg.Processor),
		enrich:                  enr,
		budget:                  &memoryBudget{shared: budget, free: int64(cfg.MaxEventSize), m: m},
		enqueuer:                enq,
		agentConfig:             acfg,
		agentConfigCacheControl: fmt.Sprintf("max-age=%d, must-revalidate", int(cfg.AgentConfigMaxAge/time.Second)),
		info:                    serverInfo{BuildDate: date, BuildSHA: sha, Version: cfg.Version},
	}, nil
}

// ReleaseIdle reports whether intake has been quiet (no stream ran or started) for quiet, and if so lets
// go of the decoders it keeps for later streams (each holds a line buffer of MaxEventSize and a batch:
// about 1.3 MiB by default), so that the caller can have the memory returned to the system
// (debug.FreeOSMemory). cmd/hotpath calls it periodically: a collector gives back what a burst of load
// took once the burst is over.
func (a *API) ReleaseIdle(quiet time.Duration) bool { return a.streams.dropIdle(quiet) }

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (a *API) publishReady() bool { return a.cfg.PublishReady() }

// The paths APM Server serves and hotpath answers.
const (
	pathEvents         = "/intake/v2/events"
	pathAgentConfig    = "/config/v1/agents"
	pathRUMEvents      = "/intake/v2/rum/events"
	pathRUMv3Events    = "/intake/v3/rum/events"
	pathRUMAgentConfig = "/config/v1/rum/agents"
)

// Register mounts the APM Server endpoints on mux:
//
//	POST      /intake/v2/events        events (ndjson, gzip or zlib)
//	GET|HEAD  /                        server information
//	GET|POST  /config/v1/agents        agent central configuration
//	*         /intake/v2/rum/events, /intake/v3/rum/events, /config/v1/rum/agents
//	                                   refused as APM Server does with RUM disabled (403)
//	*         every other path         APM Server's 404, {"error":"404 page not found"}
//
// The last is the pattern "/", so any more specific pattern registered on the same mux takes
// precedence: that is how the rest of the collector (query API, UI, /metrics, /intake/v2/profile) is
// mounted beside intake. Wrap those that are not public with RequireAuth.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle(pathEvents, a.route(endpointEvents, a.serveEvents))
	mux.Handle(pathAgentConfig, a.route(endpointAgentConfig, a.serveAgentConfig))
	rum := a.route(endpointRUM, a.serveRUMDisabled)
	mux.Handle(pathRUMEvents, rum)
	mux.Handle(pathRUMv3Events, rum)
	mux.Handle(pathRUMAgentConfig, rum)
	mux.Handle("/{$}", a.route(endpointRoot, a.serveRoot))
	mux.Handle("/", a.route(endpointNotFound, serveNotFound))
}

// Handler returns a mux with only intake's endpoints (see Register).
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	a.Register(mux)
	return mux
}

// serveNotFound is APM Server's answer to a path it does not serve. Agents recognise its message.
func serveNotFound(w http.ResponseWriter, r *http.Request, x *exchange) {
	x.fail(w, r, http.StatusNotFound, "", "404 page not found")
}
