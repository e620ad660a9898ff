package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

// IndexDefinition is the products index's settings and mappings. Titles and descriptions are searched
// through their segmenter terms (title_terms, description_terms: the terms joined by spaces, split again
// by the whitespace tokenizer), so Korean is analyzed by the same segmenter at index and at query time,
// with no Elasticsearch plugin. title and description are kept in _source for display, not indexed
// (dynamic false).
const IndexDefinition = `{
  "settings": {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "analysis": {"analyzer": {"segmented": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}}}
  },
  "mappings": {
    "dynamic": false,
    "properties": {
      "id": {"type": "keyword"},
      "title_terms": {"type": "text", "analyzer": "segmented"},
      "description_terms": {"type": "text", "analyzer": "segmented"},
      "brand": {"type": "keyword"},
      "category": {"type": "keyword"},
      "tags": {"type": "keyword"},
      "price": {"type": "long"},
      "rating": {"type": "float"},
      "popularity": {"type": "long"}
    }
  }
}`

// Document is a product as indexed: the product, and its title and description as segmenter terms.
type Document struct {
	catalog.Product
	TitleTerms       string `json:"title_terms"`
	DescriptionTerms string `json:"description_terms"`
}

// NewDocument segments p's title and description with tok.
func NewDocument(p catalog.Product, tok *segmenter.Tokenizer) Document {
	return Document{Product: p,
		TitleTerms:       strings.Join(tok.Tokenize(p.Title), " "),
		DescriptionTerms: strings.Join(tok.Tokenize(p.Description), " "),
	}
}

// Setup describes an index to create and fill.
type Setup struct {
	Index     string               // default DefaultIndex
	Products  []catalog.Product    // what to index
	Tokenizer *segmenter.Tokenizer // default segmenter.DefaultTokenizer()
	Recreate  bool                 // delete the index first if it exists; otherwise an existing index is an error
	BatchSize int                  // documents per _bulk request; default 2,000
	Logger    *zap.Logger          // progress; default none
}

// ErrIndexExists is returned by SetupIndex when the index exists and Setup.Recreate is false.
var ErrIndexExists = errors.New("search: the index exists (recreate it to reload the catalog)")

// SetupIndex creates the index with IndexDefinition and loads the products with _bulk, then refreshes
// it and checks that it counts them all. It works the same on a cluster and on the stand-in.
func SetupIndex(ctx context.Context, es *elasticsearch.Client, st Setup) error {
	if st.Index == "" {
		st.Index = DefaultIndex
	}
	if st.Tokenizer == nil {
		st.Tokenizer = segmenter.DefaultTokenizer()
	}
	if st.BatchSize <= 0 {
		st.BatchSize = 2000
	}
	if st.Logger == nil {
		st.Logger = zap.NewNop()
	}
	res, err := es.Indices.Exists([]string{st.Index}, es.Indices.Exists.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("index setup: exists: %w", err)
	}
	res.Body.Close()
	switch {
	case res.StatusCode == 200 && !st.Recreate:
		return fmt.Errorf("%w: %s", ErrIndexExists, st.Index)
	case res.StatusCode == 200:
		if err := check(es.Indices.Delete([]string{st.Index}, es.Indices.Delete.WithContext(ctx))); err != nil {
			return fmt.Errorf("index setup: delete %s: %w", st.Index, err)
		}
	case res.StatusCode != 404:
		return fmt.Errorf("index setup: exists: %s", res.Status())
	}
	if err := check(es.Indices.Create(st.Index, es.Indices.Create.WithContext(ctx),
		es.Indices.Create.WithBody(strings.NewReader(IndexDefinition)))); err != nil {
		return fmt.Errorf("index setup: create %s: %w", st.Index, err)
	}
	var body bytes.Buffer
	for start := 0; start < len(st.Products); start += st.BatchSize {
		body.Reset()
		batch := st.Products[start:min(start+st.BatchSize, len(st.Products))]
		for _, p := range batch {
			meta, _ := json.Marshal(map[string]any{"index": map[string]string{"_id": p.ID}})
			doc, err := json.Marshal(NewDocument(p, st.Tokenizer))
			if err != nil {
				return fmt.Errorf("index setup: %s: %w", p.ID, err)
			}
			body.Write(meta)
			body.WriteByte('\n')
			body.Write(doc)
			body.WriteByte('\n')
		}
		if err := bulk(ctx, es, st.Index, body.Bytes()); err != nil {
			return fmt.Errorf("index setup: bulk from %s: %w", batch[0].ID, err)
		}
		st.Logger.Info("indexed", zap.Int("documents", start+len(batch)), zap.Int("of", len(st.Products)))
	}
	if err := check(es.Indices.Refresh(es.Indices.Refresh.WithIndex(st.Index), es.Indices.Refresh.WithContext(ctx))); err != nil {
		return fmt.Errorf("index setup: refresh: %w", err)
	}
	res, err = es.Count(es.Count.WithIndex(st.Index), es.Count.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("index setup: count: %w", err)
	}
	defer res.Body.Close()
	var count struct {
		Count int `json:"count"`
	}
	if err := json.NewDecoder(res.Body).Decode(&count); err != nil || res.IsError() {
		return fmt.Errorf("index setup: count: %s %v", res.Status(), err)
	}
	if count.Count != len(st.Products) {
		return fmt.Errorf("index setup: %s counts %d documents, want %d", st.Index, count.Count, len(st.Products))
	}
	return nil
}

// bulk sends one _bulk body and fails if any item failed, naming the first.
func bulk(ctx context.Context, es *elasticsearch.Client, index string, body []byte) error {
	res, err := es.Bulk(bytes.NewReader(body), es.Bulk.WithIndex(index), es.Bulk.WithContext(ctx))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if err := responseError(res); err != nil {
		return err
	}
	var answer struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		return fmt.Errorf("bulk answer: %w", err)
	}
	if answer.Errors {
		for _, item := range answer.Items {
			for op, r := range item {
				if r.Error != nil {
					return fmt.Errorf("%s %s: %d %.300s", op, r.ID, r.Status, r.Error)
				}
			}
		}
	}
	return nil
}

// check closes a response and turns a failure into an error.
func check(res *esapi.Response, err error) error {
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return responseError(res)
}

// responseError is the error of a response that failed (its status and the start of its body), or nil.
func responseError(res *esapi.Response) error {
	if !res.IsError() {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1000))
	return fmt.Errorf("%s: %s", res.Status(), b)
}
