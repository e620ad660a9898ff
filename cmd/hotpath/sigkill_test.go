package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The SIGKILL test's size: the short version runs in `go test ./...`; BENCHMARKS.md gives the long run
// (go test ./cmd/hotpath -run TestSIGKILL -count=1 -v -args -sigkill.rounds=50).
var (
	sigkillRounds = flag.Int("sigkill.rounds", 4, "TestSIGKILL: how many times the collector is killed")
	sigkillSeed   = flag.Uint64("sigkill.seed", 0, "TestSIGKILL: seed of the kill times (0: random, logged)")
	sigkillMinRun = flag.Duration("sigkill.min", 150*time.Millisecond, "TestSIGKILL: shortest time a collector runs before it is killed")
	sigkillMaxRun = flag.Duration("sigkill.max", 700*time.Millisecond, "TestSIGKILL: longest time a collector runs before it is killed")
)

// collectorProcess is `hotpath collector` running as a child process (the test binary itself, see
// TestMain).
type collectorProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	exited chan error
}

// startCollectorProcess starts a collector on listen with its store in dataDir and waits until it
// listens.
func startCollectorProcess(t *testing.T, listen, dataDir string, extra ...string) *collectorProcess {
	t.Helper()
	args := append([]string{"collector", "--listen", listen, "--data", dataDir, "--log-level", "warn"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), execCollectorEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &collectorProcess{cmd: cmd, stderr: new(syncBuffer), exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "hotpath collector listening on "); ok {
			p.url, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		p.exited <- cmd.Wait()
	}()
	if p.url == "" {
		_ = cmd.Process.Kill()
		<-p.exited
		t.Fatalf("collector did not start: %s", p.stderr)
	}
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *collectorProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// TestSIGKILL: a load generator sends traces while the collector process is killed with SIGKILL at
// random moments and restarted on the same data directory, several times. Afterwards every event of
// every request that was answered 202 is in the store: acknowledged means durable.
func TestSIGKILL(t *testing.T) {
	seed := *sigkillSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -args -sigkill.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	dataDir := t.TempDir()

	// The first collector picks a free port; the later ones reuse it, so the load generator's URL holds.
	proc := startCollectorProcess(t, "127.0.0.1:0", dataDir)
	listen := strings.TrimPrefix(proc.url, "http://")
	load := newIntakeLoad(loadgenConfig{url: proc.url, concurrency: 4, events: 60, spans: 5, gzip: true, service: "sigkill"})
	ctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan intakeReport, 1)
	go func() { loadDone <- load.run(ctx) }()

	ackedBefore := 0
	for round := 1; round <= *sigkillRounds; round++ {
		if round > 1 {
			proc = startCollectorProcess(t, listen, dataDir)
		}
		// Run until a random moment, but at least until this collector acknowledged something, so
		// that every round kills a collector that was busy storing.
		deadline := time.Now().Add(*sigkillMinRun + time.Duration(rng.Int64N(int64(*sigkillMaxRun-*sigkillMinRun)+1)))
		waitForCond(t, func() bool { return load.acked() > ackedBefore })
		time.Sleep(time.Until(deadline)) // the kill moment itself, not a synchronisation
		proc.kill(t)
		acked := load.acked()
		t.Logf("round %d: killed after %d more events acknowledged", round, acked-ackedBefore)
		ackedBefore = acked
	}
	stopLoad()
	rep := <-loadDone
	if rep.failures == 0 {
		t.Error("no request failed: the collector was never killed under load")
	}

	t.Logf("%d rounds; %d requests failed (cut off by a kill, or sent while the collector was down)", *sigkillRounds, rep.failures)
	checkAcked(t, load, rep, dataDir)
}

// checkAcked checks that every trace the load had answered 202 is whole in the store of dataDir.
func checkAcked(t *testing.T, load *intakeLoad, rep intakeReport, dataDir string) {
	t.Helper()
	counts := map[string]int{}
	for _, e := range storedEvents(t, dataDir) {
		counts[e.TraceID]++
	}
	perTrace := load.gen.eventsPerTrace()
	missing := 0
	for _, r := range rep.ackedTraces {
		for seq := r[0]; seq < r[1]; seq++ {
			if n := counts[load.gen.traceID(seq)]; n != perTrace {
				if missing < 10 {
					t.Errorf("trace %d (%s) acknowledged, %d of its %d events stored", seq, load.gen.traceID(seq), n, perTrace)
				}
				missing++
			}
		}
	}
	t.Logf("%d events acknowledged in %d requests, statuses %v, %d events stored", rep.acked, rep.requests, rep.statuses, sum(counts))
	if missing > 0 {
		t.Fatalf("%d acknowledged traces incomplete in the store", missing)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
