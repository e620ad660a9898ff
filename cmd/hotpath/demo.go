package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/collector/ui"
	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
	"github.com/hotpath-apm/hotpath/profiling"
)

// The demo's defaults.
const (
	// demoListen is the collector's default address: APM Server's port, as `hotpath collector`.
	demoListen = "127.0.0.1:8200"
	// demoRate is the default load, in searches per second: enough for a dozen slow requests a minute
	// (pasted queries, slow segmenter calls, heavy rankings) while leaving most of two cores idle.
	demoRate = 10
	// demoMaxRate bounds --rate: the load generator issues one request per tick.
	demoMaxRate = 1000
	// demoService and segmenterService name the two traced services.
	demoService      = "search"
	demoOldVersion   = "1.4.2" // the search service with the example's trouble
	demoNewVersion   = "1.5.0" // beside it, with the trouble fixed
	segmenterService = "segmenter"
	// demoEnvironment is the services' environment in their metadata.
	demoEnvironment = "demo"
	// demoRequestTime is how long the demo's agents keep an intake request open before sending the next
	// (ELASTIC_APM_API_REQUEST_TIME, 10 s by default): short, so that the UI fills as the demo runs.
	demoRequestTime = 2 * time.Second
	// demoMetricsInterval is how often the agents send their metrics, the breakdown of time by span type
	// among them (ELASTIC_APM_METRICS_INTERVAL, 30 s by default).
	demoMetricsInterval = 10 * time.Second
	// demoStopTimeout bounds each step of the shutdown.
	demoStopTimeout = 10 * time.Second
)

// demoConfig is what `hotpath demo` is told by its flags (and HOTPATH_* variables).
type demoConfig struct {
	listen        string
	listenGiven   bool          // --listen (or HOTPATH_LISTEN) was given: no fallback if it is busy
	rate          float64       // searches per second
	duration      time.Duration // 0: until ctx is done
	keepData      bool
	catalogSize   int
	slowThreshold time.Duration
	logLevel      zapcore.Level

	// Elasticsearch: a real cluster (ELASTICSEARCH_URL, _API_KEY, _CA_CERT), else the stand-in.
	esURL, esAPIKey string
	esCACert        []byte
	setupIndex      bool

	// overload: the stand-in's overload episodes (stack.DemoOverload), which the search service's
	// breaker and emergency cache ride out.
	overload bool

	// Not flags: what the end-to-end test adjusts.
	seed          uint64             // the query mix's seed
	profilerOpts  []profiling.Option // appended to the demo's profiler options
	progressEvery time.Duration      // 0: every second on a terminal, every 10 s otherwise
	ready         func(demoRunning)  // called once everything runs, before the load starts
	episodes      esstandin.Overload // with overload: the schedule; zero: stack.DemoOverload()
	esTimeout     time.Duration      // a search's Elasticsearch round-trip under the breaker; 0: its default
	heavyRanking  float64            // 1.4.2's share of heavily ranked searches; 0: stack.DemoHeavyRanking
}

// demoRunning is what a running demo tells demoConfig.ready.
type demoRunning struct {
	collectorURL string
	searchURL    string
	dataDir      string
}

