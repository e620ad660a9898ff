// Command segmenter runs the search example's segmenter on its own, traced with the Elastic APM Go agent
// (ELASTIC_APM_* variables; the service is named "segmenter" unless ELASTIC_APM_SERVICE_NAME says
// otherwise). Point searchd at it with -segmenter.
//
//	go run ./examples/search/cmd/segmenter -addr 127.0.0.1:8081 -slow-fraction 0.05
//	curl -H 'Content-Type: application/json' -d '{"text":"나이키러닝화를 추천"}' http://127.0.0.1:8081/segment
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/examples/search/internal/command"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

func main() {
	command.Main("segmenter", func(ctx context.Context, args []string, log *zap.Logger) error {
		return run(ctx, args, os.Stdout, log, nil)
	})
}

// run serves until ctx is done; ready, if not nil, is called with the segmenter's URL.
func run(ctx context.Context, args []string, stdout io.Writer, log *zap.Logger, ready func(url string)) error {
	fs := command.Flags("segmenter", stdout)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	delay := fs.Duration("delay", 0, "latency added to every call")
	slowFraction := fs.Float64("slow-fraction", 0, "fraction of calls that are slow, 0 to 1")
	slowDelay := fs.Duration("slow-delay", segmenter.DefaultSlowDelay, "how long a slow call waits")
	if err := fs.Parse(args); err != nil {
		return err
	}
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
	err = command.Serve(ctx, *addr, seg.Handler(), func(url string) {
		fmt.Fprintf(stdout, "segmenter on %s/segment\n", url)
		if ready != nil {
			ready(url)
		}
	})
	flushCtx, cancel := context.WithTimeout(context.Background(), command.ShutdownTimeout)
	defer cancel()
	tracer.Flush(flushCtx.Done())
	return err
}
