package search

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/examples/search/breaker"
)

// Who answers a search with Config.Failover on: the served_by label of its transaction and its
// X-Served-By header (agent.ServedRejected when nobody did).
const (
	ServedByElasticsearch  = "elasticsearch"
	ServedByEmergencyCache = "emergency_cache"
)

// Defaults for Failover's zero values.
const (
	DefaultFailoverTimeout = 500 * time.Millisecond
	DefaultFailoverOpenFor = 5 * time.Second
	DefaultFailoverTrip    = 5
	DefaultCacheSize       = 5000
	DefaultCacheTTL        = 30 * time.Minute
)

// Failover puts a circuit breaker (sony/gobreaker/v2, reported through agent.Breaker as "elasticsearch")
// in front of Elasticsearch and an emergency cache behind it, as the team in hotpath's story did. A
// search goes to Elasticsearch while the breaker is closed; TripAfter failures in a row (errors, or no
// answer within Timeout) open it; open, it refuses searches at once for OpenFor, then lets one probe
// through (half-open): the probe's success closes it, its failure opens it again. A search the breaker
// refused, or that Elasticsearch failed, is answered from the emergency cache if the cache has an answer
// to the same question (the latest answer Elasticsearch gave, at most CacheTTL old); if not, it is
// refused at once: 503 with Retry-After when the breaker refused it, 502 when Elasticsearch failed.
// The zero value is off.
type Failover struct {
	// On turns the breaker and the emergency cache on.
	On bool
	// Timeout bounds a search's Elasticsearch round-trip; past it the search counts as failed.
	// Default: DefaultFailoverTimeout (500 ms).
	Timeout time.Duration
	// OpenFor is how long the breaker refuses searches before it probes. Default: DefaultFailoverOpenFor
	// (5 s).
	OpenFor time.Duration
	// TripAfter is the failures in a row that open the breaker. Default: DefaultFailoverTrip (5).
	TripAfter uint32
	// CacheSize bounds the answers the emergency cache keeps, least recently used out first. Default:
	// DefaultCacheSize (5,000).
	CacheSize int
	// CacheTTL is how old an answer the emergency cache may give. Default: DefaultCacheTTL (30 min).
	CacheTTL time.Duration
}

func (f *Failover) setDefaults() {
	if f.Timeout <= 0 {
		f.Timeout = DefaultFailoverTimeout
	}
	if f.OpenFor <= 0 {
		f.OpenFor = DefaultFailoverOpenFor
	}
	if f.TripAfter == 0 {
		f.TripAfter = DefaultFailoverTrip
	}
	if f.CacheSize <= 0 {
		f.CacheSize = DefaultCacheSize
	}
	if f.CacheTTL <= 0 {
		f.CacheTTL = DefaultCacheTTL
	}
}

// failover is a Service's breaker and emergency cache.
type failover struct {
	cfg   Failover
	cb    *breaker.Breaker[[]byte]
	cache *emergencyCache
}

func newFailover(cfg Config) *failover {
	f := &failover{cfg: cfg.Failover, cache: newEmergencyCache(cfg.Failover.CacheSize, cfg.Failover.CacheTTL)}
	var opts []agent.BreakerOption
	if cfg.Tracer != nil {
		opts = append(opts, agent.WithBreakerTracer(cfg.Tracer))
	}
	trip := f.cfg.TripAfter
	f.cb = breaker.New[[]byte](gobreaker.Settings{
		Name:        ServedByElasticsearch,
		MaxRequests: 1,
		Timeout:     f.cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= trip },
		// Only Elasticsearch's failures count: a segmenter failure or a bad query says nothing of it,
		// nor does a client that went away.
		IsExcluded: func(err error) bool {
			var f *failure
			return errors.Is(err, context.Canceled) || (errors.As(err, &f) && !f.elasticsearch)
		},
	}, opts...)
	return f
}

// searchFailover answers req through the breaker, or from the emergency cache.
func (s *Service) searchFailover(ctx context.Context, w http.ResponseWriter, log *zap.Logger, req Request) {
	f := s.failover
	key := cacheKey(req)
	answer, err := f.cb.Execute(ctx, func() ([]byte, error) {
		a, fl := s.answer(ctx, log, req, f.cfg.Timeout)
		if fl != nil {
			return nil, fl
		}
		return a, nil
	})
	if err == nil {
		f.cache.put(key, answer, time.Now())
		agent.ServedBy(ctx, ServedByElasticsearch)
		writeAnswer(w, ServedByElasticsearch, answer)
		return
	}
	var fl *failure
	if errors.As(err, &fl) && !fl.elasticsearch {
		if fl.status >= http.StatusInternalServerError { // the segmenter failed: nobody answered
			agent.ServedBy(ctx, agent.ServedRejected)
			w.Header().Set("X-Served-By", agent.ServedRejected)
		}
		writeError(w, fl.status, fl.msg)
		return
	}
	if cached, stored, ok := f.cache.get(key, time.Now()); ok {
		agent.ServedBy(ctx, ServedByEmergencyCache)
		w.Header().Set("Age", strconv.Itoa(int(time.Since(stored)/time.Second)))
		writeAnswer(w, ServedByEmergencyCache, cached)
		return
	}
	agent.ServedBy(ctx, agent.ServedRejected)
	w.Header().Set("X-Served-By", agent.ServedRejected)
	if breaker.Rejected(err) {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.cfg.OpenFor+time.Second-1)/time.Second)))
		writeError(w, http.StatusServiceUnavailable, "search is overloaded; try again shortly")
		return
	}
	writeError(w, fl.status, fl.msg)
}

func writeAnswer(w http.ResponseWriter, servedBy string, answer []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Served-By", servedBy)
	w.Write(answer)
}

// errNoWords is a query the segmenter found no words in.
var errNoWords = errors.New("no searchable words")

// WarmCache loads the answers to queries (searched as GET /search?q=<query> would be) into the emergency
// cache, four at a time, untraced and outside the breaker: a service primes it at start with the
// queries it knows are popular (yesterday's most frequent, say; the demo gives its query mix's popular
// ones). It returns how many answers it stored; it stops early, with ctx's error, when ctx ends. Without
// Config.Failover it does nothing.
func (s *Service) WarmCache(ctx context.Context, queries []string) (int, error) {
	if s.failover == nil {
		return 0, nil
	}
	next := make(chan string)
	var mu sync.Mutex
	stored := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for q := range next {
				req, err := ParseRequest(url.Values{"q": {q}}, s.cfg.MaxQueryBytes)
				if err != nil {
					continue
				}
				if answer, fl := s.answer(ctx, s.cfg.Logger, req, 0); fl == nil {
					s.failover.cache.put(cacheKey(req), answer, time.Now())
					mu.Lock()
					stored++
					mu.Unlock()
				}
			}
		})
	}
	var err error
feed:
	for _, q := range queries {
		select {
		case next <- q:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	return stored, err
}

// Breaker returns the service's breaker hook, nil without Config.Failover.
func (s *Service) Breaker() *agent.Breaker {
	if s.failover == nil {
		return nil
	}
	return s.failover.cb.Hook()
}
