package search

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// Service is the search service: GET /search and GET /healthz. Serve its Handler (loopback.Serve does it
// on 127.0.0.1) and Close it when done.
type Service struct {
	cfg          Config
	handler      http.Handler
	log          *zap.Logger // reports errors to APM
	segmenter    *http.Client
	segmenterURL string
	closeSeg     func()
	es           *elasticsearch.Client
	closeES      func()
	personalized string    // the personalized script's source, built once
	failover     *failover // nil: Config.Failover off

	mu   sync.Mutex // guards rand
	rand *rand.Rand
}

// New returns a search service configured by cfg. It does not contact the segmenter or Elasticsearch.
func New(cfg Config) (*Service, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	es, closeES, err := NewElasticsearchClient(cfg.ElasticsearchURL, cfg.ElasticsearchAPIKey, cfg.ElasticsearchCACert)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	segTransport := http.DefaultTransport.(*http.Transport).Clone()
	s := &Service{
		cfg:          cfg,
		log:          agent.ReportErrors(cfg.Logger, cfg.Tracer),
		segmenter:    agent.WrapClient(&http.Client{Transport: segTransport, Timeout: cfg.SegmenterTimeout}, agent.WithTargetService("segmenter")),
		segmenterURL: strings.TrimSuffix(cfg.SegmenterURL, "/") + "/segment",
		closeSeg:     segTransport.CloseIdleConnections,
		es:           es,
		closeES:      closeES,
		personalized: personalizedScript(),
		rand:         rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5ea7c4)),
	}
	if cfg.Failover.On {
		s.failover = newFailover(cfg)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", s.search)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	opts := []agent.Option{agent.WithIgnorePaths("/healthz"), agent.WithSlowThreshold(cfg.SlowThreshold)}
	if cfg.Tracer != nil {
		opts = append(opts, agent.WithTracer(cfg.Tracer))
	}
	if cfg.InFlight != nil {
		opts = append(opts, agent.WithInFlight(cfg.InFlight))
	}
	s.handler = agent.Wrap(mux, opts...)
	return s, nil
}

// Handler returns the service's HTTP handler, traced with agent.Wrap.
func (s *Service) Handler() http.Handler { return s.handler }

// Close releases the service's idle connections to the segmenter and Elasticsearch. Stop serving first.
func (s *Service) Close() {
	s.closeSeg()
	s.closeES()
}

// search answers GET /search: segment the query (the segmenter, over HTTP), build the Elasticsearch query
// (synonyms, filters, ranking script: the "build query" span), search (the Elasticsearch span, with
// took), render. With Config.Failover on, the search goes through the breaker (failover.go).
func (s *Service) search(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := agent.Logger(ctx, s.log)
	req, err := ParseRequest(r.URL.Query(), s.cfg.MaxQueryBytes)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.failover != nil {
		s.searchFailover(ctx, w, log, req)
		return
	}
	answer, f := s.answer(ctx, log, req, 0)
	if f != nil {
		writeError(w, f.status, f.msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(answer)
}

// failure is why a search has no answer: the status and message the client gets, and whether
// Elasticsearch failed (what a breaker counts).
type failure struct {
	status        int
	msg           string
	elasticsearch bool
	err           error
}

func (f *failure) Error() string { return f.msg + ": " + f.err.Error() }

// answer computes the answer to req; esTimeout > 0 bounds the Elasticsearch round-trip.
func (s *Service) answer(ctx context.Context, log *zap.Logger, req Request, esTimeout time.Duration) ([]byte, *failure) {
	tokens, err := s.segment(ctx, req.Q)
	if err != nil {
		log.Error("segmenter failed", zap.Error(err))
		return nil, &failure{status: http.StatusBadGateway, msg: "segmenter unavailable", err: err}
	}
	if len(tokens) == 0 {
		return nil, &failure{status: http.StatusBadRequest, msg: "q has no searchable words", err: errNoWords}
	}
	body, exp, ranking, err := s.buildQuery(ctx, req, tokens)
	if err != nil {
		log.Error("build query failed", zap.Error(err))
		return nil, &failure{status: http.StatusInternalServerError, msg: "could not build the query", err: err}
	}
	qctx := ctx
	if esTimeout > 0 {
		var cancel context.CancelFunc
		qctx, cancel = context.WithTimeout(ctx, esTimeout)
		defer cancel()
	}
	result, err := s.query(qctx, body)
	if err != nil {
		log.Error("search failed", zap.Error(err))
		return nil, &failure{status: http.StatusBadGateway, msg: "search unavailable", elasticsearch: true, err: err}
	}
	log.Info("search", zap.String("q", truncate(req.Q, 200)), zap.Int("tokens", len(tokens)),
		zap.Int("units", len(exp.Units)), zap.Int("synonyms", exp.Synonyms()), zap.String("ranking", string(ranking)),
		zap.Int("hits", result.Hits.Total.Value), zap.Int("took_ms", result.Took))
	return render(req, tokens, exp, ranking, result), nil
}

// buildQuery is a span of its own: synonym expansion (CPU-bound, quadratic with the trouble on) and the
// query body.
func (s *Service) buildQuery(ctx context.Context, req Request, tokens []string) ([]byte, Expansion, Ranking, error) {
	span, _ := apm.StartSpan(ctx, "build query", "app.query")
	defer span.End()
	var exp Expansion
	if s.cfg.Trouble.QuadraticSynonyms {
		exp = expandSynonyms(s.cfg.Synonyms, tokens)
	} else {
		exp = s.cfg.Synonyms.Expand(tokens)
	}
	ranking := req.Rank
	if ranking == "" {
		ranking = RankDefault
		if s.heavyRankingDraw() {
			ranking = RankPersonalized
		}
	}
	script, params := defaultScript, map[string]any(nil)
	if ranking == RankPersonalized {
		script, params = s.personalized, history(req.User)
	}
	body, err := queryBody(req, exp, script, params)
	span.Context.SetLabel("query_tokens", len(tokens))
	span.Context.SetLabel("query_units", len(exp.Units))
	span.Context.SetLabel("synonyms", exp.Synonyms())
	span.Context.SetLabel("synonym_ops", exp.Ops)
	span.Context.SetLabel("ranking", string(ranking))
	return body, exp, ranking, err
}

func (s *Service) heavyRankingDraw() bool {
	if s.cfg.Trouble.HeavyRanking == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rand.Float64() < s.cfg.Trouble.HeavyRanking
}

// esResult is the part of a search answer the service reads.
type esResult struct {
	Took int `json:"took"`
	Hits struct {
		Total struct {
			Value    int    `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Hits []struct {
			ID     string          `json:"_id"`
			Score  float64         `json:"_score"`
			Source json.RawMessage `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

// query sends body to Elasticsearch through the agent's round-tripper: a span, labelled with took.
func (s *Service) query(ctx context.Context, body []byte) (*esResult, error) {
	res, err := s.es.Search(
		s.es.Search.WithContext(ctx),
		s.es.Search.WithIndex(s.cfg.Index),
		s.es.Search.WithBody(bytes.NewReader(body)),
	)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("elasticsearch answer: %w", err)
	}
	if res.IsError() {
		return nil, fmt.Errorf("elasticsearch: %s: %.500s", res.Status(), answer)
	}
	var out esResult
	if err := json.Unmarshal(answer, &out); err != nil {
		return nil, fmt.Errorf("elasticsearch answer: %w", err)
	}
	return &out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}
