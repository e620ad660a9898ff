package elasticsearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/klauspost/compress/gzip"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/internal/wait"
)

// maxResponseBytes bounds how much of a bulk response is read (a response item is well under 1 KiB).
const maxResponseBytes = 64 << 20

// indexer delivers bulk bodies to Elasticsearch: it retries what may succeed later (429, 5xx,
// timeouts, dropped connections, 401/403 until the credentials are fixed) with exponential backoff and
// jitter, and gives up only on documents Elasticsearch refuses for good (a mapping error), which it
// counts and reports. One indexer sends one request at a time; it is not safe for concurrent use.
type indexer struct {
	client      *elasticsearch.Client
	log         *zap.Logger
	metrics     *metrics
	timeout     time.Duration
	minBackoff  time.Duration
	maxBackoff  time.Duration
	compression int // gzip level, or -1 for none

	// filterPath keeps only what the indexer reads from a bulk response. items.*.status must stay:
	// Elasticsearch drops an item that the filter empties, and items are matched to documents by
	// position.
	filterPath []string

	gz    *gzip.Writer
	gzbuf bytes.Buffer
	resp  []byte
	retry [2]bulkBody // alternate bodies for the documents to send again
	items []itemResult
}

// itemResult is one item of a bulk response.
type itemResult struct {
	status int
	typ    string
	reason string
}

// sendResult counts the outcome of a send.
type sendResult struct {
	indexed    int // created
	duplicates int // already there (409 to a create with an _id)
	failed     int // refused for good
}

func newIndexer(c *elasticsearch.Client, cfg *Config, m *metrics, log *zap.Logger) *indexer {
	ix := &indexer{
		client:      c,
		log:         log,
		metrics:     m,
		timeout:     cfg.RequestTimeout,
		minBackoff:  cfg.RetryBackoff,
		maxBackoff:  cfg.MaxRetryBackoff,
		compression: cfg.Compression,
		filterPath:  []string{"errors", "items.*.status", "items.*.error.type", "items.*.error.reason"},
	}
	if ix.compression >= 0 {
		ix.gz, _ = gzip.NewWriterLevel(&ix.gzbuf, ix.compression) // the level is validated by Config
	}
	return ix
}

// send delivers every document of body: when it returns nil, each one is indexed, was already indexed,
// or was refused for good (counted). It returns an error only when ctx ends first; the caller then
// knows nothing about the documents and must send them again later.
func (ix *indexer) send(ctx context.Context, body *bulkBody) (sendResult, error) {
	var res sendResult
	if body.len() == 0 {
		return res, nil
	}
	pending := body
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := wait.For(ctx, ix.backoff(attempt-1)); err != nil {
				return res, err
			}
		}
		retry, err := ix.attempt(ctx, pending, &res)
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			ix.log.Warn("elasticsearch bulk request failed; retrying",
				zap.Int("documents", pending.len()), zap.Int("attempt", attempt+1), zap.Error(err))
			continue
		}
		if retry == nil {
			return res, nil
		}
		pending = retry
	}
}

// attempt sends pending once. It returns the documents to send again (nil when none), or an error
// when the request as a whole failed and must be repeated.
func (ix *indexer) attempt(ctx context.Context, pending *bulkBody, res *sendResult) (*bulkBody, error) {
	reqBody := pending.buf
	header := http.Header{"Content-Type": {"application/x-ndjson"}}
	if ix.gz != nil {
		ix.gzbuf.Reset()
		ix.gz.Reset(&ix.gzbuf)
		_, _ = ix.gz.Write(pending.buf) // writes to a bytes.Buffer do not fail
		_ = ix.gz.Close()
		reqBody = ix.gzbuf.Bytes()
		header.Set("Content-Encoding", "gzip")
	}
	rctx, cancel := context.WithTimeout(ctx, ix.timeout)
	defer cancel()
	start := time.Now()
	req := esapi.BulkRequest{Body: bytes.NewReader(reqBody), Header: header, FilterPath: ix.filterPath}
	resp, err := req.Do(rctx, ix.client)
	if err != nil {
		ix.metrics.bulkRequests.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("elasticsearch: bulk: %w", err)
	}
	ix.resp, err = readAll(ix.resp[:0], resp.Body)
	_ = resp.Body.Close()
	ix.metrics.bulkDuration.Observe(time.Since(start).Seconds())
	ix.metrics.bulkRequests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: bulk: read response: %w", err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case retryableStatus(code) || code == http.StatusUnauthorized || code == http.StatusForbidden:
		// The cluster is busy or down, or the credentials are wrong or lack privileges: the documents
		// stay in the store and are sent again when that is fixed.
		return nil, fmt.Errorf("elasticsearch: bulk: %s: %s", resp.Status(), truncate(ix.resp, 300))
	default:
		// A refusal of the request itself (400, 413...) would be refused again: give up on its
		// documents, counted as failed, rather than block the export forever.
		ix.log.Error("elasticsearch refused a bulk request; its documents are dropped",
			zap.Int("status", code), zap.Int("documents", pending.len()),
			zap.String("response", truncate(ix.resp, 500)))
		ix.metrics.docsFailed.WithLabelValues("http_" + strconv.Itoa(code)).Add(float64(pending.len()))
		res.failed += pending.len()
		return nil, nil
	}
	items, err := parseBulkResponse(ix.items[:0], ix.resp)
	ix.items = items
	if err == nil && len(items) != pending.len() {
		err = fmt.Errorf("%d items for %d documents", len(items), pending.len())
	}
	if err != nil {
		// Without a per-item answer nothing is known: send everything again (creates with an _id
		// cannot duplicate; the others may).
		return nil, fmt.Errorf("elasticsearch: bulk: unreadable response: %w", err)
	}
	var again []int
	logged := 0
	for i, it := range items {
		switch {
		case it.status >= 200 && it.status < 300:
			res.indexed++
		case it.status == http.StatusConflict:
			// create of an _id that exists: a previous attempt got it there.
			res.duplicates++
		case retryableStatus(it.status):
			again = append(again, i)
			ix.metrics.docsRetried.WithLabelValues(strconv.Itoa(it.status)).Inc()
		default:
			res.failed++
			ix.metrics.docsFailed.WithLabelValues(it.typ).Inc()
			if logged < 5 {
				logged++
				ix.log.Error("elasticsearch refused a document; it is dropped",
					zap.Int("status", it.status), zap.String("type", it.typ), zap.String("reason", it.reason),
					zap.ByteString("action", actionLine(pending.doc(i))))
			}
		}
	}
	if len(again) == 0 {
		return nil, nil
	}
	next := &ix.retry[0]
	if next == pending {
		next = &ix.retry[1]
	}
	next.reset()
	next.appendDocs(pending, again)
	return next, nil
}

