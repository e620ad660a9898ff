// Command esstandin runs the search example's Elasticsearch stand-in on its own: an empty in-memory
// server answering the part of the Elasticsearch API the example uses (see package esstandin). It is not
// Elasticsearch. Load it with cmd/esindex, as a cluster:
//
//	go run ./examples/search/cmd/esstandin -addr 127.0.0.1:9200 &
//	ELASTICSEARCH_URL=http://127.0.0.1:9200 go run ./examples/search/cmd/esindex
//	ELASTICSEARCH_URL=http://127.0.0.1:9200 go run ./examples/search/cmd/searchd
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/loopback"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "esstandin:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready, if not nil, is called with the stand-in's URL.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(url string)) error {
	fs := flag.NewFlagSet("esstandin", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9200", "listen address")
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := zap.NewProduction()
	if err != nil {
		return err
	}
	defer log.Sync()
	srv, err := loopback.Serve(*addr, esstandin.New(esstandin.Config{Logger: log}).Handler())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Elasticsearch stand-in (not Elasticsearch) on %s\n", srv.URL())
	if ready != nil {
		ready(srv.URL())
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