// parseDemoFlags reads the flags of `hotpath demo`, then the environment for those not given.
func parseDemoFlags(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (demoConfig, error) {
	fs := newFlagSet("demo", stderr,
		"Runs, in this process, the collector (with a temporary data directory), the example search",
		"service (examples/search: a segmenter, Elasticsearch or its stand-in, the service itself),",
		"traced by hotpath's agent and profiled by its profiler, and a shop's search traffic, with the",
		"example's performance problems turned on. It prints the UI's address and what to look at;",
		"Ctrl-C stops it. With ELASTICSEARCH_URL (and ELASTICSEARCH_API_KEY or ELASTICSEARCH_CA_CERT)",
		"the service searches that cluster instead of the stand-in.",
	)
	cfg := demoConfig{seed: 1}
	logLevel := zapcore.WarnLevel
	fs.StringVar(&cfg.listen, "listen", demoListen, "`address` of the collector and its UI; if the default is busy, a free port is used instead")
	fs.Float64Var(&cfg.rate, "rate", demoRate, "searches per `second` sent to the service")
	fs.DurationVar(&cfg.duration, "duration", 0, "stop after this `long` (default: run until Ctrl-C)")
	fs.BoolVar(&cfg.keepData, "keep-data", false, "keep the collector's data directory at exit (`hotpath collector --data DIR` serves it again)")
	fs.IntVar(&cfg.catalogSize, "catalog-size", catalog.DefaultSize, "products in the catalog loaded into the Elasticsearch stand-in")
	fs.DurationVar(&cfg.slowThreshold, "slow", stack.DemoSlowThreshold, "`threshold` past which a search is slow: labelled so, and profiled while it runs")
	fs.BoolVar(&cfg.setupIndex, "setup-index", false, "with ELASTICSEARCH_URL: recreate the index and load the catalog into the cluster first")
	fs.BoolVar(&cfg.overload, "overload", true, "Elasticsearch stand-in overload episodes (30 s, the first a minute in, then every 4 minutes): the breaker opens, the emergency cache answers; --overload=false turns them off")
	fs.Var(&logLevel, "log-level", "`level` of the logs written to stderr: debug, info, warn, error")
	if err := parseFlags(fs, args, lookupEnv); err != nil {
		return cfg, err
	}
	fs.Visit(func(f *flag.Flag) { cfg.listenGiven = cfg.listenGiven || f.Name == "listen" }) // HOTPATH_LISTEN too
	cfg.logLevel = logLevel
	switch {
	case !(cfg.rate > 0 && cfg.rate <= demoMaxRate): // also refuses NaN
		return cfg, fmt.Errorf("demo: --rate %v: want searches per second, more than 0 and at most %d", cfg.rate, demoMaxRate)
	case cfg.duration < 0:
		return cfg, fmt.Errorf("demo: --duration %v: want a positive duration, or 0 to run until Ctrl-C", cfg.duration)
	case cfg.catalogSize < 1:
		return cfg, fmt.Errorf("demo: --catalog-size %d: want at least one product", cfg.catalogSize)
	case cfg.slowThreshold <= 0:
		return cfg, fmt.Errorf("demo: --slow %v: want a positive duration", cfg.slowThreshold)
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return cfg, fmt.Errorf("demo: --listen %q: want host:port, such as %s: %w", cfg.listen, demoListen, err)
	}
	cfg.esURL, _ = lookupEnv("ELASTICSEARCH_URL")
	cfg.esAPIKey, _ = lookupEnv("ELASTICSEARCH_API_KEY")
	if path, ok := lookupEnv("ELASTICSEARCH_CA_CERT"); ok && path != "" {
		ca, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("demo: ELASTICSEARCH_CA_CERT: %w", err)
		}
		cfg.esCACert = ca
	}
	if cfg.setupIndex && cfg.esURL == "" {
		return cfg, errors.New("demo: --setup-index needs ELASTICSEARCH_URL (the stand-in is always loaded)")
	}
	return cfg, nil
}

// runDemo is `hotpath demo`.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseDemoFlags(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	return demo(ctx, cfg, stdout, stderr)
}

