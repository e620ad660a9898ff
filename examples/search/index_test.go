package search

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/internal/clustertest"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
)

func TestSetupIndex(t *testing.T) {
	_, url := clustertest.StandIn(t, esstandin.Config{})
	es, closeIdle, err := NewElasticsearchClient(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdle()
	ctx := context.Background()
	products := catalog.Generate(1, 500)
	if err := SetupIndex(ctx, es, Setup{Products: products, BatchSize: 120}); err != nil {
		t.Fatal(err)
	}
	if err := SetupIndex(ctx, es, Setup{Products: products}); !errors.Is(err, ErrIndexExists) {
		t.Errorf("setting up an existing index: %v, want ErrIndexExists", err)
	}
	if err := SetupIndex(ctx, es, Setup{Products: products[:100], Recreate: true}); err != nil {
		t.Errorf("recreate: %v", err)
	}
	res, err := es.Count(es.Count.WithIndex(DefaultIndex))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `"count":100`) {
		t.Errorf("after recreating with 100 products: %s", body)
	}
}

// TestSetupIndexFailures: a refused bulk item fails the setup, naming the document.
func TestSetupIndexFailures(t *testing.T) {
	_, url := clustertest.StandIn(t, esstandin.Config{MaxDocuments: 50})
	es, closeIdle, err := NewElasticsearchClient(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdle()
	err = SetupIndex(context.Background(), es, Setup{Products: catalog.Generate(1, 60)})
	if err == nil || !strings.Contains(err.Error(), "p000050") || !strings.Contains(err.Error(), "429") {
		t.Errorf("loading 60 products into a stand-in holding 50: %v", err)
	}
	dead, closeDead, _ := NewElasticsearchClient("http://127.0.0.1:1", "", nil)
	defer closeDead()
	if err := SetupIndex(context.Background(), dead, Setup{}); err == nil {
		t.Error("setting up on nothing succeeded")
	}
}

func TestNewDocument(t *testing.T) {
	p := catalog.Product{ID: "p1", Title: "[나이키] 경량러닝화 Air Zoom", Description: "나이키 정품 러닝화입니다."}
	d := NewDocument(p, segmenter.DefaultTokenizer())
	if d.TitleTerms != "나이키 경량 러닝화 air zoom" || d.DescriptionTerms != "나이키 정품 러닝화" || d.ID != "p1" {
		t.Errorf("%+v", d)
	}
}

func TestNewElasticsearchClientSecrets(t *testing.T) {
	if _, _, err := NewElasticsearchClient("http://user:s3cret@[::1", "", nil); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a bad URL with a password: %v", err)
	}
	if _, _, err := NewElasticsearchClient("http://127.0.0.1:9200", "", []byte("not PEM")); err == nil {
		t.Error("a CA certificate that is not PEM was accepted")
	}
	if _, err := New(Config{SegmenterURL: "http://127.0.0.1:1", ElasticsearchURL: "ftp://user:s3cret@host"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a non-HTTP URL with a password: %v", err)
	}
}
