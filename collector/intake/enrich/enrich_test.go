package enrich

import (
	"context"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

func TestHostAndNodeName(t *testing.T) {
	for _, tc := range []struct {
		name               string
		in                 collector.Event
		hostname, hostName string
		nodeName           string
	}{
		{"detected hostname names the host", collector.Event{Host: collector.Host{Hostname: "box"}}, "box", "box", "box"},
		{"configured name wins", collector.Event{Host: collector.Host{Hostname: "box", Name: "web-1"}}, "box", "web-1", "web-1"},
		{"kubernetes node name", collector.Event{Host: collector.Host{Hostname: "box"},
			Kubernetes: collector.Kubernetes{NodeName: "node-7", PodName: "p"}}, "node-7", "node-7", "node-7"},
		{"kubernetes without node name clears hostname", collector.Event{Host: collector.Host{Hostname: "box"},
			Kubernetes: collector.Kubernetes{Namespace: "ns"}}, "", "", ""},
		{"container id names the node", collector.Event{Host: collector.Host{Hostname: "box"},
			Container: collector.Container{ID: "c0ffee"}}, "box", "box", "c0ffee"},
		{"configured node name kept", collector.Event{Host: collector.Host{Hostname: "box"},
			Service: collector.Service{NodeName: "n1"}, Container: collector.Container{ID: "c0ffee"}}, "box", "box", "n1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.in
			setHostHostname(&e)
			setServiceNodeName(&e)
			if e.Host.Hostname != tc.hostname || e.Host.Name != tc.hostName || e.Service.NodeName != tc.nodeName {
				t.Errorf("host.hostname %q host.name %q service.node.name %q, want %q %q %q",
					e.Host.Hostname, e.Host.Name, e.Service.NodeName, tc.hostname, tc.hostName, tc.nodeName)
			}
		})
	}
}

// Grouping keys are compared with the values APM Server computed for the same errors (they are in
// the golden documents of collector/elasticsearch, which test the whole chain); here each rule alone.
func TestGroupingKeyRules(t *testing.T) {
	frames := []collector.StackFrame{{Module: "m", Function: "f"}, {Filename: "x.go", Function: "g", ExcludeFromGrouping: true}}
	withType := &collector.Error{Exception: &collector.Exception{Type: "T", Message: "m1", Stacktrace: frames}}
	sameTypeOtherMessage := &collector.Error{Exception: &collector.Exception{Type: "T", Message: "m2", Stacktrace: frames}}
	if groupingKey(withType) != groupingKey(sameTypeOtherMessage) {
		t.Error("the message changes the key although type and frames are there")
	}
	excludedDiffers := &collector.Error{Exception: &collector.Exception{Type: "T", Message: "m1",
		Stacktrace: []collector.StackFrame{frames[0], {Filename: "y.go", Function: "h", ExcludeFromGrouping: true}}}}
	if groupingKey(withType) != groupingKey(excludedDiffers) {
		t.Error("a frame excluded from grouping changes the key")
	}
	onlyMessage1 := &collector.Error{Exception: &collector.Exception{Message: "m1"}}
	onlyMessage2 := &collector.Error{Exception: &collector.Exception{Message: "m2"}}
	if groupingKey(onlyMessage1) == groupingKey(onlyMessage2) {
		t.Error("without type and frames the message must make the key")
	}
	logParam := &collector.Error{Log: &collector.ErrorLog{Message: "user 1 failed", ParamMessage: "user %d failed"}}
	logParam2 := &collector.Error{Log: &collector.ErrorLog{Message: "user 2 failed", ParamMessage: "user %d failed"}}
	if groupingKey(logParam) != groupingKey(logParam2) {
		t.Error("log messages with the same param_message must group")
	}
	if k := groupingKey(&collector.Error{}); k != "ef46db3751d8e999" { // xxhash64 of nothing
		t.Errorf("empty error: %s", k)
	}
	if len(groupingKey(withType)) != 16 {
		t.Error("key is not 16 hex digits")
	}
}

