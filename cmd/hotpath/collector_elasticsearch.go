package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// esFlags are the flags of `hotpath collector` that turn on the export to Elasticsearch.
type esFlags struct {
	urls     string
	username string
	password secretFlag
	apiKey   secretFlag
	caCert   string
	// metricsGrace is how long a closed aggregation bucket waits for late events.
	metricsGrace time.Duration
	noMetrics    bool
}

// register adds the flags to fs.
func (f *esFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.urls, "elasticsearch", "", "export every event to Elasticsearch 8.15+ at `URL[,URL...]`, in APM Server's data streams (Kibana APM shows them)")
	fs.StringVar(&f.username, "es-username", "", "Elasticsearch `user` (basic authentication)")
	fs.Var(&f.password, "es-password", "Elasticsearch `password` (prefer HOTPATH_ES_PASSWORD)")
	fs.Var(&f.apiKey, "es-api-key", "Elasticsearch API `key`, base64 of id:api_key as Elasticsearch returns it (prefer HOTPATH_ES_API_KEY)")
	fs.StringVar(&f.caCert, "es-ca-cert", "", "PEM `file` of the certificate authorities to trust for https Elasticsearch URLs (default: the system's)")
	fs.DurationVar(&f.metricsGrace, "es-metrics-grace", 30*time.Second, "how `long` after its end an aggregation bucket waits for late events before its metricsets are written (a 1m document arrives about this long after its minute)")
	fs.BoolVar(&f.noMetrics, "es-no-metrics", false, "write only per-event documents, not APM Server's aggregated metricsets (transaction, service_transaction, service_summary, service_destination)")
}

// config returns the exporter's configuration, or nil when --elasticsearch is not set.
func (f *esFlags) config() (*elasticsearch.Config, error) {
	if f.urls == "" {
		if f.username != "" || f.password != "" || f.apiKey != "" || f.caCert != "" {
			return nil, errors.New("--es-* flags given without --elasticsearch")
		}
		return nil, nil
	}
	cfg := &elasticsearch.Config{ClientConfig: elasticsearch.ClientConfig{
		Username: f.username, Password: string(f.password), APIKey: string(f.apiKey),
	}, Aggregation: elasticsearch.AggregationConfig{Grace: f.metricsGrace, Disabled: f.noMetrics}}
	for _, u := range strings.Split(f.urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.URLs = append(cfg.URLs, strings.TrimSuffix(u, "/"))
		}
	}
	if (f.username == "") != (f.password == "") {
		return nil, errors.New("--es-username and --es-password go together")
	}
	if f.caCert != "" {
		pem, err := os.ReadFile(f.caCert)
		if err != nil {
			return nil, fmt.Errorf("--es-ca-cert: %w", err)
		}
		cfg.CACert = pem
	}
	return cfg, nil
}

// esCursor is the name of the exporter's cursor in the store.
const esCursor = "elasticsearch"

// esMetricsCursor is the cursor of the aggregated metricsets (the exporter names it after esCursor).
const esMetricsCursor = esCursor + "-metrics"

// startExport starts the exporter when --elasticsearch is set. Without it, a cursor left by an earlier
// run with the export on is deleted: it would keep retention from deleting anything after it, until the
// disk budget stopped intake.
func (c *collectorServer) startExport(ctx context.Context) error {
	if c.cfg.elasticsearch == nil {
		for _, name := range []string{esCursor, esMetricsCursor} {
			pos, ok := c.store.Cursor(name)
			if !ok {
				continue
			}
			if err := c.store.DeleteCursor(name); err != nil {
				return fmt.Errorf("collector: %w", err)
			}
			c.log.Warn("the export to Elasticsearch is off: its cursor is deleted, so that retention can free "+
				"what it held; with --elasticsearch again, the export restarts from the oldest stored event",
				zap.String("name", name), zap.Uint64("cursor", pos))
		}
		return nil
	}
	e, err := startExporter(ctx, *c.cfg.elasticsearch, c.store, c.registry, c.log.Named("elasticsearch"))
	if err != nil {
		return err
	}
	c.exporter = e
	return nil
}

// stopExport stops the exporter, if it runs; the store must still be open.
func (c *collectorServer) stopExport() error {
	if c.exporter == nil {
		return nil
	}
	err := c.exporter.stop()
	c.exporter = nil
	return err
}

// esExporter is the Elasticsearch exporter running beside the collector.
type esExporter struct {
	x      *elasticsearch.Exporter
	cancel context.CancelFunc
	done   chan error
}

// startExporter checks the cluster and starts exporting the store. A cluster that is too old or
// refuses the credentials is an error (the collector does not start); one that cannot be reached yet
// is only logged: events wait in the store, and the exporter keeps trying.
func startExporter(ctx context.Context, cfg elasticsearch.Config, store *pebble.Store, reg prometheus.Registerer, log *zap.Logger) (*esExporter, error) {
	cfg.CursorName = esCursor // the one startExport deletes when the export is off
	cfg.Registerer = reg
	cfg.Logger = log
	x, err := elasticsearch.New(cfg, store)
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	version, err := x.CheckVersion(cctx)
	cancel()
	switch {
	case errors.Is(err, elasticsearch.ErrConfig):
		return nil, errors.Join(fmt.Errorf("collector: %w", err), x.Close())
	case err != nil:
		log.Warn("Elasticsearch cannot be reached yet; events are kept in the store and exported when it answers",
			zap.Strings("urls", elasticsearch.RedactedURLs(cfg.URLs)), zap.Error(err))
	default:
		log.Info("Elasticsearch checked", zap.String("version", version), zap.Strings("urls", elasticsearch.RedactedURLs(cfg.URLs)))
	}
	rctx, rcancel := context.WithCancel(context.Background())
	e := &esExporter{x: x, cancel: rcancel, done: make(chan error, 1)}
	go func() {
		err := x.Run(rctx)
		if err != nil {
			log.Error("export to Elasticsearch stopped; events are kept in the store", zap.Error(err))
		}
		e.done <- err
	}()
	return e, nil
}

// stop stops the exporter and returns Run's error. What Elasticsearch confirmed is committed; the rest
// is exported after the next start (documents with an _id are not duplicated).
func (e *esExporter) stop() error {
	e.cancel()
	err := <-e.done
	return errors.Join(err, e.x.Close())
}
