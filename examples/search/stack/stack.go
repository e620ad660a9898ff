// Package stack starts the whole search example in one process: the segmenter, Elasticsearch (the
// stand-in loaded with the catalog, or a real cluster), and the search service, each on its own loopback
// listener, and shuts them down together. It is what the example's searchd command and hotpath demo run.
//
//	st, err := stack.Start(ctx, stack.Config{Trouble: true, Search: search.Config{InFlight: inflight}})
//	if err != nil { ... }
//	defer st.Shutdown(context.Background())
//	http.Get(st.SearchURL + "/search?q=러닝화")
package stack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/loopback"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

// The demo's trouble, set by Config.Trouble where the fields it sets are zero.
const (
	DemoHeavyRanking          = 0.05                   // search.Trouble.HeavyRanking
	DemoSegmenterSlowFraction = 0.03                   // segmenter.Config.SlowFraction
	DemoSegmenterSlowDelay    = 900 * time.Millisecond // segmenter.Config.SlowDelay
	DemoSegmenterDelay        = 2 * time.Millisecond   // segmenter.Config.Delay
	DemoSlowThreshold         = 250 * time.Millisecond // search.Config.SlowThreshold
)

// DemoOverload returns the demo's schedule of Elasticsearch overload episodes (Config.Overload): the first a
// minute after the start, then every four minutes, each half a minute of searches 1.5 s slower, three
// times the breaker's default time limit.
func DemoOverload() esstandin.Overload {
	return esstandin.Overload{First: time.Minute, Every: 4 * time.Minute, Length: 30 * time.Second,
		Delay: 1500 * time.Millisecond}
}

// Config configures Start. The zero value starts the example without trouble, on the stand-in, with the
// default catalog, traced by apm.DefaultTracer() (the service) and a tracer named "segmenter".
type Config struct {
	// ElasticsearchURL is a real cluster to search. Default: "", start the stand-in (esstandin) and load
	// the catalog into it.
	ElasticsearchURL string
	// ElasticsearchAPIKey and ElasticsearchCACert (PEM) authenticate to the cluster, as
	// search.Config's fields of the same names. Default: none.
	ElasticsearchAPIKey string
	ElasticsearchCACert []byte
	// SetupIndex, with ElasticsearchURL, (re)creates the index and loads the catalog into the cluster
	// before serving. Default: false, the cluster's index is used as it is (see cmd/esindex).
	SetupIndex bool

	// CatalogSeed and CatalogSize choose the catalog loaded. Defaults: catalog.DefaultSeed,
	// catalog.DefaultSize.
	CatalogSeed uint64
	CatalogSize int

	// SegmenterURL is a segmenter already running. Default: "", start one from Segmenter.
	SegmenterURL string
	// Segmenter configures the segmenter started. If its Tracer is nil, Start makes one named
	// "segmenter" (apm.NewTracer, configured by ELASTIC_APM_* otherwise) and closes it at Shutdown.
	Segmenter segmenter.Config

	// Search configures the search service; Start fills SegmenterURL and ElasticsearchURL.
	Search search.Config
	// SearchAddr is where the service listens. Default: loopback.DefaultAddr (127.0.0.1, any port).
	SearchAddr string
	// Beside, when set, starts a second search service beside the first, on the same segmenter and
	// Elasticsearch, with this configuration (Start fills its URLs; Trouble does not apply to it): another
	// version of the service, as a deploy runs old and new side by side (the demo's 1.5.0, with the
	// trouble fixed, beside 1.4.2). Give it a tracer of its own reporting its service.version.
	// Default: none.
	Beside *search.Config

	// Trouble turns on the example's deliberate problems with the demo's settings, where Search.Trouble
	// and Segmenter leave them zero: quadratic synonyms, DemoHeavyRanking, and the segmenter's
	// DemoSegmenterSlowFraction of DemoSegmenterSlowDelay (and DemoSegmenterDelay on every call). It
	// also lowers the slow threshold to DemoSlowThreshold if Search.SlowThreshold is zero: pasted
	// queries and heavy rankings take 100 ms to 1 s, slow calls to the segmenter about DemoSegmenterSlowDelay.
	Trouble bool

	// Overload schedules the stand-in's overload episodes (esstandin.Config.Overload); DemoOverload is
	// the demo's. Ignored with a real cluster. Default: none.
	Overload esstandin.Overload
	// WarmQueries are loaded into the search service's emergency cache (and the second one's, with
	// Beside) before Start returns, when Failover is on (search.Service.WarmCache). Default: none.
	WarmQueries []string

	// Logger logs startup and the parts' logs. Default: none.
	Logger *zap.Logger
}