func TestErrorMessage(t *testing.T) {
	p := New(Config{ObserverHostname: "h"})
	b := collector.Batch{
		{Kind: collector.KindError, Error: &collector.Error{Log: &collector.ErrorLog{Message: "log"}, Exception: &collector.Exception{Message: "exc"}}},
		{Kind: collector.KindError, Error: &collector.Error{Exception: &collector.Exception{Message: "exc"}}},
		{Kind: collector.KindError, Message: "kept", Error: &collector.Error{Exception: &collector.Exception{Message: "exc"}}},
	}
	p.Process(&b)
	for i, want := range []string{"log", "exc", "kept"} {
		if b[i].Message != want {
			t.Errorf("event %d: message %q, want %q", i, b[i].Message, want)
		}
	}
}

func TestDataStreams(t *testing.T) {
	tx := func(agent string) collector.Event {
		return collector.Event{Kind: collector.KindTransaction, Agent: collector.Agent{Name: agent},
			Transaction: &collector.Transaction{Type: "request", Sampled: true}}
	}
	metrics := func(service string, names ...string) collector.Event {
		e := collector.Event{Kind: collector.KindMetricset, Service: collector.Service{Name: service},
			Metricset: &collector.Metricset{Name: "app"}}
		for _, n := range names {
			e.Metricset.Samples = append(e.Metricset.Samples, collector.MetricSample{Name: n, Type: collector.MetricGauge, Unit: "byte"})
		}
		return e
	}
	for _, tc := range []struct {
		name string
		in   collector.Event
		want collector.DataStream
	}{
		{"transaction", tx("go"), collector.DataStream{Type: "traces", Dataset: "apm", Namespace: "default"}},
		{"RUM transaction", tx("rum-js"), collector.DataStream{Type: "traces", Dataset: "apm.rum", Namespace: "default"}},
		{"error", collector.Event{Kind: collector.KindError, Error: &collector.Error{}},
			collector.DataStream{Type: "logs", Dataset: "apm.error", Namespace: "default"}},
		{"log with an error is an error", collector.Event{Kind: collector.KindLog, Log: &collector.Log{},
			Error: &collector.Error{Type: "E"}}, collector.DataStream{Type: "logs", Dataset: "apm.error", Namespace: "default"}},
		{"log", collector.Event{Kind: collector.KindLog, Log: &collector.Log{}, Service: collector.Service{Name: "My Svc-1"}},
			collector.DataStream{Type: "logs", Dataset: "apm.app.my_svc_1", Namespace: "default"}},
		{"log without service", collector.Event{Kind: collector.KindLog, Event: collector.EventInfo{Kind: "event"}},
			collector.DataStream{Type: "logs", Dataset: "apm.app.unknown", Namespace: "default"}},
		{"app metrics", metrics("Search", "search.cache.hits"),
			collector.DataStream{Type: "metrics", Dataset: "apm.app.search", Namespace: "default"}},
		{"internal metrics", metrics("search", "golang.goroutines", "system.memory.total"),
			collector.DataStream{Type: "metrics", Dataset: "apm.internal", Namespace: "default"}},
		{"no service", metrics("", "x"), collector.DataStream{Type: "metrics", Dataset: "apm.internal", Namespace: "default"}},
		{"aggregated", collector.Event{Kind: collector.KindMetricset, Service: collector.Service{Name: "s"},
			Transaction: &collector.Transaction{}, Metricset: &collector.Metricset{Name: "transaction", Interval: "1m"}},
			collector.DataStream{Type: "metrics", Dataset: "apm.transaction.1m", Namespace: "default"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := collector.Batch{tc.in}
			New(Config{ObserverHostname: "h"}).Process(&b)
			if b[0].DataStream != tc.want {
				t.Errorf("data stream %+v, want %+v", b[0].DataStream, tc.want)
			}
		})
	}

	b := collector.Batch{metrics("search", "golang.goroutines")}
	New(Config{ObserverHostname: "h"}).Process(&b)
	if s := b[0].Metricset.Samples[0]; s.Type != collector.MetricUnspecified || s.Unit != "" {
		t.Errorf("internal metric kept type %v unit %q (the internal data stream is strictly mapped)", s.Type, s.Unit)
	}
	// A namespace the event brings is kept, except from RUM agents.
	own := tx("go")
	own.DataStream.Namespace = "prod"
	rum := tx("rum-js")
	rum.DataStream.Namespace = "prod"
	b = collector.Batch{own, rum}
	New(Config{ObserverHostname: "h", Namespace: "ns"}).Process(&b)
	if b[0].DataStream.Namespace != "prod" || b[1].DataStream.Namespace != "ns" {
		t.Errorf("namespaces %q %q, want prod ns", b[0].DataStream.Namespace, b[1].DataStream.Namespace)
	}
}

