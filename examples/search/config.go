package search

import (
	"fmt"
	"net/url"
	"time"

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// Defaults for Config's zero values.
const (
	DefaultIndex            = "products"
	DefaultSegmenterTimeout = 5 * time.Second
	DefaultMaxQueryBytes    = 4096
)

// Config configures a Service. SegmenterURL and ElasticsearchURL are required; every other zero value
// means the default documented on the field.
type Config struct {
	// SegmenterURL is the segmenter's base URL ("http://127.0.0.1:41234"); the service POSTs to
	// SegmenterURL + "/segment".
	SegmenterURL string
	// SegmenterTimeout bounds a call to the segmenter. Default: DefaultSegmenterTimeout (5 s), above the
	// segmenter's slow calls.
	SegmenterTimeout time.Duration

	// ElasticsearchURL is the cluster's (or the stand-in's) URL. User information in it
	// (https://user:password@host:9200) is sent as basic authentication and never logged.
	ElasticsearchURL string
	// ElasticsearchAPIKey, if set, is sent as the API key (Authorization: ApiKey ...).
	ElasticsearchAPIKey string
	// ElasticsearchCACert is a PEM CA certificate for a cluster with a self-signed certificate.
	// Default: the system's roots.
	ElasticsearchCACert []byte
	// Index is the index searched. Default: DefaultIndex ("products").
	Index string

	// Synonyms expand the query. Default: DefaultSynonyms(), the synonyms.txt shipped with the example.
	Synonyms *Synonyms
	// MaxQueryBytes bounds the q parameter. Default: DefaultMaxQueryBytes (4 KiB).
	MaxQueryBytes int

	// Trouble turns on realistic performance problems, for the demo. Default: none.
	Trouble Trouble
	// Failover puts a circuit breaker in front of Elasticsearch and an emergency cache behind it.
	// Default: off.
	Failover Failover
	// Seed seeds the choice of which requests get heavy ranking (Trouble.HeavyRanking). Default: 0.
	Seed uint64

	// Tracer records the service's transactions and spans. Default: apm.DefaultTracer(), configured by
	// ELASTIC_APM_*.
	Tracer *apm.Tracer
	// InFlight registers running requests for a profiler (profiling.WithInFlight): give the same
	// InFlight to both. Default: none.
	InFlight *agent.InFlight
	// SlowThreshold is when a request counts as slow (agent.WithSlowThreshold). Default:
	// agent.DefaultSlowThreshold (500 ms).
	SlowThreshold time.Duration
	// Logger logs every search, with trace ids; errors logged through it are also sent as APM errors.
	// Default: no logs.
	Logger *zap.Logger
}

// Trouble is the example's deliberate performance problems, each off by default. The demo turns them
// on so that slow requests have causes to find.
type Trouble struct {
	// QuadraticSynonyms expands synonyms with expandSynonyms, which is quadratic in the query's length
	// (CPU in the service: long queries are slow, and the CPU profile shows the function), instead of
	// Synonyms.Expand.
	QuadraticSynonyms bool
	// HeavyRanking is the fraction of requests, in [0, 1], ranked with the personalized script (as if
	// an experiment bucket had it on), which scores every match against the user's recently viewed
	// products: Elasticsearch time, seen as a large took. Requests with rank=personalized always are.
	HeavyRanking float64
}

func (c *Config) setDefaults() error {
	if c.SegmenterURL == "" || c.ElasticsearchURL == "" {
		return fmt.Errorf("search: Config needs SegmenterURL and ElasticsearchURL")
	}
	for _, raw := range []string{c.SegmenterURL, c.ElasticsearchURL} {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("search: %q is not an http(s) URL", redactURL(raw))
		}
	}
	if c.Trouble.HeavyRanking < 0 || c.Trouble.HeavyRanking > 1 {
		return fmt.Errorf("search: Trouble.HeavyRanking %v outside [0, 1]", c.Trouble.HeavyRanking)
	}
	if c.Failover.On {
		c.Failover.setDefaults()
	}
	if c.SegmenterTimeout <= 0 {
		c.SegmenterTimeout = DefaultSegmenterTimeout
	}
	if c.Index == "" {
		c.Index = DefaultIndex
	}
	if c.Synonyms == nil {
		c.Synonyms = DefaultSynonyms()
	}
	if c.MaxQueryBytes <= 0 {
		c.MaxQueryBytes = DefaultMaxQueryBytes
	}
	if c.SlowThreshold == 0 {
		c.SlowThreshold = agent.DefaultSlowThreshold
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return nil
}

// redactURL returns raw without its password, for messages and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
