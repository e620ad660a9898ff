package search_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.elastic.co/apm/v2"
	"go.elastic.co/apm/v2/transport/transporttest"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/loopback"
	"github.com/hotpath-apm/hotpath/examples/search/segmenter"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
)

// The trouble must show where the issue says it shows: these tests look at the process's own profiles
// while the troubled requests run.

// TestQuadraticSynonymsTopsCPUProfile: while pasted queries are searched with the quadratic expansion,
// expandSynonyms is the function with the most CPU samples of its own.
func TestQuadraticSynonymsTopsCPUProfile(t *testing.T) {
	e := startStack(t, stack.Config{CatalogSize: 2000, Search: search.Config{Trouble: search.Trouble{QuadraticSynonyms: true}}})
	var paths []string
	for mix := search.NewQueryMix(2); len(paths) < 4; {
		if q := mix.Next(); q.Kind == search.Pathological {
			paths = append(paths, q.Path())
		}
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("CPU profiling is taken (go test -cpuprofile?): %v", err)
	}
	for _, p := range paths {
		resp, err := e.client.Get(e.st.SearchURL + p)
		if err != nil {
			pprof.StopCPUProfile()
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	pprof.StopCPUProfile()
	prof, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	flat := map[string]int64{}
	var total int64
	for _, s := range prof.Sample {
		// The sample's own function: its leaf frame, past the race detector's instrumentation (under
		// -race, expandSynonyms' loads and stores call into it); samples the runtime could not attribute
		// to Go code (runtime._System, _ExternalCode...) are counted in the total only.
	frames:
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				name := line.Function.Name
				if strings.HasPrefix(name, "runtime._") {
					break frames
				}
				if strings.HasPrefix(name, "__tsan") || strings.HasPrefix(name, "runtime.race") || name == "racecall" || name == "racecalladdr" {
					continue
				}
				flat[name] += s.Value[0]
				break frames
			}
		}
		total += s.Value[0]
	}
	top, topName := int64(0), ""
	for name, n := range flat {
		if n > top {
			top, topName = n, name
		}
	}
	second := int64(0)
	for name, n := range flat {
		if name != topName {
			second = max(second, n)
		}
	}
	t.Logf("expandSynonyms: %d of %d samples; the next function %d", top, total, second)
	if !strings.HasSuffix(topName, "examples/search.expandSynonyms") || total < 10 {
		t.Errorf("top of the CPU profile: %s with %d of %d samples; expandSynonyms has %d", topName, top, total,
			flat["github.com/hotpath-apm/hotpath/examples/search.expandSynonyms"])
	}
}

// TestSlowSegmenterInGoroutineProfile: while a segmenter call is slow, the request's goroutine is blocked
// in the HTTP client under (*Service).segment, off CPU.
func TestSlowSegmenterInGoroutineProfile(t *testing.T) {
	seg, err := segmenter.New(segmenter.Config{SlowFraction: 1, SlowDelay: time.Minute, Tracer: apmDiscard(t)})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 1)
	segSrv, err := loopback.Serve("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		seg.Handler().ServeHTTP(w, r)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer segSrv.Shutdown(context.Background())
	e := startStack(t, stack.Config{CatalogSize: 200, SegmenterURL: segSrv.URL()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.st.SearchURL+"/search?q=shoes", nil)
		if resp, err := e.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	defer func() { cancel(); <-done }()
	<-entered // the segmenter has the request: the caller is waiting for its answer, or about to
	deadline := time.Now().Add(10 * time.Second)
	for {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 2)
		for _, g := range strings.Split(buf.String(), "\n\n") {
			if strings.Contains(g, "examples/search.(*Service).segment(") && strings.Contains(g, "net/http.(*persistConn).roundTrip") &&
				strings.Contains(g, "[select") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no goroutine blocked in (*Service).segment after 10 s:\n%.3000s", buf.String())
		}
		runtime.Gosched()
	}
}

func apmDiscard(t *testing.T) *apm.Tracer {
	tr, err := apm.NewTracerOptions(apm.TracerOptions{ServiceName: "segmenter", Transport: transporttest.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}
