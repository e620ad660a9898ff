package segmenter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"sync"
	"time"

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"

	"github.com/hotpath-apm/hotpath/internal/wait"
)

// Defaults for Config's zero values.
const (
	DefaultMaxTextBytes = 8 << 10
	DefaultSlowDelay    = 800 * time.Millisecond
)

// Config configures a Segmenter. The zero value is a working segmenter with no added latency.
type Config struct {
	// Tokenizer splits the text. Default: DefaultTokenizer().
	Tokenizer *Tokenizer

	// Delay is added to every call, after tokenizing: the service's own latency. Default: none.
	Delay time.Duration

	// SlowFraction is the fraction of calls, in [0, 1], that also wait SlowDelay. Default: 0, none.
	SlowFraction float64
	// SlowDelay is how long a slow call waits. Default (when SlowFraction > 0): DefaultSlowDelay.
	SlowDelay time.Duration
	// Seed seeds the choice of which calls are slow. Default: 0, a fixed sequence.
	Seed uint64

	// MaxTextBytes bounds a request's body. Default: DefaultMaxTextBytes (8 KiB).
	MaxTextBytes int

	// Tracer records the segmenter's own transactions (it continues the caller's trace from the
	// traceparent header). Default: apm.DefaultTracer(), configured by ELASTIC_APM_*.
	Tracer *apm.Tracer
	// Logger logs failed requests, with trace ids. Default: no logs.
	Logger *zap.Logger
}

// Request is the body of POST /segment.
type Request struct {
	Text string `json:"text"`
}

// Response is the answer to POST /segment.
type Response struct {
	Tokens []string `json:"tokens"`
}

// Segmenter is the segmenter service. Serve its Handler (loopback.Serve does it on 127.0.0.1).
type Segmenter struct {
	cfg     Config
	handler http.Handler

	mu   sync.Mutex // guards rand
	rand *rand.Rand
}

// New returns a segmenter configured by cfg. It fails on a SlowFraction outside [0, 1] or a negative
// delay or limit.
func New(cfg Config) (*Segmenter, error) {
	if cfg.SlowFraction < 0 || cfg.SlowFraction > 1 {
		return nil, fmt.Errorf("segmenter: SlowFraction %v outside [0, 1]", cfg.SlowFraction)
	}
	if cfg.Delay < 0 || cfg.SlowDelay < 0 || cfg.MaxTextBytes < 0 {
		return nil, errors.New("segmenter: negative Delay, SlowDelay or MaxTextBytes")
	}
	if cfg.Tokenizer == nil {
		cfg.Tokenizer = DefaultTokenizer()
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = DefaultSlowDelay
	}
	if cfg.MaxTextBytes == 0 {
		cfg.MaxTextBytes = DefaultMaxTextBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	s := &Segmenter{cfg: cfg, rand: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5e9))}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /segment", s.segment)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	opts := []agent.Option{agent.WithIgnorePaths("/healthz")}
	if cfg.Tracer != nil {
		opts = append(opts, agent.WithTracer(cfg.Tracer))
	}
	s.handler = agent.Wrap(mux, opts...)
	return s, nil
}

// Handler returns the segmenter's HTTP handler, traced with agent.Wrap.
func (s *Segmenter) Handler() http.Handler { return s.handler }

func (s *Segmenter) segment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.fail(ctx, w, http.StatusUnsupportedMediaType, "content type must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxTextBytes)))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			s.fail(ctx, w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", s.cfg.MaxTextBytes))
			return
		}
		s.fail(ctx, w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	req, err := DecodeRequest(body)
	if err != nil {
		s.fail(ctx, w, http.StatusBadRequest, err.Error())
		return
	}
	resp := Response{Tokens: s.tokenize(ctx, req.Text)}
	if resp.Tokens == nil {
		resp.Tokens = []string{}
	}
	if err := s.wait(ctx); err != nil {
		return // the caller has gone
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// DecodeRequest decodes a POST /segment body: a JSON object whose one member is "text", a string
// (member names are matched exactly, unlike encoding/json's default).
func DecodeRequest(body []byte) (Request, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&members); err != nil {
		return Request{}, fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return Request{}, errors.New("body: more than one JSON value")
	}
	text, ok := members["text"]
	if !ok {
		return Request{}, errors.New(`body: missing "text"`)
	}
	if len(members) != 1 {
		for name := range members {
			if name != "text" {
				return Request{}, fmt.Errorf("body: unknown member %q", name)
			}
		}
	}
	var req Request
	if err := json.Unmarshal(text, &req.Text); err != nil || text[0] != '"' {
		return Request{}, errors.New(`body: "text" must be a string`)
	}
	return req, nil
}

func (s *Segmenter) tokenize(ctx context.Context, text string) []string {
	span, _ := apm.StartSpan(ctx, "tokenize", "app")
	defer span.End()
	return s.cfg.Tokenizer.Tokenize(text)
}

// wait is the segmenter's latency: Delay, plus SlowDelay for a SlowFraction of calls.
func (s *Segmenter) wait(ctx context.Context) error {
	d := s.cfg.Delay
	if s.slowCall() {
		return waitForDictionary(ctx, d+s.cfg.SlowDelay)
	}
	if d == 0 {
		return nil
	}
	return wait.For(ctx, d)
}

// slowCall draws whether this call is one of the SlowFraction that are slow.
func (s *Segmenter) slowCall() bool {
	if s.cfg.SlowFraction == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rand.Float64() < s.cfg.SlowFraction
}

// waitForDictionary is a slow call: in a real segmenter, a request waiting while the dictionary is
// reloaded. It waits d off-CPU, or until ctx is done.
func waitForDictionary(ctx context.Context, d time.Duration) error {
	return wait.For(ctx, d)
}

func (s *Segmenter) fail(ctx context.Context, w http.ResponseWriter, status int, msg string) {
	agent.Logger(ctx, s.cfg.Logger).Info("segment refused", zap.Int("status", status), zap.String("error", msg))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
