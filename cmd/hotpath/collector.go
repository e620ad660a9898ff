package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
	"github.com/hotpath-apm/hotpath/collector/query"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
	"github.com/hotpath-apm/hotpath/collector/ui"
)

// collectorConfig is what `hotpath collector` is told by its flags and HOTPATH_* variables.
type collectorConfig struct {
	listen          string
	dataDir         string
	secretToken     string
	apiKeys         []intake.APIKey
	retention       time.Duration // < 0: keep everything
	maxDisk         int64         // 0: no budget
	minFreeDisk     int64         // pebble.Config.MinFreeDisk: 0 its default, < 0 none
	memoryLimit     int64         // --memory-limit: see memoryPlan
	stallTimeout    time.Duration // pebble.Config.StallTimeout: 0 its default, < 0 none
	shutdownTimeout time.Duration
	logLevel        zapcore.Level
	http            httpLimits
	elasticsearch   *elasticsearch.Config // nil: no export (--elasticsearch, collector_elasticsearch.go)
}

// agentConfigFileName is the agent central configuration file in the data directory.
const agentConfigFileName = "agent-config.json"

// parseCollectorFlags reads the flags of `hotpath collector`, then the environment for those not given.
func parseCollectorFlags(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (collectorConfig, error) {
	fs := newFlagSet("collector", stderr,
		"Receives what Elastic APM agents send (APM Server's intake protocol), stores it and serves it.",
		"Point agents at it with ELASTIC_APM_SERVER_URL=http://<listen address>. Every flag may be",
		"given as an environment variable instead: --secret-token is HOTPATH_SECRET_TOKEN (prefer it for",
		"secrets: command lines are visible to other users); HOTPATH_API_KEY takes a comma-separated list.",
	)
	var (
		cfg       collectorConfig
		token     secretFlag
		keys      listFlag
		retention = retentionFlag{d: 7 * 24 * time.Hour}
		maxDisk   byteSizeFlag
		minFree   minFreeFlag
		memLimit  = byteSizeFlag{n: defaultMemoryLimit}
		logLevel  = zapcore.InfoLevel
	)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8200", "`address` to listen on (APM Server's port; use 0.0.0.0:8200 to accept other machines)")
	fs.StringVar(&cfg.dataDir, "data", "./hotpath-data", "`directory` of the store; "+agentConfigFileName+" in it holds the agents' central configuration")
	fs.Var(&token, "secret-token", "require agents to send `token` (ELASTIC_APM_SECRET_TOKEN)")
	fs.Var(&keys, "api-key", "accept the API key `id:key` (repeatable); agents send ELASTIC_APM_API_KEY=base64(id:key)")
	fs.Var(&retention, "retention", "keep events this `long`: days (7d), a duration (36h) or off")
	fs.Var(&maxDisk, "max-disk", "disk budget of the store, `size` such as 20GB or 512MiB; 0 for none; past it the oldest hours are deleted")
	fs.Var(&minFree, "min-free-disk", "free-space floor, a `size` or off: below it intake answers 503 (agents retry) until space is freed, before the disk fills (default 1% of the data directory's filesystem, at most 256MiB)")
	fs.DurationVar(&cfg.stallTimeout, "disk-stall-timeout", 5*time.Second, "how `long` a write to disk may hang before intake answers 503 (agents retry) until it returns; 0 waits however long the disk takes")
	fs.Var(&memLimit, "memory-limit", "memory `size` the collector keeps to at any load (stream slots, decoded batches and the store's queue share 7/16 of it; past that intake answers 503, which agents retry)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, how `long` to wait for requests in flight")
	fs.Var(&logLevel, "log-level", "log `level`: debug (one line per request), info (the default), warn, error")
	var es esFlags
	es.register(fs)
	if err := parseFlags(fs, args, lookupEnv); err != nil {
		return cfg, err
	}
	cfg.secretToken = string(token)
	for _, k := range keys {
		key, err := intake.ParseAPIKey(k)
		if err != nil {
			return cfg, fmt.Errorf("collector: --api-key: %w", err)
		}
		cfg.apiKeys = append(cfg.apiKeys, key)
	}
	cfg.retention, cfg.maxDisk, cfg.minFreeDisk, cfg.logLevel = retention.d, maxDisk.n, minFree.n, logLevel
	if cfg.stallTimeout <= 0 {
		cfg.stallTimeout = -1 // pebble.Config: negative is none
	}
	if cfg.memoryLimit = memLimit.n; cfg.memoryLimit < 64<<20 {
		return cfg, fmt.Errorf("collector: --memory-limit %s is less than the 64MiB the collector needs", memLimit.String())
	}
	cfg.http = defaultHTTPLimits
	esCfg, err := es.config()
	if err != nil {
		return cfg, fmt.Errorf("collector: %w", err)
	}
	cfg.elasticsearch = esCfg
	return cfg, nil
}

// runCollector is `hotpath collector`: it runs until ctx is done (SIGINT or SIGTERM), then shuts down
// gracefully.
func runCollector(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseCollectorFlags(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.logLevel)
	defer func() { _ = log.Sync() }()

	c, err := openCollector(cfg, log)
	if err != nil {
		return err
	}
	// The Go runtime's limit is the process's: set here, where the process is the collector, not in
	// openCollector, which the demo also runs beside its services.
	planMemory(cfg.memoryLimit).apply()
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return errors.Join(fmt.Errorf("collector: listen: %w", err), c.close())
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "hotpath collector listening on %s (data in %s)\n", url, cfg.dataDir)
	fmt.Fprintf(stdout, "  agents:  ELASTIC_APM_SERVER_URL=%s\n", url)
	fmt.Fprintf(stdout, "  OTel:    OTEL_EXPORTER_OTLP_ENDPOINT=%s (OTLP/HTTP and OTLP/gRPC)\n", url)
	fmt.Fprintf(stdout, "  metrics: %s/metrics\n", url)
	fmt.Fprintf(stdout, "  UI:      %s%s (query API under %s%s)\n", url, ui.Prefix, url, query.Prefix)
	return c.serve(ctx, ln)
}

func newLogger(w io.Writer, level zapcore.Level) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.EncodeDuration = zapcore.StringDurationEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core)
}

