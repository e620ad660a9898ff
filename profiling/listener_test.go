package profiling_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"go.elastic.co/apm/v2/apmtest"
	"go.elastic.co/apm/v2/model"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
)

func recordingTracer(t *testing.T) *apmtest.RecordingTracer {
	t.Helper()
	rt := apmtest.NewRecordingTracer()
	t.Cleanup(rt.Close)
	return rt
}

func newProfiler(t *testing.T, opts ...profiling.Option) *profiling.Profiler {
	t.Helper()
	p, err := profiling.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// labelsOf returns the pprof labels of ctx, in the order pprof keeps them.
func labelsOf(ctx context.Context) [][2]string {
	var kv [][2]string
	pprof.ForLabels(ctx, func(k, v string) bool {
		kv = append(kv, [2]string{k, v})
		return true
	})
	return kv
}

// TestRequestLabels checks that a traced request runs with exactly the three labels, sorted by key, whose
// values are the ids of the transaction the agent sends, and that goroutines the handler starts inherit
// them.
func TestRequestLabels(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	newProfiler(t, profiling.WithInFlight(f))

	var got, inherited [][2]string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		got = labelsOf(r.Context())
		release := make(chan struct{})
		parked := make(chan struct{})
		go parkedChild(parked, release)
		<-parked
		inherited = goroutineLabels(t, "parkedChild")
		close(release)
	})
	h := agent.Wrap(mux, agent.WithTracer(rt.Tracer), agent.WithInFlight(f))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/items/7", nil))
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	rt.Flush(nil)
	txs := rt.Payloads().Transactions
	if len(txs) != 1 {
		t.Fatalf("%d transactions", len(txs))
	}
	tx := txs[0]
	want := [][2]string{
		{"route", "GET /items/{id}"},
		{"trace.id", hexOf(tx.TraceID[:])},
		{"transaction.id", hexOf(tx.ID[:])},
	}
	if !slices.Equal(got, want) {
		t.Errorf("handler labels %q, want %q", got, want)
	}
	if !slices.Equal(inherited, want) {
		t.Errorf("labels of a goroutine the handler started %q, want %q", inherited, want)
	}
	if _, ok := txLabel(tx, "profile_id"); ok {
		t.Error("a fast request got a profile.id")
	}
}

// TestClosedProfilerServesWithoutLabels: after Close, requests are served, without labels.
func TestClosedProfilerServesWithoutLabels(t *testing.T) {
	rt := recordingTracer(t)
	f := agent.NewInFlight()
	p := newProfiler(t, profiling.WithInFlight(f))
	p.Close()
	var got [][2]string
	served := false
	h := agent.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served = true
		got = labelsOf(r.Context())
	}), agent.WithTracer(rt.Tracer), agent.WithInFlight(f))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !served || len(got) != 0 {
		t.Errorf("served %v with labels %q", served, got)
	}
	// The InFlight is free again.
	p2 := newProfiler(t, profiling.WithInFlight(f))
	p2.Close()
}

// TestSecondListenerRefused: one InFlight has one profiler.
func TestSecondListenerRefused(t *testing.T) {
	f := agent.NewInFlight()
	newProfiler(t, profiling.WithInFlight(f))
	if p, err := profiling.New(profiling.WithInFlight(f)); err == nil {
		p.Close()
		t.Fatal("second profiler on one InFlight accepted")
	}
}

// parkedChild is a goroutine a handler starts: it waits for release.
//
//go:noinline
func parkedChild(parked chan<- struct{}, release <-chan struct{}) {
	close(parked)
	<-release
}

// goroutineLabels returns the labels of the goroutine whose stack has the function named fn, as the
// goroutine profile records them, sorted by key.
func goroutineLabels(t *testing.T, fn string) [][2]string {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Sample {
		if !stackHas(s, fn) {
			continue
		}
		var kv [][2]string
		for k, vs := range s.Label {
			for _, v := range vs {
				kv = append(kv, [2]string{k, v})
			}
		}
		slices.SortFunc(kv, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		return kv
	}
	t.Fatalf("no goroutine in %s", fn)
	return nil
}

// stackHas tells whether a sample's stack has a function whose name ends with "."+fn.
func stackHas(s *profile.Sample, fn string) bool {
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function != nil && strings.HasSuffix(line.Function.Name, "."+fn) {
				return true
			}
		}
	}
	return false
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func txLabel(tx model.Transaction, key string) (any, bool) {
	if tx.Context == nil {
		return nil, false
	}
	for _, l := range tx.Context.Tags {
		if l.Key == key {
			return l.Value, true
		}
	}
	return nil, false
}
