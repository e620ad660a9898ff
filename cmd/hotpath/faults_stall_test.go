//go:build faults && linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// frozenDisk mounts a 256 MiB ext4 filesystem from an image file for the test (root, e2fsprogs and
// util-linux, as this machine has) and returns its path and the freeze and thaw of it: fsfreeze makes
// every write to it wait, as a disk that hangs does, until it is thawed.
func frozenDisk(t *testing.T) (dir string, freeze, thaw func()) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	dir = filepath.Join(t.TempDir(), "disk")
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s (the hanging-disk test needs root, e2fsprogs and util-linux): %v: %s", name, strings.Join(args, " "), err, out)
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 256<<20); err != nil {
		t.Fatal(err)
	}
	run("mkfs.ext4", "-q", img)
	run("mount", "-o", "loop", img, dir)
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Error(err)
		}
	})
	var mu sync.Mutex
	frozen := false
	freeze = func() {
		mu.Lock()
		defer mu.Unlock()
		run("fsfreeze", "--freeze", dir)
		frozen = true
	}
	thaw = func() {
		mu.Lock()
		defer mu.Unlock()
		if frozen {
			run("fsfreeze", "--unfreeze", dir)
			frozen = false
		}
	}
	t.Cleanup(thaw) // before the unmount: a frozen filesystem would hang whatever still writes to it
	return dir, freeze, thaw
}

// TestFaultDiskStall: a collector whose data directory is on a disk that hangs (frozen: writes wait,
// they do not fail), under load. Within --disk-stall-timeout intake answers 503 saying why, GET / and
// the query API answer; once the disk is thawed intake takes events again without a restart. Then the
// disk hangs again and the collector is stopped gracefully: it stops answering and says so at once, and
// exits as soon as the disk returns. Every event answered 202 is in the store.
func TestFaultDiskStall(t *testing.T) {
	const stallTimeout = 2 * time.Second
	disk, freeze, thaw := frozenDisk(t)
	dataDir := filepath.Join(disk, "data")
	proc := startCollectorProcess(t, "127.0.0.1:0", dataDir, "--disk-stall-timeout", stallTimeout.String())
	load, stopLoad := diskFaultLoad(t, proc, "diskstall")
	for round := 1; round <= 2; round++ {
		start := time.Now()
		freeze()
		waitRefusals(t, load, "on the hanging disk")
		firstRefusals := time.Since(start)
		checkServingDuringFault(t, proc, load, "diskstall", "on the hanging disk")
		held := time.Since(start)
		thaw()
		acked := load.acked()
		thawed := time.Now()
		waitForCondWithin(t, time.Minute, "202s once the disk returns", func() bool { return load.acked() > acked+600 })
		_, page := get(t, proc.url+"/metrics", "")
		t.Logf("round %d: 503s %v after the freeze (disk held %v); 600 more events acknowledged %v after the thaw; stalls %s, writable %s",
			round, firstRefusals.Round(time.Millisecond), held.Round(time.Millisecond), time.Since(thawed).Round(time.Millisecond),
			metricLine(page, "hotpath_store_disk_stalls_total"), metricLine(page, "hotpath_store_writable"))
	}
	if msgs := load.firstRefusals(); !strings.Contains(msgs, "has not returned") {
		t.Errorf("the 503s do not say the disk hangs:\n%s", msgs)
	}

	// A graceful stop on a hanging disk: the collector stops serving and says why without waiting for
	// the disk; the process ends once the disk returns (a thread inside a write cannot end before).
	freeze()
	waitRefusals(t, load, "on the hanging disk")
	rep := stopLoad()
	start := time.Now()
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitForCondWithin(t, 45*time.Second, "the collector's stop on the hanging disk", func() bool {
		return strings.Contains(proc.stderr.String(), "left open until the disk returns")
	})
	t.Logf("stop reported in %v on the hanging disk", time.Since(start).Round(time.Millisecond))
	thaw()
	select {
	case err := <-proc.exited:
		t.Logf("exited %v after the thaw: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(30 * time.Second):
		t.Fatalf("the collector did not exit after the disk returned: %s", proc.stderr)
	}
	checkAcked(t, load, rep, dataDir)
}