// collectorServer is the running collector: the store, the intake, and the one HTTP server that serves
// them (and, as they are built, the query API, the UI and the profile intake).
type collectorServer struct {
	cfg      collectorConfig
	log      *zap.Logger
	registry *prometheus.Registry
	store    *pebble.Store
	intake   *intake.API
	otlp     *otlp.Receiver
	http     *http.Server
	exporter *esExporter // nil without --elasticsearch
}

// openCollector opens the store and builds the HTTP server; nothing listens yet.
func openCollector(cfg collectorConfig, log *zap.Logger) (*collectorServer, error) {
	if err := os.MkdirAll(cfg.dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("collector: data directory: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if cfg.memoryLimit == 0 {
		cfg.memoryLimit = defaultMemoryLimit
	}
	mem := planMemory(cfg.memoryLimit)
	budget := collector.NewMemoryBudget(mem.budget)
	if err := registerMemoryMetrics(reg, mem, budget); err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	store, err := pebble.Open(pebble.Config{
		Dir:           filepath.Join(cfg.dataDir, "store"),
		MaxAge:        cfg.retention,
		MaxDisk:       cfg.maxDisk,
		MinFreeDisk:   cfg.minFreeDisk,
		StallTimeout:  cfg.stallTimeout,
		Budget:        budget,
		QueueBytes:    int(mem.budget),
		CacheBytes:    mem.cacheBytes,
		MemTableBytes: int(mem.memTableBytes),
		Registerer:    reg,
		Logger:        log.Named("store"),
	})
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	api, err := intake.New(intake.Config{
		Processor:       store,
		Budget:          budget,
		Logger:          log.Named("intake"),
		Registerer:      reg,
		SecretToken:     cfg.secretToken,
		APIKeys:         cfg.apiKeys,
		AgentConfigFile: filepath.Join(cfg.dataDir, agentConfigFileName),
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("collector: %w", err), store.Close())
	}
	rcv, err := otlp.New(otlp.Config{Intake: api, Logger: log.Named("otlp"), Registerer: reg})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("collector: %w", err), store.Close())
	}
	c := &collectorServer{cfg: cfg, log: log, registry: reg, store: store, intake: api, otlp: rcv}
	mux := http.NewServeMux()
	c.routes(mux)
	c.http = newHTTPServer(mux, cfg.http, log)
	return c, nil
}

// routes mounts everything the collector serves on its one mux. This is the place to add a part of
// the collector's HTTP surface:
//
//   - c.intake.Register mounts APM Server's endpoints and, as the pattern "/", APM Server's 404 for
//     every path nobody else serves; any more specific pattern registered here wins over it.
//   - Wrap what is not public in c.intake.RequireAuth: it checks the same secret token and API keys as
//     the intake (and lets everything through when none is configured).
//   - Parts reach the data through c.store and register their metrics in c.registry.
//
// The query API (collector/query) is under /api/v1/, behind the intake's auth; the UI (collector/ui)
// under /ui/, public (its files hold no data: it reads the API with the user's credentials). The
// profile intake, POST /intake/v2/profile, has the events endpoint's authentication and stores into the
// same store. OTLP (collector/intake/otlp) mounts /v1/traces, /v1/metrics, /v1/logs and
// the OTLP/gRPC services' paths, served over h2c by the same server.
func (c *collectorServer) routes(mux *http.ServeMux) {
	c.intake.Register(mux)
	c.otlp.Register(mux)
	mux.Handle("/intake/v2/profile", c.profileIntake())
	mux.Handle("GET /metrics", c.intake.RequireAuth(promhttp.HandlerFor(c.registry, promhttp.HandlerOpts{})))
	mux.Handle(query.Prefix, c.intake.RequireAuth(c.queryAPI()))
	mux.Handle(ui.Prefix, ui.Handler())
	mux.Handle(strings.TrimSuffix(ui.Prefix, "/"), ui.Handler())
}

