//go:build memload || faults

package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The memory load test is long (about a minute per load) and measures the process, so it is not in the
// default run: go test -tags memload ./cmd/hotpath -run TestMemoryUnderOverload -v -timeout 30m
// (without -race: the race detector multiplies memory). BENCHMARKS.md, "Memory under overload", has
// its figures.
var (
	memloadStreams  = flag.String("memload.streams", "64,256,1024", "TestMemoryUnderOverload: concurrent streams of each load")
	memloadDuration = flag.Duration("memload.duration", 20*time.Second, "TestMemoryUnderOverload: how long each load sends")
)

// The bounds the collector keeps to with its default --memory-limit: its peak resident memory under
// any load, and what it holds once the load has been over for a while.
const (
	memloadPeakBound = 512 << 20
	memloadIdleBound = 256 << 20
)

// TestMemoryUnderOverload runs the collector as its own process under loads of 64 to 1,024 concurrent
// intake streams of 6,000 events each (from 16 loopback addresses, so that every stream slot is
// used): far more than it can store, so most requests are answered 503. Its peak resident memory
// (VmHWM) stays under 512 MiB, and within 30 s of the load's end its resident memory is under 256 MiB.
func TestMemoryUnderOverload(t *testing.T) {
	if raceEnabled {
		t.Fatal("run the memory load test without -race: the race detector's shadow memory is not the collector's")
	}
	for _, f := range strings.Split(*memloadStreams, ",") {
		streams, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("streams=%d", streams), func(t *testing.T) {
			proc := startCollectorProcess(t, "127.0.0.1:0", t.TempDir())
			defer proc.kill(t)
			pid := proc.cmd.Process.Pid
			load := newIntakeLoad(loadgenConfig{url: proc.url, concurrency: streams, events: 6000, spans: 5,
				gzip: true, service: "memload", clients: 16})
			ctx, cancel := context.WithTimeout(context.Background(), *memloadDuration)
			defer cancel()
			rep := load.run(ctx)
			peak := procStatus(t, pid, "VmHWM")
			atEnd := procStatus(t, pid, "VmRSS")
			start := time.Now()
			idle := atEnd
			for idle > memloadIdleBound && time.Since(start) < 30*time.Second {
				time.Sleep(500 * time.Millisecond) // the collector's own idle check runs every 5 s
				idle = procStatus(t, pid, "VmRSS")
			}
			t.Logf("%d streams: %d events acknowledged, %d requests answered 503, %d without an answer; peak RSS %d MiB, %d MiB at the load's end, %d MiB %v later",
				streams, rep.acked, rep.statuses[503], rep.failures, peak>>20, atEnd>>20, idle>>20, time.Since(start).Round(time.Second))
			if rep.acked == 0 {
				t.Error("nothing acknowledged")
			}
			if peak >= memloadPeakBound {
				t.Errorf("peak resident memory %d MiB, bound %d MiB", peak>>20, memloadPeakBound>>20)
			}
			if idle > memloadIdleBound {
				t.Errorf("resident memory still %d MiB 30 s after the load, bound %d MiB", idle>>20, memloadIdleBound>>20)
			}
		})
	}
}

// procStatus reads a memory field (kB) of /proc/<pid>/status, in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