// Stack is the running example.
type Stack struct {
	SearchURL        string             // the search service: GET SearchURL + "/search?q=..."
	SegmenterURL     string             // the segmenter
	ElasticsearchURL string             // the cluster or the stand-in
	StandIn          *esstandin.StandIn // the stand-in, nil with a real cluster
	Service          *search.Service    // the search service
	BesideURL        string             // the second search service (Config.Beside), or ""
	Beside           *search.Service    // the second search service, or nil
	Products         []catalog.Product  // the catalog loaded (nil with a cluster and no SetupIndex)
	servers          []*loopback.Server // started, in order
	segTracer        *apm.Tracer        // owned: closed at Shutdown
}

// Start starts the parts: the segmenter, Elasticsearch (the stand-in, filled with the catalog through the
// same SetupIndex as a cluster), the search service. On error, what was started is stopped.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.CatalogSeed == 0 {
		cfg.CatalogSeed = catalog.DefaultSeed
	}
	if cfg.CatalogSize == 0 {
		cfg.CatalogSize = catalog.DefaultSize
	}
	if cfg.Trouble {
		applyTrouble(&cfg)
	}
	st := &Stack{}
	started := false
	defer func() {
		if !started {
			st.Shutdown(context.Background())
		}
	}()
	var err error

	st.SegmenterURL = cfg.SegmenterURL
	if st.SegmenterURL == "" {
		segCfg := cfg.Segmenter
		if segCfg.Logger == nil {
			segCfg.Logger = cfg.Logger.Named("segmenter")
		}
		if segCfg.Tracer == nil {
			if st.segTracer, err = apm.NewTracer("segmenter", ""); err != nil {
				return nil, fmt.Errorf("stack: segmenter tracer: %w", err)
			}
			segCfg.Tracer = st.segTracer
		}
		seg, err := segmenter.New(segCfg)
		if err != nil {
			return nil, fmt.Errorf("stack: %w", err)
		}
		srv, err := st.serve("", seg.Handler())
		if err != nil {
			return nil, fmt.Errorf("stack: segmenter: %w", err)
		}
		st.SegmenterURL = srv.URL()
	}

	st.ElasticsearchURL = cfg.ElasticsearchURL
	setup := cfg.SetupIndex
	if st.ElasticsearchURL == "" {
		st.StandIn = esstandin.New(esstandin.Config{Logger: cfg.Logger.Named("esstandin"), Overload: cfg.Overload})
		srv, err := st.serve("", st.StandIn.Handler())
		if err != nil {
			return nil, fmt.Errorf("stack: Elasticsearch stand-in: %w", err)
		}
		st.ElasticsearchURL = srv.URL()
		setup = true
	}
	index := cfg.Search.Index
	if index == "" {
		index = search.DefaultIndex
	}
	if setup {
		st.Products = catalog.Generate(cfg.CatalogSeed, cfg.CatalogSize)
		// Untraced: a client of its own, with no transaction in ctx.
		es, closeIdle, err := search.NewElasticsearchClient(st.ElasticsearchURL, cfg.ElasticsearchAPIKey, cfg.ElasticsearchCACert)
		if err != nil {
			return nil, fmt.Errorf("stack: %w", err)
		}
		err = search.SetupIndex(ctx, es, search.Setup{Index: index, Products: st.Products, Recreate: true,
			Logger: cfg.Logger.Named("setup")})
		closeIdle()
		if err != nil {
			return nil, fmt.Errorf("stack: %w", err)
		}
	}

	if st.Service, st.SearchURL, err = st.startSearch(ctx, &cfg, cfg.Search, cfg.SearchAddr, "search", "search service"); err != nil {
		return nil, err
	}
	if cfg.Beside != nil {
		if st.Beside, st.BesideURL, err = st.startSearch(ctx, &cfg, *cfg.Beside, "", "search-beside", "second search service"); err != nil {
			return nil, err
		}
	}
	cfg.Logger.Info("search example running", zap.String("search", st.SearchURL),
		zap.String("segmenter", st.SegmenterURL), zap.Bool("standin", st.StandIn != nil),
		zap.Int("products", len(st.Products)))
	started = true
	return st, nil
}

