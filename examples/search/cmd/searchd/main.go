// Command searchd runs the search example: the segmenter, Elasticsearch (the stand-in, loaded with the
// generated catalog, unless ELASTICSEARCH_URL names a cluster) and the search service, in one process on
// loopback, traced with the Elastic APM Go agent (ELASTIC_APM_* variables) and, with -profile, profiled
// by hotpath's profiler.
//
//	go run ./examples/search/cmd/searchd
//	curl 'http://127.0.0.1:8080/search?q=나이키+러닝화'
//
// With a cluster (the index made by cmd/esindex, or with -setup-index):
//
//	ELASTICSEARCH_URL=https://elastic:changeme@127.0.0.1:9200 ELASTICSEARCH_CA_CERT=ca.crt go run ./examples/search/cmd/searchd
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/internal/command"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
	"github.com/hotpath-apm/hotpath/profiling"
)

func main() {
	command.Main("searchd", func(ctx context.Context, args []string, log *zap.Logger) error {
		return run(ctx, args, os.Getenv, os.Stdout, log, nil)
	})
}

// run serves until ctx is done. ready, if not nil, is called with the running stack.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, log *zap.Logger, ready func(*stack.Stack)) error {
	fs := command.Flags("searchd", stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "the search service's address")
	segURL := fs.String("segmenter", "", "a running segmenter's URL (default: start one in-process)")
	trouble := fs.Bool("trouble", false, "turn on the example's deliberate problems (quadratic synonyms, slow segmenter calls, heavy ranking)")
	size := fs.Int("catalog-size", catalog.DefaultSize, "products in the catalog loaded into the stand-in (or the cluster, with -setup-index)")
	setupIndex := fs.Bool("setup-index", false, "with ELASTICSEARCH_URL: recreate the index and load the catalog first")
	slow := fs.Duration("slow", agent.DefaultSlowThreshold, "slow-request threshold")
	profile := fs.Bool("profile", false, "run hotpath's profiler: slow requests are captured and uploaded to ELASTIC_APM_SERVER_URL")
	if err := fs.Parse(args); err != nil {
		return err
	}

	cfg := stack.Config{
		ElasticsearchURL:    getenv("ELASTICSEARCH_URL"),
		ElasticsearchAPIKey: getenv("ELASTICSEARCH_API_KEY"),
		SetupIndex:          *setupIndex,
		CatalogSize:         *size,
		SegmenterURL:        *segURL,
		SearchAddr:          *addr,
		Trouble:             *trouble,
		Search:              search.Config{SlowThreshold: *slow},
		Logger:              log,
	}
	var err error
	if cfg.ElasticsearchCACert, err = command.CACert(getenv); err != nil {
		return err
	}
	if *profile {
		cfg.Search.InFlight = agent.NewInFlight()
		p, err := profiling.New(profiling.WithInFlight(cfg.Search.InFlight), profiling.WithLogger(log.Named("profiling")))
		if err != nil {
			return fmt.Errorf("profiler: %w", err)
		}
		defer func() {
			shutdownCtx, cancel := context.WithTimeout(context.Background(), command.ShutdownTimeout)
			defer cancel()
			p.Shutdown(shutdownCtx)
		}()
	}

	st, err := stack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "search service on %s\n  try: curl '%s/search?q=%%EB%%82%%98%%EC%%9D%%B4%%ED%%82%%A4+running+shoes'\n", st.SearchURL, st.SearchURL)
	if ready != nil {
		ready(st)
	}
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), command.ShutdownTimeout)
	defer cancel()
	err = st.Shutdown(shutdownCtx)
	apm.DefaultTracer().Flush(shutdownCtx.Done())
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down: requests still running after %v: %w", command.ShutdownTimeout, err)
	}
	return err
}
