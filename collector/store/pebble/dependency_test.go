package pebble

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/collector"
)

// exitSpan is a span of service search calling target (type/name), or only a destination resource when
// the target is empty.
func exitSpan(spanID, targetType, targetName, resource string, ts time.Time, d time.Duration, outcome string) collector.Event {
	e := collector.Event{Kind: collector.KindSpan, Timestamp: ts, TraceID: "0af7651916cd43dd8448eb211c80319c",
		Service: collector.Service{Name: "search", Target: collector.ServiceTarget{Type: targetType, Name: targetName}},
		Event:   collector.EventInfo{Duration: d, Outcome: outcome}, Transaction: &collector.Transaction{ID: "b7ad6b7169203331"},
		Span: &collector.Span{ID: spanID, Name: "call " + spanID, Type: "external", Subtype: "http"}}
	if resource != "" {
		e.Span.DestinationService = &collector.DestinationService{Resource: resource}
	}
	return e
}

func TestDependencies(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	ts := t0.Add(-30 * time.Minute)
	composite := exitSpan("c1", "elasticsearch", "", "elasticsearch", ts, 40*time.Millisecond, "success")
	composite.Span.Composite = &collector.Composite{Count: 4, SumMillis: 40}
	internal := exitSpan("i1", "", "", "", ts, time.Second, "success")
	mustProcess(t, s, collector.Batch{
		exitSpan("s1", "http", "segmenter:8080", "segmenter:8080", ts, 10*time.Millisecond, "success"),
		exitSpan("s2", "http", "segmenter:8080", "segmenter:8080", ts.Add(time.Minute), 30*time.Millisecond, "failure"),
		exitSpan("e1", "elasticsearch", "", "elasticsearch", ts, 200*time.Millisecond, "success"),
		composite,
		exitSpan("r1", "", "", "cache:6379", ts, 2*time.Millisecond, "success"),
		internal, // calls nothing: not a dependency
	})
	clk.Add(time.Hour) // another partition, the same minutes
	mustProcess(t, s, collector.Batch{exitSpan("s3", "http", "segmenter:8080", "segmenter:8080", ts, 20*time.Millisecond, "success")})

	ctx := context.Background()
	got, _, _, err := s.Dependencies(ctx, "search", ts.Add(-time.Minute), ts.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]collector.DependencyRow{}
	for _, st := range got {
		by[st.Shape] = st
	}
	seg, es, cache := by["http/segmenter:8080"], by["elasticsearch"], by["cache:6379"]
	if len(got) != 3 || seg.Count != 3 || seg.Errors != 1 || seg.Sum != 60*time.Millisecond || seg.DBType != "http" ||
		seg.Summary != "segmenter:8080" {
		t.Fatalf("dependencies %+v", got)
	}
	// The composite span counts as its 4 calls at their 10 ms average.
	if es.Count != 5 || es.Sum != 240*time.Millisecond || es.Summary != "elasticsearch" || es.DBType != "elasticsearch" {
		t.Errorf("elasticsearch %+v", es)
	}
	if cache.Count != 1 || cache.DBType != "http" || cache.TookCount != 0 || cache.Took != (collector.Percentiles{}) {
		t.Errorf("cache (by destination resource) %+v", cache)
	}
	if p := es.Duration.P50; p < 9_900 || p > 10_100 {
		t.Errorf("elasticsearch p50 %d µs, want the composite's 10 ms", p)
	}
	if p := es.Duration.P99; p < 198_000 || p > 202_000 {
		t.Errorf("elasticsearch p99 %d µs", p)
	}

	total, points, examples, err := s.Dependency(ctx, "search", "http/segmenter:8080", ts, ts.Add(5*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if total.Count != 3 || len(points) != 5 || points[0].Count != 2 || points[1].Count != 1 || points[1].Errors != 1 {
		t.Errorf("dependency %+v, points %+v", total, points)
	}
	if len(examples) != 3 || examples[0].SpanID != "s2" || examples[0].Statement != "call s2" ||
		examples[0].TransactionID != "b7ad6b7169203331" {
		t.Errorf("examples %+v", examples)
	}
	// Dependencies are not query shapes, nor the reverse.
	if shapes, _, _, err := s.QueryShapes(ctx, "search", ts.Add(-time.Minute), ts.Add(10*time.Minute)); err != nil || len(shapes) != 0 {
		t.Errorf("query shapes %+v, %v", shapes, err)
	}
}

// An example keeps at most maxExampleStatement bytes of a span's name, cut on a character boundary;
// a name of exactly that length is kept whole.
func TestDependencyExampleNameLimit(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	ts := t0.Add(-10 * time.Minute)
	exact := exitSpan("s1", "http", "segmenter:8080", "", ts, 2*time.Millisecond, "success")
	exact.Span.Name = strings.Repeat("a", maxExampleStatement)
	long := exitSpan("s2", "http", "segmenter:8080", "", ts, time.Millisecond, "success")
	long.Span.Name = strings.Repeat("a", maxExampleStatement-1) + "é" + "tail" // é straddles the limit
	mustProcess(t, s, collector.Batch{exact, long})
	_, _, xs, err := s.Dependency(context.Background(), "search", "http/segmenter:8080", ts, ts.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 2 || xs[0].Statement != exact.Span.Name {
		t.Fatalf("examples %d, the first %d bytes", len(xs), len(xs[0].Statement))
	}
	if got := xs[1].Statement; got != strings.Repeat("a", maxExampleStatement-1) || !utf8.ValidString(got) {
		t.Errorf("the long name kept as %d bytes (valid UTF-8: %v)", len(got), utf8.ValidString(got))
	}
}
