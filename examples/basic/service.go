package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// config is what run needs; main fills it from flags.
type config struct {
	Addr             string        // the service's listen address
	ElasticsearchURL string        // where the products index lives
	SlowThreshold    time.Duration // when a request counts as slow
	Tracer           *apm.Tracer   // nil: apm.DefaultTracer(), configured by ELASTIC_APM_*
	Logger           *zap.Logger
	Ready            func(addr string) // called with the service's address once it listens; may be nil
}

// run serves the search service and its segmenter until ctx is done, then shuts both down.
func run(ctx context.Context, cfg config) error {
	log := agent.ReportErrors(cfg.Logger, cfg.Tracer)
	var traceOpts []agent.Option
	if cfg.Tracer != nil {
		traceOpts = append(traceOpts, agent.WithTracer(cfg.Tracer))
	}

	// The segmenter: another service, called over HTTP, that continues the trace.
	segLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("segmenter: listen: %w", err)
	}
	segMux := http.NewServeMux()
	segMux.HandleFunc("POST /tokenize", tokenize)
	segmenter := newServer(agent.Wrap(segMux, traceOpts...))

	// The search service.
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{cfg.ElasticsearchURL},
		Transport: agent.ElasticsearchTransport(nil, agent.WithStatementLimit(4000)),
	})
	if err != nil {
		return fmt.Errorf("elasticsearch client: %w", err)
	}
	s := &search{
		es:           es,
		segmenter:    agent.WrapClient(&http.Client{Timeout: 2 * time.Second}, agent.WithTargetService("segmenter")),
		segmenterURL: "http://" + segLn.Addr().String() + "/tokenize",
		log:          log,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", s.search)
	mux.HandleFunc("GET /report/{name}", s.report)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })

	// Someone to tell about requests while they run: here it only logs; the profiler captures.
	inflight := agent.NewInFlight()
	stopListening, err := inflight.Listen(slowLogger{log: cfg.Logger})
	if err != nil {
		return fmt.Errorf("in-flight listener: %w", err)
	}
	defer stopListening()

	handler := agent.Wrap(mux, append(traceOpts,
		agent.WithIgnorePaths("/healthz"),
		agent.WithSlowThreshold(cfg.SlowThreshold),
		agent.WithInFlight(inflight))...)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		segLn.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	server := newServer(handler)

	errc := make(chan error, 2)
	go func() { errc <- segmenter.Serve(segLn) }()
	go func() { errc <- server.Serve(ln) }()
	cfg.Logger.Info("serving", zap.String("addr", ln.Addr().String()), zap.String("segmenter", segLn.Addr().String()))
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr().String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(server.Shutdown(shutdownCtx), segmenter.Shutdown(shutdownCtx))
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// tokenize is the segmenter's one endpoint: it splits a query into lower-case terms.
func tokenize(w http.ResponseWriter, r *http.Request) {
	q, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	if err != nil {
		http.Error(w, "read query: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(strings.Fields(strings.ToLower(string(q))))
}

type search struct {
	es           *elasticsearch.Client
	segmenter    *http.Client
	segmenterURL string
	log          *zap.Logger
}

// search answers GET /search?q=...: segment the query, build the Elasticsearch query, search.
func (s *search) search(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := agent.Logger(ctx, s.log)
	q := r.URL.Query().Get("q")
	if q == "" {
		http.Error(w, "missing q", http.StatusBadRequest)
		return
	}
	terms, err := s.tokenize(ctx, q)
	if err != nil {
		log.Error("segmenter failed", zap.Error(err))
		http.Error(w, "segmenter unavailable", http.StatusBadGateway)
		return
	}
	body := buildQuery(ctx, terms)
	res, err := s.es.Search(s.es.Search.WithContext(ctx), s.es.Search.WithIndex("products"),
		s.es.Search.WithBody(strings.NewReader(body)))
	if err != nil {
		log.Error("search failed", zap.Error(err))
		http.Error(w, "search unavailable", http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	if res.IsError() {
		log.Error("search refused", zap.String("status", res.Status()))
		http.Error(w, "search failed", http.StatusBadGateway)
		return
	}
	var answer struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		log.Error("search answer", zap.Error(err))
		http.Error(w, "bad search answer", http.StatusBadGateway)
		return
	}
	log.Info("searched", zap.Strings("terms", terms), zap.Int("hits", answer.Hits.Total.Value))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"terms": terms, "hits": answer.Hits.Total.Value})
}

func (s *search) tokenize(ctx context.Context, q string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.segmenterURL, strings.NewReader(q))
	if err != nil {
		return nil, fmt.Errorf("segmenter request: %w", err)
	}
	resp, err := s.segmenter.Do(req)
	if err != nil {
		return nil, fmt.Errorf("segmenter: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("segmenter: %s", resp.Status)
	}
	var terms []string
	if err := json.NewDecoder(resp.Body).Decode(&terms); err != nil {
		return nil, fmt.Errorf("segmenter answer: %w", err)
	}
	return terms, nil
}

// buildQuery is an in-process block worth its own span: in real services, synonym expansion and
// ranking scripts make it slow.
func buildQuery(ctx context.Context, terms []string) string {
	span, _ := apm.StartSpan(ctx, "build query", "app.query")
	defer span.End()
	must := make([]any, 0, len(terms))
	for _, t := range terms {
		must = append(must, map[string]any{"match": map[string]any{"title": t}})
	}
	b, _ := json.Marshal(map[string]any{"query": map[string]any{"bool": map[string]any{"must": must}}})
	return string(b)
}

// report answers GET /report/{name} slowly, to show a request crossing its threshold while it runs.
func (s *search) report(w http.ResponseWriter, r *http.Request) {
	wait, _ := time.ParseDuration(r.URL.Query().Get("wait"))
	wait = min(max(wait, 0), 10*time.Second)
	select {
	case <-time.After(wait):
	case <-r.Context().Done():
		return
	}
	fmt.Fprintf(w, "report %s after %v\n", url.PathEscape(r.PathValue("name")), wait)
}

// slowLogger is an agent.Listener that logs the requests still running past their threshold.
type slowLogger struct{ log *zap.Logger }

func (l slowLogger) ServeRequest(ctx context.Context, r *agent.Request) {
	r.Serve(ctx)
}

func (l slowLogger) RequestSlow(r *agent.Request) {
	l.log.Warn("request still running past its threshold", zap.String("route", r.Route),
		zap.Stringer("trace.id", r.TraceID), zap.Stringer("transaction.id", r.TransactionID),
		zap.Duration("threshold", r.Threshold))
	r.SetLabel("seen_running_slow", true)
}