// startSearch starts a search service of sc on the stack's segmenter and Elasticsearch, its emergency
// cache warmed with cfg.WarmQueries, serving on addr ("": any loopback port), logging as logName when
// sc has no logger; what names it in errors. It returns the service (for Shutdown to close, also when
// the error is not nil) and its URL.
func (st *Stack) startSearch(ctx context.Context, cfg *Config, sc search.Config, addr, logName, what string) (*search.Service, string, error) {
	sc.SegmenterURL, sc.ElasticsearchURL = st.SegmenterURL, st.ElasticsearchURL
	sc.ElasticsearchAPIKey, sc.ElasticsearchCACert = cfg.ElasticsearchAPIKey, cfg.ElasticsearchCACert
	if sc.Logger == nil {
		sc.Logger = cfg.Logger.Named(logName)
	}
	svc, err := search.New(sc)
	if err != nil {
		return nil, "", fmt.Errorf("stack: %s: %w", what, err)
	}
	if _, err := svc.WarmCache(ctx, cfg.WarmQueries); err != nil {
		return svc, "", fmt.Errorf("stack: %s: warm the emergency cache: %w", what, err)
	}
	srv, err := st.serve(addr, svc.Handler())
	if err != nil {
		return svc, "", fmt.Errorf("stack: %s: %w", what, err)
	}
	return svc, srv.URL(), nil
}

func applyTrouble(cfg *Config) {
	if !cfg.Search.Trouble.QuadraticSynonyms && cfg.Search.Trouble.HeavyRanking == 0 {
		cfg.Search.Trouble = search.Trouble{QuadraticSynonyms: true, HeavyRanking: DemoHeavyRanking}
	}
	if cfg.Segmenter.SlowFraction == 0 {
		cfg.Segmenter.SlowFraction = DemoSegmenterSlowFraction
		if cfg.Segmenter.SlowDelay == 0 {
			cfg.Segmenter.SlowDelay = DemoSegmenterSlowDelay
		}
	}
	if cfg.Segmenter.Delay == 0 {
		cfg.Segmenter.Delay = DemoSegmenterDelay
	}
	if cfg.Search.SlowThreshold == 0 {
		cfg.Search.SlowThreshold = DemoSlowThreshold
	}
}

func (st *Stack) serve(addr string, h http.Handler) (*loopback.Server, error) {
	srv, err := loopback.Serve(addr, h)
	if err != nil {
		return nil, err
	}
	st.servers = append(st.servers, srv)
	return srv, nil
}

// Shutdown stops the parts, the search service first, waiting for requests in flight until ctx is done,
// then releases connections, and flushes and closes the segmenter's tracer if Start made it. The search
// service's tracer is the caller's: flush it after Shutdown.
func (st *Stack) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(st.servers) - 1; i >= 0; i-- {
		errs = append(errs, st.servers[i].Shutdown(ctx))
	}
	st.servers = nil
	if st.Service != nil {
		st.Service.Close()
	}
	if st.Beside != nil {
		st.Beside.Close()
	}
	if st.segTracer != nil {
		st.segTracer.Flush(ctx.Done())
		st.segTracer.Close()
		st.segTracer = nil
	}
	return errors.Join(errs...)
}
