package profiling

import (
	"fmt"
	"net/http"
	"os"
	"runtime/trace"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// Defaults of the options.
const (
	DefaultCPUChunk              = 5 * time.Second
	DefaultCPURing               = 10 * time.Second
	DefaultFlightRecorderMinAge  = 5 * time.Second
	DefaultFlightRecorderMaxSize = 8 << 20
	DefaultMaxConcurrentCaptures = 2
	DefaultRateLimit             = 10 // captures per DefaultRateLimitPeriod
	DefaultRateLimitPeriod       = time.Minute
	DefaultRouteCooldown         = time.Minute
	DefaultMaxCaptureDuration    = 10 * time.Second
	DefaultGoroutineInterval     = 250 * time.Millisecond
)

// Option configures New.
type Option func(*config)

type config struct {
	inflight           *agent.InFlight // nil: no per-request labels, no slow-request captures
	logger             *zap.Logger     // never nil after newConfig
	cpuChunk           time.Duration
	cpuRing            time.Duration               // 0: record CPU only while a capture needs it
	flight             *trace.FlightRecorderConfig // nil: no flight recorder
	maxConcurrent      int
	rateN              int
	ratePer            time.Duration
	routeCooldown      time.Duration
	maxCapture         time.Duration
	goroutineEvery     time.Duration // 0: one goroutine snapshot per capture
	uploader           Uploader      // nil: the intake uploader, built by New from upload
	upload             uploadConfig
	rules              map[Resource]Rule
	onDemandMaxSeconds int
	triggerInterval    time.Duration

	readResources func() resourceValues // tests: replaces the runtime's readings

	slowHook func(id string) // tests: called when RequestSlow has started a capture
}

func newConfig(opts []Option) config {
	c := config{
		cpuChunk:           DefaultCPUChunk,
		cpuRing:            DefaultCPURing,
		maxConcurrent:      DefaultMaxConcurrentCaptures,
		rateN:              DefaultRateLimit,
		ratePer:            DefaultRateLimitPeriod,
		routeCooldown:      DefaultRouteCooldown,
		maxCapture:         DefaultMaxCaptureDuration,
		goroutineEvery:     DefaultGoroutineInterval,
		triggerInterval:    DefaultTriggerInterval,
		onDemandMaxSeconds: DefaultOnDemandMaxSeconds,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = zap.NewNop()
	}
	return c
}

// WithInFlight makes the profiler the Listener of f (agent.InFlight.Listen), the registry shared by the
// handlers wrapped with agent.WithInFlight(f): every request they trace then runs with pprof labels
// (route, trace.id, transaction.id), and requests that cross their slow threshold are captured. New fails
// if f already has a listener. Default: none; the profiler then sees no requests.
func WithInFlight(f *agent.InFlight) Option {
	if f == nil {
		panic("profiling: WithInFlight(nil)")
	}
	return func(c *config) { c.inflight = f }
}

// WithLogger logs what the profiler does (captures started and skipped, uploads, failures) to l.
// Default: nothing is logged.
func WithLogger(l *zap.Logger) Option {
	if l == nil {
		panic("profiling: WithLogger(nil)")
	}
	return func(c *config) { c.logger = l }
}

// WithCPURing records the CPU profile all the time, as consecutive profiles of chunk each, and keeps
// those of the last span: a slow request's capture then has its CPU samples from the request's start,
// as long as its threshold is below span (see the package documentation for the cost). Each chunk's end
// loses the samples of the time pprof.StopCPUProfile takes to write it (Stats.CPUGap): longer chunks
// lose less, and only make the ring drop old samples by bigger steps. chunk must be positive and span at
// least chunk. Default: DefaultCPUChunk (5 s) chunks, DefaultCPURing (10 s) span.
func WithCPURing(chunk, span time.Duration) Option {
	if chunk <= 0 || span < chunk {
		panic("profiling: WithCPURing needs 0 < chunk <= span")
	}
	return func(c *config) { c.cpuChunk, c.cpuRing = chunk, span }
}

// WithoutCPURing records the CPU profile only while a capture or an on-demand request needs it: nothing
// is recorded (and nothing is spent) while no request is slow, but a slow request's CPU profile starts
// when it crosses its threshold, so the samples of its first threshold of running are missing.
// Default: the ring is on (WithCPURing).
func WithoutCPURing() Option {
	return func(c *config) { c.cpuRing = 0 }
}

// WithFlightRecorder turns the execution-trace flight recorder on, with the window cfg
// (runtime/trace.FlightRecorderConfig: MinAge, MaxBytes; zero fields are DefaultFlightRecorderMinAge, 5 s,
// and DefaultFlightRecorderMaxSize, 8 MiB): every capture then ends with the execution trace of its last
// seconds. The process pays for execution tracing all the time (see the package doc, "The flight
// recorder": 3.4 % of a CPU-bound service's CPU in BENCHMARKS.md). Default: off (WithoutFlightRecorder).
func WithFlightRecorder(cfg trace.FlightRecorderConfig) Option {
	if cfg.MinAge == 0 {
		cfg.MinAge = DefaultFlightRecorderMinAge
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultFlightRecorderMaxSize
	}
	return func(c *config) { c.flight = &cfg }
}

// WithoutFlightRecorder turns the flight recorder off: captures have no execution trace, and the process
// pays nothing for tracing. This is the default; it undoes an earlier WithFlightRecorder.
func WithoutFlightRecorder() Option {
	return func(c *config) { c.flight = nil }
}

// WithMaxConcurrentCaptures lets at most n captures collect at the same time; a request that turns slow
// while n are running is not captured. n must be positive. Default: DefaultMaxConcurrentCaptures (2).
func WithMaxConcurrentCaptures(n int) Option {
	if n <= 0 {
		panic("profiling: WithMaxConcurrentCaptures needs n > 0")
	}
	return func(c *config) { c.maxConcurrent = n }
}

// WithRateLimit lets at most n captures start in a row, and then n per period on average (a token
// bucket shared by every trigger). n and per must be positive. Default: DefaultRateLimit (10) per
// DefaultRateLimitPeriod (1 min).
func WithRateLimit(n int, per time.Duration) Option {
	if n <= 0 || per <= 0 {
		panic("profiling: WithRateLimit needs n > 0 and per > 0")
	}
	return func(c *config) { c.rateN, c.ratePer = n, per }
}

// WithRouteCooldown captures a route (agent.Request.Route) at most once per d, so that one slow route
// does not use up the rate limit; 0 turns the cooldown off. Default: DefaultRouteCooldown (1 min).
func WithRouteCooldown(d time.Duration) Option {
	if d < 0 {
		panic("profiling: WithRouteCooldown(d < 0)")
	}
	return func(c *config) { c.routeCooldown = d }
}

// WithMaxCaptureDuration ends a slow request's capture d after the request crossed its threshold if the
// request is still running then (its capture says Ended: false). d must be positive. Default:
// DefaultMaxCaptureDuration (10 s).
func WithMaxCaptureDuration(d time.Duration) Option {
	if d <= 0 {
		panic("profiling: WithMaxCaptureDuration needs d > 0")
	}
	return func(c *config) { c.maxCapture = d }
}

// WithGoroutineInterval takes a goroutine snapshot every d while a slow request runs, on top of the one
// taken when it crosses its threshold, so that its goroutine profile shows where it waited over time
// (at most 64 snapshots); 0 takes only the first. Each snapshot costs a goroutine profile of the whole
// process. Default: DefaultGoroutineInterval (250 ms).
func WithGoroutineInterval(d time.Duration) Option {
	if d < 0 {
		panic("profiling: WithGoroutineInterval(d < 0)")
	}
	return func(c *config) { c.goroutineEvery = d }
}

// WithTrigger captures the process (CPU profile from one check interval before to one after, goroutine
// and heap profiles, flight recorder) when resource r passes rule at a check. Captures share admission
// with slow requests (concurrency cap, rate limit); each rule has its own cooldown. Repeated options for
// one resource keep the last. Default: no resource triggers, and no checker goroutine.
func WithTrigger(r Resource, rule Rule) Option {
	if !slices.Contains(resources[:], r) {
		panic(fmt.Sprintf("profiling: WithTrigger: unknown resource %q", r))
	}
	if rule.Abs < 0 || rule.Min < 0 || rule.Diff < 0 || rule.Cooldown < 0 || (rule.Abs == 0 && rule.Diff == 0) {
		panic(fmt.Sprintf("profiling: WithTrigger(%s): a rule needs Abs > 0 or Diff > 0, and no negative field", r))
	}
	return func(c *config) {
		if c.rules == nil {
			c.rules = make(map[Resource]Rule)
		}
		c.rules[r] = rule
	}
}

// WithTriggerInterval checks the resources every d. d must be positive. Default:
// DefaultTriggerInterval (5 s).
func WithTriggerInterval(d time.Duration) Option {
	if d <= 0 {
		panic("profiling: WithTriggerInterval needs d > 0")
	}
	return func(c *config) { c.triggerInterval = d }
}

// WithOnDemandMaxSeconds caps the seconds parameter of the on-demand handler (Handler) at n. n must be
// positive. Default: DefaultOnDemandMaxSeconds (60).
func WithOnDemandMaxSeconds(n int) Option {
	if n <= 0 {
		panic("profiling: WithOnDemandMaxSeconds needs n > 0")
	}
	return func(c *config) { c.onDemandMaxSeconds = n }
}

// WithServerURL uploads captures to url + ProfilePath (url is the collector's, or an APM Server's, base
// URL, as ELASTIC_APM_SERVER_URL). Default: ELASTIC_APM_SERVER_URL, else the first of
// ELASTIC_APM_SERVER_URLS, else http://localhost:8200, as the Elastic Go agent.
func WithServerURL(url string) Option {
	return func(c *config) { c.upload.serverURL = url }
}

// WithSecretToken authenticates uploads with "Authorization: Bearer token". Default:
// ELASTIC_APM_SECRET_TOKEN (an API key, WithAPIKey or ELASTIC_APM_API_KEY, takes precedence).
func WithSecretToken(token string) Option {
	return func(c *config) { c.upload.secretToken = token }
}

// WithAPIKey authenticates uploads with "Authorization: ApiKey key". Default: ELASTIC_APM_API_KEY.
func WithAPIKey(key string) Option {
	return func(c *config) { c.upload.apiKey = key }
}

// WithService names the service in the uploads' metadata. Default: ELASTIC_APM_SERVICE_NAME (else the
// executable's name), ELASTIC_APM_SERVICE_VERSION and ELASTIC_APM_ENVIRONMENT, as the Elastic Go agent
// names it, so that profiles and traces are of the same service.
func WithService(name, version, environment string) Option {
	if name == "" {
		panic("profiling: WithService needs a name")
	}
	return func(c *config) {
		c.upload.service = &service{name: name, version: version, environment: environment,
			node: os.Getenv("ELASTIC_APM_SERVICE_NODE_NAME")}
	}
}

// WithHTTPClient sends uploads with client. Default: a client with ELASTIC_APM_SERVER_TIMEOUT (30 s) as
// its timeout, not verifying the server's certificate if ELASTIC_APM_VERIFY_SERVER_CERT is false.
func WithHTTPClient(client *http.Client) Option {
	if client == nil {
		panic("profiling: WithHTTPClient(nil)")
	}
	return func(c *config) { c.upload.client = client }
}

// WithUploader hands every finished capture to u instead of uploading it (the With options of the
// upload are then ignored). Default: captures are uploaded to the collector's ProfilePath.
func WithUploader(u Uploader) Option {
	if u == nil {
		panic("profiling: WithUploader(nil)")
	}
	return func(c *config) { c.uploader = u }
}