func TestObserver(t *testing.T) {
	b := collector.Batch{{Kind: collector.KindLog, Log: &collector.Log{}}}
	New(Config{ObserverHostname: "collector-1"}).Process(&b)
	o := b[0].Observer
	if o.Hostname != "collector-1" || o.Type != "apm-server" || o.Version != DefaultObserverVersion {
		t.Errorf("observer %+v", o)
	}
	b = collector.Batch{{Kind: collector.KindLog, Log: &collector.Log{}}}
	New(Config{ObserverVersion: "9.9.9"}).Process(&b)
	if b[0].Observer.Hostname == "" || b[0].Observer.Version != "9.9.9" {
		t.Errorf("defaults: observer %+v", b[0].Observer)
	}
}

func TestDropUnsampledKeepsOrder(t *testing.T) {
	mk := func(id string, agent string, sampled bool) collector.Event {
		return collector.Event{Kind: collector.KindTransaction, Agent: collector.Agent{Name: agent},
			Transaction: &collector.Transaction{ID: id, Type: "request", Sampled: sampled}}
	}
	span := collector.Event{Kind: collector.KindSpan, Span: &collector.Span{ID: "s", Type: "db"},
		Transaction: &collector.Transaction{ID: "t"}} // a span's partial transaction is never "unsampled"
	// An unsampled transaction that counts (an agent older than 8.0 without a sample rate: 1) is kept
	// for the aggregated metrics; one that counts for nothing (sample rate 0) is dropped.
	counted := mk("f", "python", false)
	counted.Transaction.RepresentativeCount = 1
	b := collector.Batch{mk("a", "go", true), mk("b", "go", false), span, mk("c", "rum-js", false), mk("d", "java", false),
		counted, mk("e", "go", true)}
	tx := b[1].Transaction
	var got []string
	p := New(Config{ObserverHostname: "h"}).Wrap(collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		for _, e := range *b {
			if e.Transaction != nil {
				got = append(got, e.Transaction.ID)
			}
		}
		return nil
	}))
	if err := p.ProcessBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if want := "a t c f e"; join(got) != want {
		t.Errorf("kept %q, want %q", join(got), want)
	}
	// The dropped events are still in the backing array, once each: pointers are not shared.
	full := b[:cap(b)]
	seen := 0
	for _, e := range full {
		if e.Transaction == tx {
			seen++
		}
	}
	if len(b) != 5 || seen != 1 {
		t.Errorf("len %d, dropped transaction held by %d elements", len(b), seen)
	}
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

func TestRUMFrames(t *testing.T) {
	line := func(n int32) collector.Optional[int32] { return collector.Some(n) }
	e := collector.Event{Kind: collector.KindError, Service: collector.Service{Name: "app", Version: "1.0"},
		Error: &collector.Error{Exception: &collector.Exception{Stacktrace: []collector.StackFrame{
			{AbsPath: "http://h/a/../b/bundle.js?v=1#x", Filename: "b/bundle.js", Lineno: line(1), Colno: line(2), LibraryFrame: true},
			{AbsPath: "http://h/node_modules/x.js", Filename: "/webpack/x.js", Lineno: line(1)},
			{Filename: "~/lib.js", Lineno: line(1), Colno: line(2)},
		}}}}
	processRUM(&e)
	f := e.Error.Exception.Stacktrace
	if want := "unable to find sourcemap.url for service.name=app service.version=1.0 bundle.path=http://h/b/bundle.js"; f[0].SourcemapError != want {
		t.Errorf("frame 0 sourcemap error %q, want %q", f[0].SourcemapError, want)
	}
	if f[0].LibraryFrame || f[0].Original == nil || !f[0].Original.LibraryFrame {
		t.Errorf("frame 0: library_frame %v, original %+v (the agent's value moves to original)", f[0].LibraryFrame, f[0].Original)
	}
	if f[1].SourcemapError != "" || !f[1].LibraryFrame || !f[1].ExcludeFromGrouping || f[1].Original != nil {
		t.Errorf("frame 1 (no column; node_modules; /webpack): %+v", f[1])
	}
	if f[2].SourcemapError != "" || !f[2].LibraryFrame {
		t.Errorf("frame 2 (no abs_path; ~): %+v", f[2])
	}
}