// demo runs everything until ctx is done or cfg.duration has passed, then stops it in order: the load
// (its requests in flight finish), the search example (the segmenter's and the service's agents flushed),
// the profiler (its last captures uploaded), the collector (its store closed), and removes the data
// directory unless cfg.keepData.
func demo(ctx context.Context, cfg demoConfig, stdout, stderr io.Writer) (err error) {
	log := newLogger(stderr, cfg.logLevel)
	defer func() { _ = log.Sync() }()

	// apmhttp, under agent.Wrap, starts apm.DefaultTracer() even when given another tracer. Left
	// recording, it would send its metrics, as a service named after this executable, to
	// ELASTIC_APM_SERVER_URL: localhost:8200 by default, the demo's own collector.
	apm.DefaultTracer().SetRecording(false)
	defer apm.DefaultTracer().Close()

	dataDir, err := os.MkdirTemp("", "hotpath-demo-")
	if err != nil {
		return fmt.Errorf("demo: data directory: %w", err)
	}
	defer func() {
		if cfg.keepData {
			fmt.Fprintf(stdout, "The data is kept in %s: `hotpath collector --data %s` serves it again.\n", dataDir, dataDir)
			return
		}
		if rmErr := os.RemoveAll(dataDir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("demo: remove the data directory: %w", rmErr))
		}
	}()

	// The collector, first: everything else sends to it.
	c, ln, err := startDemoCollector(cfg, dataDir, log, stdout)
	if err != nil {
		return err
	}
	collectorURL := "http://" + ln.Addr().String()
	collectorCtx, stopCollector := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCollector()
	served := make(chan error, 1)
	go func() { served <- c.serve(collectorCtx, ln) }()
	var serveErr error
	serveDone := false
	stopAll := func(errs ...error) error { // stops the collector last, after errs' steps
		stopCollector()
		if !serveDone {
			serveErr, serveDone = <-served, true
		}
		return errors.Join(append(errs, serveErr)...)
	}

	// The agents of the two services, and the profiler of the search service.
	// The search service runs as two versions side by side, as during a deploy: demoOldVersion with
	// the example's trouble, demoNewVersion with it fixed; the load goes half to each.
	searchTracer, err := newDemoTracer(demoService, demoOldVersion, collectorURL)
	if err != nil {
		return stopAll(err)
	}
	newTracer, err := newDemoTracer(demoService, demoNewVersion, collectorURL)
	if err != nil {
		searchTracer.Close()
		return stopAll(err)
	}
	segTracer, err := newDemoTracer(segmenterService, "", collectorURL)
	if err != nil {
		searchTracer.Close()
		newTracer.Close()
		return stopAll(err)
	}
	closeTracers := func() error {
		fctx, cancel := context.WithTimeout(context.Background(), demoStopTimeout)
		defer cancel()
		for _, tr := range []*apm.Tracer{searchTracer, newTracer, segTracer} {
			tr.Flush(fctx.Done())
			tr.Close()
		}
		if fctx.Err() != nil {
			return fmt.Errorf("demo: the agents did not finish sending in %v", demoStopTimeout)
		}
		return nil
	}
	inflight := agent.NewInFlight()
	uploads := &http.Transport{}
	defer uploads.CloseIdleConnections()
	prof, err := profiling.New(append([]profiling.Option{
		profiling.WithInFlight(inflight),
		profiling.WithServerURL(collectorURL),
		profiling.WithService(demoService, "", demoEnvironment),
		profiling.WithHTTPClient(&http.Client{Transport: uploads, Timeout: 30 * time.Second}),
		profiling.WithLogger(log.Named("profiling")),
		// The service has one route: the default cooldown (one capture per route a minute) would leave
		// the rate limit (10 a minute) unused.
		profiling.WithRouteCooldown(0),
		// The demo shows captures with their execution trace: the flight recorder is opt-in.
		profiling.WithFlightRecorder(trace.FlightRecorderConfig{}),
	}, cfg.profilerOpts...)...)
	if err != nil {
		return stopAll(closeTracers(), fmt.Errorf("demo: profiler: %w", err))
	}
	stopProfiler := func() error { return stopWithin("profiler", prof.Shutdown) }

	// The search example, its trouble on.
	fmt.Fprintf(stdout, "Starting the search example (%s)...\n", describeElasticsearch(cfg))
	st, err := stack.Start(ctx, stack.Config{
		ElasticsearchURL:    cfg.esURL,
		ElasticsearchAPIKey: cfg.esAPIKey,
		ElasticsearchCACert: cfg.esCACert,
		SetupIndex:          cfg.setupIndex,
		CatalogSize:         cfg.catalogSize,
		Trouble:             true,
		Search: search.Config{Tracer: searchTracer, InFlight: inflight, SlowThreshold: cfg.slowThreshold,
			Seed: cfg.seed, Failover: search.Failover{On: true, Timeout: cfg.esTimeout},
			Trouble: search.Trouble{QuadraticSynonyms: cfg.heavyRanking > 0, HeavyRanking: cfg.heavyRanking}},
		// 1.5.0 is not profiled: in this one process, a CPU profile taken while one of its searches ran
		// would show the CPU of 1.4.2's concurrent searches (the quadratic expansion on top of a search that
		// never expands), where a deployed 1.5.0 has a process, and a profiler, of its own.
		Beside: &search.Config{Tracer: newTracer, SlowThreshold: cfg.slowThreshold, Seed: cfg.seed,
			Failover: search.Failover{On: true, Timeout: cfg.esTimeout}},
		Overload:    demoOverload(cfg),
		WarmQueries: search.NewQueryMix(cfg.seed).PopularQueries(),
		Segmenter:   segmenter.Config{Tracer: segTracer, Seed: cfg.seed},
		Logger:      log.Named("example"),
	})
	if err != nil {
		stopErr := stopAll(stopProfiler(), closeTracers())
		if ctx.Err() != nil { // interrupted while starting
			return stopErr
		}
		return errors.Join(fmt.Errorf("demo: %w", err), stopErr)
	}
	stopExample := func() error { return stopWithin("stop the search example", st.Shutdown) }

	printDemoGuide(stdout, cfg, collectorURL, dataDir, st)
	if cfg.ready != nil {
		cfg.ready(demoRunning{collectorURL: collectorURL, searchURL: st.SearchURL, dataDir: dataDir})
	}

	// The load, until Ctrl-C or the duration.
	runCtx, cancelRun := ctx, context.CancelFunc(func() {})
	if cfg.duration > 0 {
		runCtx, cancelRun = context.WithTimeout(ctx, cfg.duration)
	}
	defer cancelRun()
	load := newSearchLoad([]string{st.SearchURL, st.BesideURL}, cfg.rate, search.NewQueryMix(cfg.seed), cfg.slowThreshold)
	progress := newProgress(stdout, cfg.progressEvery, func() progressFigures {
		return progressFigures{load: load.snapshot(), profiles: prof.Stats().Uploaded}
	})
	began := time.Now()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		load.run(runCtx)
	}()
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		progress.run(runCtx)
	}()

	select {
	case <-runCtx.Done():
	case serveErr = <-served: // the collector failed: stop the rest
		serveDone = true
		cancelRun()
	}
	<-progressDone
	fmt.Fprintln(stdout, "Stopping: the load, the search example, the agents and the profiler, then the collector...")
	<-loadDone
	err = stopAll(stopExample(), closeTracers(), stopProfiler())
	fig := progressFigures{load: load.snapshot(), profiles: prof.Stats().Uploaded}
	fmt.Fprintf(stdout, "Ran %v: %s.\n", time.Since(began).Round(time.Second), fig.summary())
	return err
}

