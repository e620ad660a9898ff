// Command segmenter runs the search example's segmenter on its own, traced with the Elastic APM Go agent
// (ELASTIC_APM_* variables; the service is named "segmenter" unless ELASTIC_APM_SERVICE_NAME says
// otherwise). Point searchd at it with -segmenter.
//
//	go run ./examples/search/cmd/segmenter -addr 127.0.0.1:8081 -slow-fraction 0.05
//	curl -H 'Content-Type: application/json' -d '{"text":"나이키러닝화를 추천"}' http://127.0.0.1:8081/segment
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

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/examples/search/loopback"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "segmenter:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready, if not nil, is called with the segmenter's URL.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(url string)) error {
	fs := flag.NewFlagSet("segmenter", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	delay := fs.Duration("delay", 0, "latency added to every call")
	slowFraction := fs.Float64("slow-fraction", 0, "fraction of calls that are slow, 0 to 1")
	slowDelay := fs.Duration("slow-delay", segmenter.DefaultSlowDelay, "how long a slow call waits")
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := zap.NewProduction()
	if err != nil {
		return err
	}
	defer log.Sync()
	name := os.Getenv("ELASTIC_APM_SERVICE_NAME")
	if name == "" {
		name = "segmenter"
	}
	tracer, err := apm.NewTracer(name, "")
	if err != nil {
		return fmt.Errorf("tracer: %w", err)
	}
	defer tracer.Close()
	seg, err := segmenter.New(segmenter.Config{Delay: *delay, SlowFraction: *slowFraction, SlowDelay: *slowDelay,
		Tracer: tracer, Logger: log})
	if err != nil {
		return err
	}
	srv, err := loopback.Serve(*addr, seg.Handler())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "segmenter on %s/segment\n", srv.URL())
	if ready != nil {
		ready(srv.URL())
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	tracer.Flush(shutdownCtx.Done())
	return err
}