// retryableStatus reports whether a status may succeed if the request is repeated later: 429 (the
// cluster pushes back) and 5xx (a node or shard is unavailable).
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// backoff returns how long to wait before retry number n (from 0): exponential from minBackoff,
// capped at maxBackoff, with "equal jitter" (half fixed, half random) so that several collectors
// backing off from one cluster do not retry in step.
func (ix *indexer) backoff(n int) time.Duration {
	d := ix.maxBackoff
	if n < 30 {
		if e := ix.minBackoff << n; e > 0 && e < d {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// readAll appends r's content to dst, up to maxResponseBytes.
func readAll(dst []byte, r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	n, err := buf.ReadFrom(io.LimitReader(r, maxResponseBytes+1))
	if err == nil && n > maxResponseBytes {
		err = errors.New("response too large")
	}
	return buf.Bytes(), err
}

// actionLine returns the first line of a document's two (its action, with index and _id).
func actionLine(doc []byte) []byte {
	if i := bytes.IndexByte(doc, '\n'); i >= 0 {
		return doc[:i]
	}
	return doc
}

// parseBulkResponse appends the items of a (filtered) bulk response to dst.
func parseBulkResponse(dst []itemResult, body []byte) ([]itemResult, error) {
	d := jsontext.NewDecoder(bytes.NewReader(body))
	err := readObject(d, func(name jsontext.Token) error {
		if name.String() != "items" {
			return d.SkipValue()
		}
		if err := expectDelim(d, '['); err != nil {
			return err
		}
		for d.PeekKind() == '{' {
			it, err := parseItem(d)
			if err != nil {
				return err
			}
			dst = append(dst, it)
		}
		return expectDelim(d, ']')
	})
	return dst, err
}

// parseItem parses {"<op>":{"status":N,"error":{"type":...,"reason":...}}}.
func parseItem(d *jsontext.Decoder) (itemResult, error) {
	var it itemResult
	if err := expectDelim(d, '{'); err != nil {
		return it, err
	}
	if _, err := d.ReadToken(); err != nil { // the operation: create
		return it, err
	}
	err := readObject(d, func(name jsontext.Token) error {
		switch name.String() {
		case "status":
			v, err := d.ReadToken()
			if err != nil || v.Kind() != '0' {
				return fmt.Errorf("item status: %v", err)
			}
			it.status = int(v.Int())
			return nil
		case "error":
			if d.PeekKind() != '{' {
				return d.SkipValue()
			}
			return readObject(d, func(key jsontext.Token) error {
				switch key.String() {
				case "type":
					return readString(d, &it.typ)
				case "reason":
					return readString(d, &it.reason)
				}
				return d.SkipValue()
			})
		}
		return d.SkipValue()
	})
	if err != nil {
		return it, err
	}
	if err := expectDelim(d, '}'); err != nil {
		return it, err
	}
	if it.status == 0 {
		return it, errors.New("item without status")
	}
	if it.status >= 300 && it.typ == "" {
		it.typ = "unknown"
	}
	return it, nil
}

// readObject reads the object next in d, calling member with the name of each of its members (valid
// until d reads on), with d before the member's value: member reads the value (d.SkipValue for a
// member it does not want).
func readObject(d *jsontext.Decoder, member func(name jsontext.Token) error) error {
	if err := expectDelim(d, '{'); err != nil {
		return err
	}
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return err
		}
		if err := member(name); err != nil {
			return err
		}
	}
	return expectDelim(d, '}')
}

// readString reads the next value of d into s, as a string (a value of another kind in its JSON text).
func readString(d *jsontext.Decoder, s *string) error {
	v, err := d.ReadToken()
	if err != nil {
		return err
	}
	*s = v.String()
	return nil
}

func expectDelim(d *jsontext.Decoder, k jsontext.Kind) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != k {
		return fmt.Errorf("expected %v, found %v", k, tok.Kind())
	}
	return nil
}
