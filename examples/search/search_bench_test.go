package search_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport/transporttest"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/catalog"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
)

// BenchmarkSearch measures GET /search end to end over loopback (segmenter, query building, the
// stand-in over the default 20,000-product catalog, rendering), in pairs: the default ranking against
// the personalized one on a popular query, and the indexed synonym expansion against the quadratic one on
// a pasted description. es-work/op is the stand-in's work units (postings read, script nodes evaluated).
func BenchmarkSearch(b *testing.B) {
	tracer := func(name string) *apm.Tracer {
		t, err := apm.NewTracerOptions(apm.TracerOptions{ServiceName: name, Transport: transporttest.Discard})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(t.Close)
		return t
	}
	start := func(trouble search.Trouble) *stack.Stack {
		st, err := stack.Start(context.Background(), stack.Config{CatalogSize: catalog.DefaultSize,
			Search:    search.Config{Trouble: trouble, Tracer: tracer("search")},
			Segmenter: segmenter.Config{Tracer: tracer("segmenter")}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Shutdown(context.Background()) })
		return st
	}
	plain := start(search.Trouble{})
	quadratic := start(search.Trouble{QuadraticSynonyms: true})
	var pasted string
	for mix := search.NewQueryMix(1); pasted == ""; {
		if q := mix.Next(); q.Kind == search.Pathological {
			pasted = q.Path()
		}
	}
	client := &http.Client{Transport: &http.Transport{}}
	b.Cleanup(client.CloseIdleConnections)
	for _, bc := range []struct {
		name string
		st   *stack.Stack
		path string
	}{
		{"popular/ranking=default", plain, "/search?q=%EC%9A%B4%EB%8F%99%ED%99%94"},
		{"popular/ranking=personalized", plain, "/search?q=%EC%9A%B4%EB%8F%99%ED%99%94&rank=personalized"},
		{"pasted/synonyms=indexed", plain, pasted},
		{"pasted/synonyms=quadratic", quadratic, pasted},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			before := bc.st.StandIn.Stats().Work
			n := 0
			for b.Loop() {
				resp, err := client.Get(bc.st.SearchURL + bc.path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
				n++
			}
			b.ReportMetric(float64(bc.st.StandIn.Stats().Work-before)/float64(n), "es-work/op")
		})
	}
}
