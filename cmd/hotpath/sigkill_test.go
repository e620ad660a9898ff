package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
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
	k := startKilling(t, "sigkill", t.TempDir())
	k.rounds(*sigkillMinRun, *sigkillMaxRun, nil, "")
	rep := k.stopLoad()
	if rep.failures == 0 {
		t.Error("no request failed: the collector was never killed under load")
	}

	t.Logf("%d rounds; %d requests failed (cut off by a kill, or sent while the collector was down)", *sigkillRounds, rep.failures)
	checkAcked(t, k.load, rep, k.dataDir)
}

// killing is the frame of the SIGKILL tests: a collector process on dataDir (started with args) under
// a load generator's traces, killed with SIGKILL and restarted on the same data directory and port.
type killing struct {
	t        *testing.T
	rng      *rand.Rand
	dataDir  string
	args     []string
	proc     *collectorProcess
	listen   string
	load     *intakeLoad
	stop     context.CancelFunc
	loadDone chan intakeReport
}

// startKilling seeds the kill times (-sigkill.seed, or a random seed, logged), starts the collector on a
// free port and the load generator's traces of service to it.
func startKilling(t *testing.T, service, dataDir string, args ...string) *killing {
	seed := *sigkillSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -args -sigkill.seed=%d)", seed, seed)
	k := &killing{t: t, rng: rand.New(rand.NewPCG(seed, seed)), dataDir: dataDir, args: args, loadDone: make(chan intakeReport, 1)}
	// The first collector picks a free port; the later ones reuse it, so the load generator's URL holds.
	k.proc = startCollectorProcess(t, "127.0.0.1:0", dataDir, args...)
	k.listen = strings.TrimPrefix(k.proc.url, "http://")
	k.load = newIntakeLoad(loadgenConfig{url: k.proc.url, concurrency: 4, events: 60, spans: 5, gzip: true, service: service})
	ctx, stop := context.WithCancel(context.Background())
	k.stop = stop
	go func() { k.loadDone <- k.load.run(ctx) }()
	return k
}

// rounds kills the collector -sigkill.rounds times, restarting it before every round but the first.
// Each round runs for a random time from minRun to maxRun, and at least until this collector has
// acknowledged something, and if busy is not nil, until the condition it returns at the start of the
// round holds (what names it in the log), so that every round kills a collector that was busy; then a
// quarter of the round more, at least.
func (k *killing) rounds(minRun, maxRun time.Duration, busy func() func() bool, what string) {
	t := k.t
	ackedBefore := 0
	for round := 1; round <= *sigkillRounds; round++ {
		if round > 1 {
			k.proc = k.restart()
		}
		runFor := minRun + time.Duration(k.rng.Int64N(int64(maxRun-minRun)+1))
		began := time.Now()
		cond := func() bool { return true }
		if busy != nil {
			cond = busy()
		}
		waitForCondWithin(t, time.Minute, "intake"+what+" in round "+strconv.Itoa(round), func() bool {
			return k.load.acked() > ackedBefore && cond()
		})
		time.Sleep(max(runFor-time.Since(began), runFor/4)) // the kill moment itself, not a synchronisation
		k.proc.kill(t)
		acked := k.load.acked()
		t.Logf("round %d: killed after %d more events acknowledged", round, acked-ackedBefore)
		ackedBefore = acked
	}
}

// restart starts a collector again on the data directory and port of the first.
func (k *killing) restart() *collectorProcess {
	return startCollectorProcess(k.t, k.listen, k.dataDir, k.args...)
}

// stopLoad stops the load generator and returns its report.
func (k *killing) stopLoad() intakeReport {
	k.stop()
	return <-k.loadDone
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