// startDemoCollector opens the collector on dataDir and listens on cfg.listen. If that is the default
// address and it is busy (another collector?), it listens on a free loopback port instead and says so.
func startDemoCollector(cfg demoConfig, dataDir string, log *zap.Logger, stdout io.Writer) (*collectorServer, net.Listener, error) {
	c, err := openCollector(collectorConfig{
		listen:          cfg.listen,
		dataDir:         dataDir,
		retention:       24 * time.Hour,
		shutdownTimeout: demoStopTimeout,
		logLevel:        cfg.logLevel,
		http:            defaultHTTPLimits,
	}, log.Named("collector"))
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil && !cfg.listenGiven && errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(cfg.listen)
		var fallback error
		if ln, fallback = net.Listen("tcp", net.JoinHostPort(host, "0")); fallback == nil {
			fmt.Fprintf(stdout, "%s is in use (another collector?): the demo's collector listens on %s instead.\n",
				cfg.listen, ln.Addr())
			err = nil
		}
	}
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = " (in use: choose another address, or 127.0.0.1:0 for any free port)"
		}
		return nil, nil, errors.Join(fmt.Errorf("demo: --listen %s: %w%s", cfg.listen, err, hint), c.close())
	}
	return c, ln, nil
}

// newDemoTracer returns an Elastic APM tracer for service (and its version, when not "") that sends to
// the collector at collectorURL. The other ELASTIC_APM_* settings apply as usual.
func newDemoTracer(service, version, collectorURL string) (*apm.Tracer, error) {
	u, err := url.Parse(collectorURL)
	if err != nil {
		return nil, fmt.Errorf("demo: collector URL: %w", err)
	}
	tp, err := transport.NewHTTPTransport(transport.HTTPTransportOptions{ServerURLs: []*url.URL{u}})
	if err != nil {
		return nil, fmt.Errorf("demo: %s's agent: %w", service, err)
	}
	tracer, err := apm.NewTracerOptions(apm.TracerOptions{ServiceName: service, ServiceVersion: version, ServiceEnvironment: demoEnvironment, Transport: tp})
	if err != nil {
		return nil, fmt.Errorf("demo: %s's agent: %w", service, err)
	}
	tracer.SetRequestDuration(demoRequestTime)
	tracer.SetMetricsInterval(demoMetricsInterval)
	return tracer, nil
}