// The store is what the query API and the Elasticsearch exporter read and what the profile intake writes
// to, as it is: the parts meet in package collector's types, with no adapter between them.
var (
	_ query.Store         = (*pebble.Store)(nil)
	_ elasticsearch.Spool = (*pebble.Store)(nil)
	_ query.ProfileReader = (*pebble.Store)(nil)
	_ intake.ProfileSink  = (*pebble.Store)(nil)
)

// queryAPI is the query API over c's store.
func (c *collectorServer) queryAPI() http.Handler {
	api, err := query.New(query.Config{Store: c.store, Profiles: c.store, Queries: c.store, Dependencies: c.store, Compare: c.store, Logger: c.log.Named("query")})
	if err != nil {
		panic(err) // New fails only without a store, and openCollector has opened one
	}
	return api
}

// profileIntake is POST /intake/v2/profile over c's store, with the intake's authentication, limits and
// metrics.
func (c *collectorServer) profileIntake() http.Handler {
	h, err := c.intake.ProfileHandler(intake.ProfileConfig{Sink: c.store})
	if err != nil {
		panic(err) // ProfileHandler fails only without a sink, and openCollector has opened the store
	}
	return h
}

// httpLimits are the HTTP server's timeouts and header limit.
type httpLimits struct {
	readHeaderTimeout, readTimeout, writeTimeout, idleTimeout time.Duration
	maxHeaderBytes                                            int
}

// defaultHTTPLimits are APM Server's defaults (apm-server.read_timeout, write_timeout, idle_timeout,
// max_header_size), plus a header timeout so that a client cannot hold a connection without sending.
// A whole intake request, body and answer, must fit in the read and write timeouts: agents send for
// 10 s at most by default (ELASTIC_APM_API_REQUEST_TIME).
var defaultHTTPLimits = httpLimits{
	readHeaderTimeout: 10 * time.Second,
	readTimeout:       30 * time.Second,
	writeTimeout:      30 * time.Second,
	idleTimeout:       45 * time.Second,
	maxHeaderBytes:    1 << 20,
}

// newHTTPServer returns the collector's server: HTTP/1.1 and, for OTLP/gRPC, unencrypted HTTP/2 (h2c
// with prior knowledge, as gRPC clients speak it without TLS) on the same port.
func newHTTPServer(h http.Handler, l httpLimits, log *zap.Logger) *http.Server {
	errLog, _ := zap.NewStdLogAt(log.Named("http"), zapcore.WarnLevel) // only fails for invalid levels
	return &http.Server{
		Protocols:         otlp.Protocols(),
		Handler:           h,
		ReadHeaderTimeout: l.readHeaderTimeout,
		ReadTimeout:       l.readTimeout,
		WriteTimeout:      l.writeTimeout,
		IdleTimeout:       l.idleTimeout,
		MaxHeaderBytes:    l.maxHeaderBytes,
		ErrorLog:          errLog,
	}
}

// serve serves on ln until ctx is done, then shuts down in order: stop accepting connections, let the
// requests in flight finish (their batches are committed before they are answered), then close the
// store, which commits what is queued. Requests still running after cfg.shutdownTimeout are cut off;
// their events were not acknowledged.
func (c *collectorServer) serve(ctx context.Context, ln net.Listener) error {
	c.log.Info("collector started", zap.String("listen", ln.Addr().String()), zap.String("data", c.cfg.dataDir),
		zap.Bool("auth", c.cfg.secretToken != "" || len(c.cfg.apiKeys) > 0))
	if err := c.startExport(ctx); err != nil {
		return errors.Join(err, c.close())
	}
	served := make(chan error, 1)
	go func() { served <- c.http.Serve(prefetchListener{ln}) }()
	idleCtx, stopIdle := context.WithCancel(ctx)
	idleDone := make(chan struct{})
	go func() {
		defer close(idleDone)
		returnIdleMemory(idleCtx, 5*time.Second, c.intake.ReleaseIdle)
	}()
	defer func() { stopIdle(); <-idleDone }()

	var err error
	select {
	case err = <-served:
		err = fmt.Errorf("collector: serve: %w", err)
	case <-ctx.Done():
		c.log.Info("shutting down: finishing requests in flight", zap.Duration("timeout", c.cfg.shutdownTimeout))
		sctx, cancel := context.WithTimeout(context.Background(), c.cfg.shutdownTimeout)
		if serr := c.http.Shutdown(sctx); serr != nil {
			c.log.Warn("requests still in flight at the shutdown timeout were cut off", zap.Error(serr))
			_ = c.http.Close()
		}
		cancel()
		<-served // http.ErrServerClosed
	}
	return errors.Join(err, c.close())
}

// close stops the export, then closes the store; every batch it acknowledged is durable.
func (c *collectorServer) close() error {
	exportErr := c.stopExport()
	if err := c.store.Close(); err != nil {
		return errors.Join(exportErr, fmt.Errorf("collector: %w", err))
	}
	if exportErr != nil {
		return exportErr
	}
	c.log.Info("collector stopped")
	return nil
}
