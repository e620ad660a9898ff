//go:build faults

package main

import (
	"context"
	"flag"
	"net/http"
	"syscall"
	"testing"
	"time"
)

var overloadDuration = flag.Duration("faults.overload", 20*time.Second, "TestFaultOverload: how long the overload lasts")

// TestFaultOverload: the collector (default --memory-limit) is first measured at what it absorbs (8
// streams as fast as it acknowledges), then asked to take ten times that from 1,024 streams of 6,000
// events on 16 loopback addresses (the load generator runs on the same machine: what it manages to
// offer is logged). It answers the excess 503 (never 500), its peak resident memory stays under 512 MiB, and
// every event it answered 202 is in the store after a graceful stop.
func TestFaultOverload(t *testing.T) {
	if raceEnabled {
		t.Fatal("run the fault suite without -race: it measures the collector's memory")
	}
	dataDir := t.TempDir()
	proc := startCollectorProcess(t, "127.0.0.1:0", dataDir)
	pid := proc.cmd.Process.Pid

	base := newIntakeLoad(loadgenConfig{url: proc.url, concurrency: 8, events: 600, spans: 5, gzip: true, service: "capacity"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	baseRep := base.run(ctx)
	cancel()
	capacity := float64(baseRep.acked) / baseRep.took.Seconds()
	if baseRep.acked == 0 {
		t.Fatalf("nothing acknowledged at 8 streams: %v", baseRep.firstErrors)
	}

	over := newIntakeLoad(loadgenConfig{url: proc.url, concurrency: 1024, events: 6000, spans: 5, gzip: true,
		service: "overload", clients: 16, rate: 10 * capacity})
	ctx, cancel = context.WithTimeout(context.Background(), *overloadDuration)
	rep := over.run(ctx)
	cancel()
	peak := procStatus(t, pid, "VmHWM")
	offered := 0
	for _, n := range rep.statuses {
		offered += n
	}
	offered = (offered + rep.failures) * over.traces * over.gen.eventsPerTrace()
	t.Logf("capacity %.0f events/s at 8 streams; overload offered %.0f events/s (%.1f×) from 1,024 streams: %.0f events/s acknowledged, statuses %v, %d without an answer; peak RSS %d MiB",
		capacity, float64(offered)/rep.took.Seconds(), float64(offered)/rep.took.Seconds()/capacity,
		float64(rep.acked)/rep.took.Seconds(), rep.statuses, rep.failures, peak>>20)
	t.Logf("first refusals and failures: %q", rep.firstErrors)
	if rep.statuses[http.StatusServiceUnavailable] == 0 {
		t.Error("no 503 under ten times the capacity")
	}
	if n := rep.statuses[http.StatusInternalServerError]; n > 0 {
		t.Errorf("%d answers 500 under overload: %v", n, rep.firstErrors)
	}
	if peak >= memloadPeakBound {
		t.Errorf("peak resident memory %d MiB, bound %d MiB", peak>>20, memloadPeakBound>>20)
	}
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-proc.exited; err != nil {
		t.Fatalf("collector stopped with %v: %s", err, proc.stderr)
	}
	checkAcked(t, over, rep, dataDir)
}
