package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"go.elastic.co/apm/module/apmelasticsearch/v2"
	"go.elastic.co/apm/v2"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
)

// DefaultStatementLimit is how many bytes of a request body ElasticsearchTransport records as
// db.statement when WithStatementLimit is not given: the most apmelasticsearch reads and the APM intake keeps.
const DefaultStatementLimit = 10000

// maxSummaryPrefix bounds how much of a response body ElasticsearchTransport keeps while it looks for the
// summary fields; past it, the summary is what was found.
const maxSummaryPrefix = 4096

// ElasticsearchOption configures ElasticsearchTransport.
type ElasticsearchOption func(*esConfig)

type esConfig struct {
	statementLimit int
	noShape        bool
}

// WithQueryShape says whether search spans are labelled with their query's shape (es_query_shape,
// es_query_summary; see ElasticsearchTransport). Default: true. The shape holds no literal of the query,
// so it is kept even when WithStatementLimit(0) keeps the body out of the span.
func WithQueryShape(enabled bool) ElasticsearchOption {
	return func(c *esConfig) { c.noShape = !enabled }
}

// WithStatementLimit caps how many bytes of a search request's body are recorded as the span's
// db.statement; n <= 0 records no body (a query given in the URL, ?q=, is still recorded, as the URL is).
// A gzip-compressed body longer than n is not recorded. Default: DefaultStatementLimit.
func WithStatementLimit(n int) ElasticsearchOption {
	return func(c *esConfig) { c.statementLimit = min(n, DefaultStatementLimit) }
}

// ElasticsearchTransport returns a round-tripper for github.com/elastic/go-elasticsearch
// (elasticsearch.Config.Transport) that makes each request to Elasticsearch an exit span of the
// transaction in its context, with apmelasticsearch: named "Elasticsearch: METHOD path", with the cluster
// name and, for searches, the request body as db.statement (see WithStatementLimit). On top of that it
// labels the span with:
//
//   - es_index: the index (or comma-separated indices) in the path, if any;
//   - es_took_ms: the time Elasticsearch says it spent ("took"), so the span shows server time against
//     network and queueing time;
//   - es_timed_out, es_shards_failed: whether the answer is partial;
//   - es_hits (and es_hits_relation "gte" when it is a lower bound): the total hit count;
//   - es_errors: whether a bulk request had failed items;
//   - es_query_shape and es_query_summary: for searches (_search, _msearch, _count, _async_search and
//     the template endpoints), the shape of the query (package queryshape: its structure without
//     literals, as a stable id and a summary of at most 120 characters), so that spans can be grouped by
//     the kind of query in hotpath's UI and in Kibana; es_query_truncated when the body was longer than
//     queryshape.MaxBody, or could be read only in part (no GetBody: its first statement-limit bytes).
//
// The response fields are read from the first bytes of the body as the caller reads it (Elasticsearch
// writes them first); at most 4 KiB are kept, whatever the size of the body, and the body reaches the
// caller unchanged. rt nil means http.DefaultTransport.
func ElasticsearchTransport(rt http.RoundTripper, opts ...ElasticsearchOption) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	cfg := esConfig{statementLimit: DefaultStatementLimit}
	for _, o := range opts {
		o(&cfg)
	}
	return &esTransport{
		cfg:    cfg,
		base:   rt,
		traced: apmelasticsearch.WrapRoundTripper(&esSpanTransport{base: rt}),
	}
}

// esTransport runs before apmelasticsearch: it gives apmelasticsearch a view of the request body capped at
// the statement limit. esSpanTransport runs inside apmelasticsearch, with its span in the request's
// context: it restores the real body for the base transport and reads the response summary.
type esTransport struct {
	cfg    esConfig
	base   http.RoundTripper
	traced http.RoundTripper
}

// esRequest carries, from esTransport to esSpanTransport through the request context, what esTransport
// changed and what it saw.
type esRequest struct {
	getBody func() (io.ReadCloser, error) // the caller's GetBody
	parent  *apm.Span                     // the span in the caller's context: not apmelasticsearch's
	shape   queryshape.Shape              // the query's shape, if shaped (ID != "")
}

type esRequestKey struct{}

var errNoStatement = errors.New("agent: request body not recorded")

