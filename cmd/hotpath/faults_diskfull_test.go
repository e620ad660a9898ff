//go:build faults && linux

package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The fault suite (build tag faults; BENCHMARKS.md, RELIABILITY, has the command and the figures) runs
// the collector as a process against what it meets in production. Here: its disk fills up.

// smallDisk mounts a tmpfs of size bytes for the test (it needs root, as CI has) and returns its path.
func smallDisk(t *testing.T, size int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Fatalf("mount a %d-byte tmpfs (the disk-full test needs root): %v", size, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Error(err)
		}
	})
	return dir
}

// fill allocates a file in dir until the filesystem has at most leave bytes free (the collector writes
// meanwhile: an allocation that fails is tried again, smaller), and returns its path.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var size int64
	for range 100 {
		n := freeBytes(t, dir) - leave
		if n <= 0 {
			return name
		}
		for n > 0 {
			err := syscall.Fallocate(int(f.Fd()), 0, size, n)
			if err == nil {
				size += n
				break
			}
			if err != syscall.ENOSPC {
				t.Fatal(err)
			}
			n /= 2
		}
	}
	t.Fatalf("could not fill %s to %d bytes free", dir, leave)
	return name
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// statusCount is how many answers of status the load has had.
func (l *intakeLoad) statusCount(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rep.statuses[status]
}

// rootWithin checks that GET / answers 200 within d.
func rootWithin(t *testing.T, url string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET / within %v: %v", d, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
}

// diskFaultLoad runs 4 streams of 60-event requests against proc until stop, once it has had an
// acknowledgement; stop ends the load (once; later calls return the same report).
func diskFaultLoad(t *testing.T, proc *collectorProcess, service string) (load *intakeLoad, stop func() intakeReport) {
	t.Helper()
	load = newIntakeLoad(loadgenConfig{url: proc.url, concurrency: 4, events: 60, spans: 5, gzip: true, service: service})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan intakeReport, 1)
	go func() { done <- load.run(ctx) }()
	var rep intakeReport
	var once sync.Once
	stop = func() intakeReport {
		once.Do(func() {
			cancel()
			rep = <-done
		})
		return rep
	}
	t.Cleanup(func() { stop() })
	waitForCondWithin(t, 30*time.Second, "events acknowledged", func() bool { return load.acked() > 0 })
	return load, stop
}

// waitRefusals waits for ten more 503s than the load has had so far.
func waitRefusals(t *testing.T, load *intakeLoad, what string) {
	t.Helper()
	refused := load.statusCount(http.StatusServiceUnavailable)
	waitForCondWithin(t, time.Minute, "503s "+what, func() bool {
		return load.statusCount(http.StatusServiceUnavailable) > refused+10
	})
}

// checkServingDuringFault checks, while the store refuses writes for its disk, that GET / and the query
// API answer (the load's service listed), that /metrics says the store is not writable, and that no
// request was answered 500.
func checkServingDuringFault(t *testing.T, proc *collectorProcess, load *intakeLoad, service, what string) {
	t.Helper()
	rootWithin(t, proc.url, time.Second)
	if code, body := get(t, proc.url+"/api/v1/services", ""); code != http.StatusOK || !strings.Contains(body, service) {
		t.Fatalf("query API %s: %d %s", what, code, body)
	}
	_, page := get(t, proc.url+"/metrics", "")
	if v := metricLine(page, "hotpath_store_writable"); v != "0" {
		t.Fatalf("hotpath_store_writable %s %s", v, what)
	}
	if n := load.statusCount(http.StatusInternalServerError); n != 0 {
		t.Fatalf("%d answers 500 %s", n, what)
	}
}

// firstRefusals returns the load's first refusals and failures, one a line.
func (l *intakeLoad) firstRefusals() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.rep.firstErrors, "\n")
}

// TestFaultDiskFull: a collector whose data directory is on a 64 MiB filesystem, under load. The disk is
// filled by another program, first below the free-space floor (intake answers 503 "disk nearly full"),
// then, with no floor, until a write of the store meets the full disk (it takes the store's reserve, and
// intake answers 503 until the reserve is back once space is freed); each time intake takes events again once the filler is removed, without a restart, and GET /
// and the query API answer throughout. Then the disk is filled again and the collector stopped
// gracefully: it stops. Every event answered 202 is in the store.
func TestFaultDiskFull(t *testing.T) {
	for _, tc := range []struct {
		name    string
		minFree string
		leave   int64  // bytes the filler leaves free
		want    string // in the 503s' message
	}{
		{"floor", "16MiB", 8 << 20, "disk nearly full"},
		{"full", "off", 256 << 10, "the disk is full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disk := smallDisk(t, 64<<20)
			dataDir := filepath.Join(disk, "data")
			proc := startCollectorProcess(t, "127.0.0.1:0", dataDir, "--min-free-disk", tc.minFree)
			load, stopLoad := diskFaultLoad(t, proc, "diskfull")
			for round := 1; round <= 2; round++ {
				filler := fill(t, disk, tc.leave)
				t.Logf("round %d: %d bytes free", round, freeBytes(t, disk))
				waitRefusals(t, load, "on the full disk")
				checkServingDuringFault(t, proc, load, "diskfull", "on the full disk")
				if err := os.Remove(filler); err != nil {
					t.Fatal(err)
				}
				acked := load.acked()
				waitForCondWithin(t, time.Minute, "202s once space is freed", func() bool { return load.acked() > acked+600 })
				_, page := get(t, proc.url+"/metrics", "")
				t.Logf("round %d: recovered; writable %s, reserve releases %s, write failures %s, recoveries %s", round,
					metricLine(page, "hotpath_store_writable"), metricLine(page, "hotpath_store_disk_reserve_releases_total"),
					metricLine(page, "hotpath_store_write_failures_total"), metricLine(page, "hotpath_store_recoveries_total"))
			}
			if msgs := load.firstRefusals(); !strings.Contains(msgs, tc.want) {
				t.Errorf("the 503s do not say %q:\n%s", tc.want, msgs)
			}

			// A graceful stop on a full disk stops.
			filler := fill(t, disk, tc.leave)
			waitRefusals(t, load, "on the full disk")
			rep := stopLoad()
			start := time.Now()
			if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-proc.exited:
				t.Logf("stopped in %v: %v", time.Since(start), err)
			case <-time.After(45 * time.Second):
				t.Fatalf("the collector did not stop on a full disk: %s", proc.stderr)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			checkAcked(t, load, rep, dataDir)
		})
	}
}
