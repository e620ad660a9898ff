package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestPayloadIsValidIntake: every line the load generator writes is JSON, the first is metadata, and
// trace ids are unique and recoverable from trace numbers.
func TestPayloadIsValidIntake(t *testing.T) {
	gen := newPayloadGen("svc", 5)
	b, first := gen.appendStream(nil, 20, time.Now())
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 1+20*6 {
		t.Fatalf("%d lines", len(lines))
	}
	traces := map[string]bool{}
	for i, line := range lines {
		var m map[string]map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
		if i == 0 {
			if m["metadata"] == nil {
				t.Fatal("first line is not metadata")
			}
			continue
		}
		for _, ev := range m {
			traces[ev["trace_id"].(string)] = true
		}
	}
	if len(traces) != 20 {
		t.Errorf("%d trace ids, want 20", len(traces))
	}
	for seq := first; seq < first+20; seq++ {
		if !traces[gen.traceID(seq)] {
			t.Errorf("trace %d not in the stream", seq)
		}
	}
	_, next := gen.appendStream(nil, 1, time.Now())
	if next != first+20 {
		t.Errorf("next stream starts at trace %d, want %d", next, first+20)
	}
}

// TestIntakeLoadShort is the short version of the throughput run (BENCHMARKS.md): the load generator
// sends gzip streams concurrently to a collector with the real store for a moment; every acknowledged
// event is stored and counted, and latencies are recorded. The rate itself is measured by the long run,
// between separate processes.
func TestIntakeLoadShort(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	load := newIntakeLoad(loadgenConfig{url: tc.url, concurrency: 4, events: 120, spans: 5, gzip: true, service: "short"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rep := load.run(ctx)
	var out bytes.Buffer
	rep.print(&out, load.cfg)
	t.Log("\n" + out.String())
	if rep.acked == 0 || len(rep.latencies) != rep.statuses[202] || rep.failures != 0 {
		t.Fatalf("report %+v", rep)
	}
	_, page := get(t, tc.url+"/metrics", "")
	if got := metricLine(page, "hotpath_intake_events_accepted_total"); got != strconv.Itoa(rep.acked) {
		t.Errorf("collector counted %s accepted, load generator %d", got, rep.acked)
	}
	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, e := range storedEvents(t, tc.dataDir) {
		stored[e.TraceID]++
	}
	for _, r := range rep.ackedTraces {
		for seq := r[0]; seq < r[1]; seq++ {
			if stored[load.gen.traceID(seq)] != 6 {
				t.Fatalf("trace %d: %d events stored", seq, stored[load.gen.traceID(seq)])
			}
		}
	}
}

// TestAgentLoadShort is the short version of the agent run (BENCHMARKS.md): the real Elastic Go agent,
// paced at 2,000 transactions/s with 5 spans each for a second (300/s under the race detector, which
// slows the agent's single encoding goroutine below that), delivers everything to a collector with the
// real store: nothing dropped by the agent, everything it sent stored.
func TestAgentLoadShort(t *testing.T) {
	tc := startCollector(t, testConfig(t), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rate := 2000.0
	if raceEnabled {
		rate = 300
	}
	rep, err := runAgentLoad(ctx, loadgenConfig{url: tc.url, rate: rate, spans: 5, service: "agent-short"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.print(&out)
	t.Log("\n" + out.String())
	if !rep.ok() || float64(rep.started) < rate/2 {
		t.Fatalf("agent: %+v", rep)
	}
	if err := tc.stop(); err != nil {
		t.Fatal(err)
	}
	kinds := map[collector.Kind]uint64{}
	for _, e := range storedEvents(t, tc.dataDir) {
		if e.Service.Name == "agent-short" {
			kinds[e.Kind]++
		}
	}
	if kinds[collector.KindTransaction] != rep.started || kinds[collector.KindSpan] != rep.spansStarted {
		t.Errorf("stored %d transactions and %d spans, the agent started %d and %d",
			kinds[collector.KindTransaction], kinds[collector.KindSpan], rep.started, rep.spansStarted)
	}
}
