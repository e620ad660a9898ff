// Package command is the frame the search example's commands (cmd/esindex, esstandin, searchd,
// searchload, segmenter) share: a process whose run ends on SIGINT or SIGTERM and whose exit status
// says whether it failed, the flag set each parses its arguments with, the CA certificate of the
// Elasticsearch cluster they are pointed at, and the life of a server from its start to a bounded shutdown.
package command

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/examples/search/loopback"
)

// ShutdownTimeout bounds each step of a command's shutdown: the requests still being served, a
// tracer's flush, a profiler's last upload.
const ShutdownTimeout = 10 * time.Second

// Main is a command's main function: it calls run with a context that is cancelled on SIGINT or SIGTERM,
// the command line's arguments and zap's production logger (synced when run returns), and if run fails,
// prints "name: error" to stderr and exits with status 1.
func Main(name string, run func(ctx context.Context, args []string, log *zap.Logger) error) {
	log, err := zap.NewProduction()
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = run(ctx, os.Args[1:], log)
		stop()
		log.Sync()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Flags returns the flag set of the command called name: its usage goes to stdout, and a bad argument
// is an error of Parse, not an exit, so that run can be tested.
func Flags(name string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	return fs
}

// CACert returns the contents of the PEM file that ELASTICSEARCH_CA_CERT names, as getenv reads it, or
// nil where it names none.
func CACert(getenv func(string) string) ([]byte, error) {
	path := getenv("ELASTICSEARCH_CA_CERT")
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ELASTICSEARCH_CA_CERT: %w", err)
	}
	return b, nil
}

// Serve serves h on addr (as loopback.Serve does) until ctx is done or the server stops, then shuts it
// down within ShutdownTimeout. started, if not nil, is called with the server's URL once it listens.
// Serve returns the error of listening, of serving or of the shutdown.
func Serve(ctx context.Context, addr string, h http.Handler, started func(url string)) error {
	srv, err := loopback.Serve(addr, h)
	if err != nil {
		return err
	}
	if started != nil {
		started(srv.URL())
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