func (t *esTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if tx := apm.TransactionFromContext(ctx); tx == nil || !tx.Sampled() {
		// apmelasticsearch would start no span; it would only propagate the trace context.
		return t.traced.RoundTrip(req)
	}
	st := &esRequest{getBody: req.GetBody, parent: apm.SpanFromContext(ctx)}
	view := req.WithContext(context.WithValue(ctx, esRequestKey{}, st))
	shaped := !t.cfg.noShape && searchAPI(req.URL.Path)
	if req.Body != nil && req.Body != http.NoBody {
		if shaped && req.GetBody != nil && req.Header.Get("Content-Encoding") == "" {
			st.shape = shapeFrom(req.URL.Path, req.GetBody)
		}
		switch {
		case t.cfg.statementLimit <= 0:
			view.GetBody = func() (io.ReadCloser, error) { return nil, errNoStatement }
		case req.GetBody != nil:
			limit := int64(t.cfg.statementLimit)
			view.GetBody = func() (io.ReadCloser, error) {
				body, err := st.getBody()
				if err != nil {
					return nil, err
				}
				return readCloser{io.LimitReader(body, limit), body}, nil
			}
		default:
			// No way to read the body twice: keep its first bytes, send them then the rest.
			head := make([]byte, t.cfg.statementLimit)
			n, err := io.ReadFull(req.Body, head)
			head = head[:n]
			var rest io.Reader = req.Body
			more := false
			if err == nil { // head is full: does the body go on?
				var next [1]byte
				var k int
				k, err = io.ReadFull(req.Body, next[:])
				more = k == 1
				if more {
					rest = io.MultiReader(bytes.NewReader(next[:]), req.Body)
				}
			}
			if err != nil { // the body was no longer than the limit, or failed: replay what came, then the error
				rest = errReader{err}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					rest = eofReader{}
				}
			}
			view.Body = readCloser{io.MultiReader(bytes.NewReader(head), rest), req.Body}
			view.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(head)), nil }
			if shaped && req.Header.Get("Content-Encoding") == "" {
				if s, ok := queryshape.Request(req.URL.Path, head); ok {
					s.Truncated = s.Truncated || more
					st.shape = s
				}
			}
		}
	}
	return t.traced.RoundTrip(view)
}

// CloseIdleConnections closes the base transport's idle connections.
func (t *esTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type esSpanTransport struct {
	base http.RoundTripper
}

func (t *esSpanTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(esRequestKey{}).(*esRequest)
	if st == nil {
		return t.base.RoundTrip(req)
	}
	sent := *req // apmelasticsearch's copy, with the caller's GetBody back for retries and redirects
	sent.GetBody = st.getBody
	req = &sent
	span := apm.SpanFromContext(req.Context())
	if span == nil || span == st.parent || span.Dropped() {
		return t.base.RoundTrip(req)
	}
	if index := esIndex(req.URL.Path); index != "" {
		span.Context.SetLabel("es_index", index)
	}
	if st.shape.ID != "" {
		span.Context.SetLabel("es_query_shape", st.shape.ID)
		span.Context.SetLabel("es_query_summary", st.shape.Summary)
		if st.shape.Truncated {
			span.Context.SetLabel("es_query_truncated", true)
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody || resp.Header.Get("Content-Encoding") != "" {
		return resp, err
	}
	resp.Body = &summaryReader{body: resp.Body, span: span}
	return resp, nil
}

// searchAPI reports whether path is that of an API whose body is a search: _search, _msearch, _count,
// _async_search, _rollup_search, _search/template, _msearch/template.
func searchAPI(path string) bool {
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), "/template")
	i := strings.LastIndexByte(path, '/')
	switch path[i+1:] {
	case "_search", "_msearch", "_count", "_async_search", "_rollup_search":
		return true
	}
	return false
}

// shapeFrom reads the body again through getBody, at most queryshape.MaxBody bytes and one more (to
// know whether it goes on), and shapes it.
func shapeFrom(path string, getBody func() (io.ReadCloser, error)) queryshape.Shape {
	body, err := getBody()
	if err != nil {
		return queryshape.Shape{}
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, queryshape.MaxBody+1))
	if err != nil {
		return queryshape.Shape{}
	}
	s, _ := queryshape.Request(path, b)
	return s
}

// esIndex returns the index part of an Elasticsearch API path ("/products/_search" -> "products"), or ""
// when the path starts with an API name ("/_search", "/_bulk").
func esIndex(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if first == "" || first[0] == '_' {
		return ""
	}
	return first
}

// summaryReader passes a response body through, keeping its first bytes until they hold the summary, which
// it then puts on the span. It runs inside apmelasticsearch's body, which ends the span after the Read that
// returns io.EOF, or on Close: the labels are set before that.
type summaryReader struct {
	body   io.ReadCloser
	span   *apm.Span
	prefix []byte
	done   bool
}

func (r *summaryReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if r.done {
		return n, err
	}
	take := min(n, maxSummaryPrefix-len(r.prefix))
	if r.prefix == nil && err != nil {
		r.prefix = p[:take] // one read holds the whole body: no copy
	} else {
		r.prefix = append(r.prefix, p[:take]...)
	}
	s, complete := scanESSummary(r.prefix)
	if complete || err != nil || len(r.prefix) >= maxSummaryPrefix {
		r.done = true
		r.prefix = nil
		labelSummary(r.span, s)
	}
	return n, err
}

func (r *summaryReader) Close() error {
	r.done = true // the span may end now: never touch it again
	return r.body.Close()
}

func labelSummary(span *apm.Span, s esSummary) {
	if s.hasTook {
		span.Context.SetLabel("es_took_ms", s.took)
	}
	if s.hasTimedOut {
		span.Context.SetLabel("es_timed_out", s.timedOut)
	}
	if s.hasShardsFailed {
		span.Context.SetLabel("es_shards_failed", s.shardsFailed)
	}
	if s.hasHits {
		span.Context.SetLabel("es_hits", s.hits)
		if s.hitsLowerBound {
			span.Context.SetLabel("es_hits_relation", "gte")
		}
	}
	if s.hasErrors {
		span.Context.SetLabel("es_errors", s.errors)
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
