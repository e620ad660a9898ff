package agent_test

import (
	"bufio"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/pprof"
	"strings"
	"time"

	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport"
	"go.uber.org/zap"

	"github.com/hotpath-apm/hotpath/agent"
)

// exampleIntake is an APM server on loopback that prints the name of each transaction it receives.
func exampleIntake() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/intake/v2/events" {
			io.WriteString(w, `{"version":"8.19.0"}`)
			return
		}
		body, err := zlib.NewReader(r.Body) // the Go agent compresses with zlib ("deflate")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		lines := bufio.NewScanner(body)
		for lines.Scan() {
			var event struct {
				Transaction *struct{ Name, Result string }
			}
			if json.Unmarshal(lines.Bytes(), &event) == nil && event.Transaction != nil {
				fmt.Println("received transaction:", event.Transaction.Name, event.Transaction.Result)
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
}

// exampleTracer returns a tracer sending to serverURL. A service does not need one: agent.Wrap uses
// apm.DefaultTracer(), configured by ELASTIC_APM_SERVER_URL, ELASTIC_APM_SERVICE_NAME...
func exampleTracer(serverURL string) *apm.Tracer {
	u, _ := url.Parse(serverURL)
	tr, err := transport.NewHTTPTransport(transport.HTTPTransportOptions{ServerURLs: []*url.URL{u}})
	if err != nil {
		log.Fatal(err)
	}
	tracer, err := apm.NewTracerOptions(apm.TracerOptions{ServiceName: "search", Transport: tr})
	if err != nil {
		log.Fatal(err)
	}
	return tracer
}

func ExampleWrap() {
	intake := exampleIntake()
	defer intake.Close()
	tracer := exampleTracer(intake.URL)
	defer tracer.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	// In a service: http.ListenAndServe(addr, agent.Wrap(mux)).
	srv := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer), agent.WithIgnorePaths("/healthz")))
	defer srv.Close()

	for _, path := range []string{"/items/42", "/items/43", "/healthz", "/missing"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	tracer.Flush(nil)
	// Output:
	// received transaction: GET /items/{id} HTTP 2xx
	// received transaction: GET /items/{id} HTTP 2xx
	// received transaction: GET unknown route HTTP 4xx
}

// profiler shows the shape of a Listener: labels for the request's CPU samples and goroutines, and a
// capture started when a request crosses its threshold, linked to the transaction by a label.
type profiler struct{ captures chan string }

func (p *profiler) ServeRequest(ctx context.Context, r *agent.Request) {
	pprof.Do(ctx, pprof.Labels("route", r.Route, "trace.id", r.TraceIDString(),
		"transaction.id", r.TransactionIDString()), r.Serve)
}

func (p *profiler) RequestSlow(r *agent.Request) {
	id := "profile-for-" + r.Route
	r.SetLabel("profile.id", id) // on the transaction when it ends
	p.captures <- id             // the capture itself runs elsewhere: RequestSlow must return quickly
}

func ExampleInFlight() {
	p := &profiler{captures: make(chan string, 1)}
	inflight := agent.NewInFlight()
	stop, err := inflight.Listen(p)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	tracer := apm.DefaultTracer()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		// Still running when the profiler hears about it.
		fmt.Println("capture started while running:", <-p.captures)
	})
	h := agent.Wrap(mux, agent.WithTracer(tracer), agent.WithInFlight(inflight),
		agent.WithRouteSlowThreshold("GET /report", 10*time.Millisecond))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/report", nil))
	// Output: capture started while running: profile-for-GET /report
}

func ExampleWrapClient() {
	segmenter := agent.WrapClient(&http.Client{Timeout: 2 * time.Second}, agent.WithTargetService("segmenter"))
	search := func(w http.ResponseWriter, r *http.Request) {
		// The request's context holds its transaction: the call is a span of it, and the segmenter
		// continues the trace.
		req, _ := http.NewRequestWithContext(r.Context(), "GET", "http://segmenter.internal/tokenize?q=red+shoes", nil)
		resp, err := segmenter.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	}
	_ = agent.Wrap(http.HandlerFunc(search))
}

func ExampleElasticsearchTransport() {
	// With go-elasticsearch, the transport goes in its config:
	//
	//	elasticsearch.NewClient(elasticsearch.Config{
	//		Addresses: []string{"http://127.0.0.1:9200"},
	//		Transport: agent.ElasticsearchTransport(nil, agent.WithStatementLimit(2000)),
	//	})
	//
	// (examples/basic does that). Any client of Elasticsearch's REST API that takes an http.RoundTripper
	// works the same way, net/http's own too:
	es := &http.Client{Transport: agent.ElasticsearchTransport(nil, agent.WithStatementLimit(2000))}
	search := func(ctx context.Context) error {
		// ctx carries the transaction (r.Context() in a handler): the call is a span of it, labelled
		// with Elasticsearch's took, the hit count and shard failures.
		req, err := http.NewRequestWithContext(ctx, "POST", "http://127.0.0.1:9200/products/_search",
			strings.NewReader(`{"query":{"match":{"title":"red shoes"}}}`))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := es.Do(req)
		if err != nil {
			return fmt.Errorf("search products: %w", err)
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	_ = search
}

func ExampleLogger() {
	base := agent.ReportErrors(zap.NewExample(), nil) // errors also go to APM, through apm.DefaultTracer()
	handler := func(w http.ResponseWriter, r *http.Request) {
		log := agent.Logger(r.Context(), base) // with trace.id, transaction.id
		log.Info("searching", zap.String("q", r.URL.Query().Get("q")))
	}
	_ = agent.Wrap(http.HandlerFunc(handler))
}
