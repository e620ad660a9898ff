// Command basic is a small search service traced with hotpath's agent, using all of it: agent.Wrap with
// route names, an ignored health check and a slow threshold; a call to another service (a segmenter,
// served by the same process on its own port) through agent.WrapClient; Elasticsearch through
// agent.ElasticsearchTransport; a span around query building; logs with trace ids through agent.Logger;
// and an in-flight listener that logs requests still running past their threshold.
//
//	ELASTIC_APM_SERVICE_NAME=basic ELASTIC_APM_SERVER_URL=http://127.0.0.1:8200 go run ./examples/basic
//	curl 'http://127.0.0.1:8080/search?q=red+shoes'      # needs Elasticsearch at -es; answers 502 without
//	curl 'http://127.0.0.1:8080/report/daily?wait=800ms' # crosses the 500 ms threshold while running
//
// Traces go wherever the ELASTIC_APM_* variables say: hotpath's collector (go run ./cmd/hotpath
// collector) or an APM Server.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

func main() {
	cfg := config{}
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address")
	flag.StringVar(&cfg.ElasticsearchURL, "es", "http://127.0.0.1:9200", "Elasticsearch URL")
	flag.DurationVar(&cfg.SlowThreshold, "slow", agent.DefaultSlowThreshold, "slow request threshold")
	flag.Parse()
	logger, err := zap.NewProduction()
	if err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
	cfg.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	stop()
	logger.Sync()
	if err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}
