// Command esindex creates the search example's index in the Elasticsearch cluster at ELASTICSEARCH_URL
// and loads the generated catalog into it with _bulk, segmenting titles and descriptions with the
// example's segmenter first. ELASTICSEARCH_API_KEY and ELASTICSEARCH_CA_CERT (a PEM file) are used if
// set; user information in the URL is basic authentication.
//
//	ELASTICSEARCH_URL=https://elastic:changeme@127.0.0.1:9200 ELASTICSEARCH_CA_CERT=ca.crt \
//	    go run ./examples/search/cmd/esindex -recreate
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/internal/command"
)

func main() {
	command.Main("esindex", func(ctx context.Context, args []string, log *zap.Logger) error {
		return run(ctx, args, os.Getenv, os.Stdout, log)
	})
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, log *zap.Logger) error {
	fs := command.Flags("esindex", stdout)
	index := fs.String("index", search.DefaultIndex, "index name")
	size := fs.Int("size", catalog.DefaultSize, "products to generate")
	seed := fs.Uint64("seed", catalog.DefaultSeed, "catalog seed")
	recreate := fs.Bool("recreate", false, "delete the index first if it exists")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *size < 0 || *size > catalog.MaxSize {
		return fmt.Errorf("-size must be from 0 to %d", catalog.MaxSize)
	}
	url := getenv("ELASTICSEARCH_URL")
	if url == "" {
		return errors.New("ELASTICSEARCH_URL is not set: name the cluster to load")
	}
	caCert, err := command.CACert(getenv)
	if err != nil {
		return err
	}
	es, closeIdle, err := search.NewElasticsearchClient(url, getenv("ELASTICSEARCH_API_KEY"), caCert)
	if err != nil {
		return err
	}
	defer closeIdle()
	start := time.Now()
	products := catalog.Generate(*seed, *size)
	if err := search.SetupIndex(ctx, es, search.Setup{Index: *index, Products: products, Recreate: *recreate, Logger: log}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "indexed %d products into %s in %v\n", len(products), *index, time.Since(start).Round(time.Millisecond))
	return nil
}
