package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport/transporttest"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
)

// The whole example in-process: the segmenter, the stand-in loaded with a catalog, the search service.
// Tracers here discard what they record; give real ones (and an agent.InFlight shared with the
// profiler) to see the traces.
func Example() {
	searchTracer, _ := apm.NewTracerOptions(apm.TracerOptions{ServiceName: "search", Transport: transporttest.Discard})
	defer searchTracer.Close()
	segmenterTracer, _ := apm.NewTracerOptions(apm.TracerOptions{ServiceName: "segmenter", Transport: transporttest.Discard})
	defer segmenterTracer.Close()

	st, err := stack.Start(context.Background(), stack.Config{
		CatalogSize: 1000,
		Search:      search.Config{Tracer: searchTracer},
		Segmenter:   segmenter.Config{Tracer: segmenterTracer},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Shutdown(context.Background())

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(st.SearchURL + "/search?size=1&q=" + url.QueryEscape("나이키러닝화"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var a search.Answer
	json.NewDecoder(resp.Body).Decode(&a)
	fmt.Println(a.Tokens, a.Units[1].Alternatives, a.Hits[0].Brand)
	// Output: [나이키 러닝화] [running shoes 런닝화 조깅화 runners] nike
}