func describeElasticsearch(cfg demoConfig) string {
	if cfg.esURL == "" {
		return fmt.Sprintf("the segmenter, the Elasticsearch stand-in with %d products, the search service", cfg.catalogSize)
	}
	u, err := url.Parse(cfg.esURL)
	host := "(unparsable URL)"
	if err == nil {
		host = u.Host // never the user information
	}
	return "the segmenter, Elasticsearch at " + host + ", the search service"
}

// printDemoGuide prints where the UI is and the three clicks from the slowest endpoint to a profile.
func printDemoGuide(w io.Writer, cfg demoConfig, collectorURL, dataDir string, st *stack.Stack) {
	uiURL := collectorURL + ui.Prefix
	endpoint := uiURL + "?" + url.Values{"page": {"endpoint"}, "service": {demoService}, "name": {"GET /search"},
		"range": {"15m"}}.Encode()
	stop := "Ctrl-C stops it"
	if cfg.duration > 0 {
		stop = fmt.Sprintf("It stops after %v, or at Ctrl-C", cfg.duration)
	}
	fate := "removed at exit (--keep-data keeps it)"
	if cfg.keepData {
		fate = "kept at exit (--keep-data)"
	}
	fmt.Fprintf(w, `
hotpath demo: a shop's search service, traced by hotpath's agent and profiled while its requests are slow,
under %s searches a second (popular queries, a long tail, a few product descriptions pasted into the box).

  UI          %s
  collector   %s (ELASTIC_APM_SERVER_URL for your own services)
  search      %s/search?q=running+shoes
  data        %s, %s

Slow searches (over %v) start within a minute. Then, in the UI:
  1. Open the UI and click GET /search, the slowest endpoint of the service %q:
     %s
  2. Under "Slowest transactions", click a duration: the waterfall shows where that search spent its time.
       %-12s POST segmenter: the segmenter was reloading its dictionary (waiting, off CPU)
       the others   build query: a product description pasted into the search box (CPU in the service),
                    or Elasticsearch with a large "ES took": the personalized ranking script
  3. Under the waterfall, "Open the flame graphs": the profile captured while that search was running.
     For a long build query, expandSynonyms is on top of the CPU flame graph: the synonym expansion is
     quadratic in the query's length. For a slow segmenter call, the Goroutines tab shows where it waited.
  4. The service runs as two versions side by side, half the searches each: %s with that trouble, %s
     with it fixed. "Compare versions" on the endpoint page says what the fix did, and how sure that is:
     %s
  5. "dependencies" beside the service: what it calls, Elasticsearch and the segmenter, with calls per
     minute, error rate and p50/p95/p99; "queries": which kinds of Elasticsearch query cost the time:
     %s

%s.
`, formatRate(cfg.rate), uiURL, collectorURL, st.SearchURL, dataDir, fate, cfg.slowThreshold, demoService, endpoint,
		"about "+stack.DemoSegmenterSlowDelay.String(), demoOldVersion, demoNewVersion,
		uiURL+"?"+url.Values{"page": {"compare"}, "service": {demoService}, "by": {"version"}, "a": {demoOldVersion},
			"b": {demoNewVersion}, "range": {"15m"}}.Encode(),
		uiURL+"?"+url.Values{"page": {"dependencies"}, "service": {demoService}, "range": {"15m"}}.Encode(), stop)
}

func formatRate(r float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", r), "0"), ".")
}

// demoOverload returns the stand-in's overload schedule: none with --overload=false.
func demoOverload(cfg demoConfig) esstandin.Overload {
	switch {
	case !cfg.overload:
		return esstandin.Overload{}
	case cfg.episodes != (esstandin.Overload{}):
		return cfg.episodes
	}
	return stack.DemoOverload()
}

// stopWithin runs shutdown with demoStopTimeout to finish, its error said as what failed.
func stopWithin(what string, shutdown func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), demoStopTimeout)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		return fmt.Errorf("demo: %s: %w", what, err)
	}
	return nil
}
