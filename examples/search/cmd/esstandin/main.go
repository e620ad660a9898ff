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
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/internal/command"
)

func main() {
	command.Main("esstandin", func(ctx context.Context, args []string, log *zap.Logger) error {
		return run(ctx, args, os.Stdout, log, nil)
	})
}

// run serves until ctx is done; ready, if not nil, is called with the stand-in's URL.
func run(ctx context.Context, args []string, stdout io.Writer, log *zap.Logger, ready func(url string)) error {
	fs := command.Flags("esstandin", stdout)
	addr := fs.String("addr", "127.0.0.1:9200", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return command.Serve(ctx, *addr, esstandin.New(esstandin.Config{Logger: log}).Handler(), func(url string) {
		fmt.Fprintf(stdout, "Elasticsearch stand-in (not Elasticsearch) on %s\n", url)
		if ready != nil {
			ready(url)
		}
	})
}
