//go:build faults

package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

var (
	overloadDuration = flag.Duration("faults.overload", 20*time.Second, "TestFaultOverload: how long the overload lasts")
	overloadCPU      = flag.Float64("faults.overload-cpu", 0.1, "TestFaultOverload: the CPUs the collector gets (a cgroup's quota), so that the load generator on the same machine can offer ten times what it absorbs")
)

// cpuQuota moves process pid into a new cgroup limited to cpus CPUs (cgroup v1's cpu controller, or
// v2's cpu.max; root) until the test ends.
func cpuQuota(t *testing.T, pid int, cpus float64) {
	t.Helper()
	const period = 100_000 // µs
	quota := int(cpus * period)
	name := fmt.Sprintf("hotpath-faults-%d", pid)
	var dir, parent string
	var limits [][2]string
	switch {
	case fileExists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"): // v1
		parent = "/sys/fs/cgroup/cpu"
		limits = [][2]string{{"cpu.cfs_period_us", strconv.Itoa(period)}, {"cpu.cfs_quota_us", strconv.Itoa(quota)}}
	case fileExists("/sys/fs/cgroup/cgroup.controllers"): // v2
		parent = "/sys/fs/cgroup"
		limits = [][2]string{{"cpu.max", fmt.Sprintf("%d %d", quota, period)}}
	default:
		t.Fatal("no cgroup cpu controller at /sys/fs/cgroup: the overload test limits the collector's CPU with one")
	}
	dir = filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("create a cgroup (root): %v", err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0) // if it still runs
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove cgroup %s: %v", dir, err)
		}
	})
	for _, kv := range limits {
		if err := os.WriteFile(filepath.Join(dir, kv[0]), []byte(kv[1]), 0); err != nil {
			t.Fatalf("cgroup %s: %v", kv[0], err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatalf("move the collector into cgroup %s: %v", dir, err)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// TestFaultOverload: the collector (default --memory-limit), given a tenth of a CPU so that the load
// generator on the same two cores can outrun it tenfold, is first measured at what it absorbs (8
// streams as fast as it acknowledges), then asked to take ten times that from 1,024 streams of 6,000
// events on 16 loopback addresses; the test fails if the generator offers less than ten times. The
// collector answers the excess 503 (never 500, never 400: the requests are well formed), its peak
// resident memory stays under 512 MiB, and every event it answered 202 is in the store after a
// graceful stop.
func TestFaultOverload(t *testing.T) {
	if raceEnabled {
		t.Fatal("run the fault suite without -race: it measures the collector's memory")
	}
	dataDir := t.TempDir()
	proc := startCollectorProcess(t, "127.0.0.1:0", dataDir)
	pid := proc.cmd.Process.Pid
	cpuQuota(t, pid, *overloadCPU)

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
	ratio := float64(offered) / rep.took.Seconds() / capacity
	t.Logf("collector on %.2f CPU: capacity %.0f events/s at 8 streams; overload offered %.0f events/s (%.1f×) from 1,024 streams: %.0f events/s acknowledged, statuses %v, %d without an answer; peak RSS %d MiB",
		*overloadCPU, capacity, float64(offered)/rep.took.Seconds(), ratio,
		float64(rep.acked)/rep.took.Seconds(), rep.statuses, rep.failures, peak>>20)
	if ratio < 10 {
		t.Errorf("the load generator offered %.1f× the capacity, not 10×: give the collector less CPU (-faults.overload-cpu)", ratio)
	}
	t.Logf("first refusals and failures: %q; first answer of each status: %v", rep.firstErrors, rep.firstByCode)
	if rep.statuses[http.StatusServiceUnavailable] == 0 {
		t.Error("no 503 under ten times the capacity")
	}
	if n := rep.statuses[http.StatusInternalServerError]; n > 0 {
		t.Errorf("%d answers 500 under overload: %v", n, rep.firstErrors)
	}
	if n := rep.statuses[http.StatusBadRequest]; n > 0 {
		// Well-formed requests: a 400 is a request head cut by ReadHeaderTimeout (prefetchListener).
		t.Errorf("%d answers 400 under overload (%q), to requests sent whole", n, rep.firstByCode[http.StatusBadRequest])
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
