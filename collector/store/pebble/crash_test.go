package pebble

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The crash test runs this test binary again as a child that writes to a store and prints the ids of
// every batch ProcessBatch acknowledged; the parent kills it with SIGKILL at a random moment, reopens the
// store and checks that every acknowledged event is there.

const (
	crashEnvDir   = "HOTPATH_STORE_CRASH_DIR"
	crashEnvRound = "HOTPATH_STORE_CRASH_ROUND"
)

// crashChild runs the child's part when the environment says so, and reports whether it did.
func crashChild() bool {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		return false
	}
	round, _ := strconv.Atoi(os.Getenv(crashEnvRound))
	s, err := Open(Config{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(uint64(round*10+w), time.Now())
			for n := 0; ; n++ {
				b := g.batch(20, 3)
				ids := make([]string, len(b))
				for i := range b {
					// Unique per event across rounds and writers, so the parent can check each one.
					b[i].Message = fmt.Sprintf("r%d-w%d-b%d-e%d", round, w, n, i)
					ids[i] = b[i].Message
				}
				if err := s.ProcessBatch(context.Background(), &b); err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(3)
				}
				line := "ack " + strings.Join(ids, " ") + "\n"
				mu.Lock()
				_, err := os.Stdout.WriteString(line)
				mu.Unlock()
				if err != nil {
					os.Exit(4)
				}
			}
		}()
	}
	wg.Wait()
	return true
}

func TestCrashKeepsAcknowledgedEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := range 3 {
		killAfter := 20 + r.IntN(120) // acknowledged batches before the kill
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvRound+"="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		lines := 0
		for sc.Scan() {
			// Every complete line was printed after ProcessBatch acknowledged its batch, so it counts,
			// including lines read after the kill.
			for _, id := range strings.Fields(strings.TrimPrefix(sc.Text(), "ack ")) {
				acked[id] = true
			}
			lines++
			if lines == killAfter {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if lines < killAfter {
			t.Fatalf("round %d: child ended after %d batches: %v", round, lines, err)
		}
		t.Logf("round %d: killed after %d acknowledged batches (%d lines read)", round, killAfter, lines)
	}

	s := openTest(t, Config{Dir: dir})
	found := map[string]bool{}
	for _, rec := range readPaged(t, s, 1000) {
		found[rec.Event.Message] = true
	}
	missing := 0
	for id := range acked {
		if !found[id] {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged event %s is not in the store", id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged events lost", missing, len(acked))
	}
	if len(acked) < 3*20*20 {
		t.Fatalf("only %d events acknowledged", len(acked))
	}
	// The store is still writable after the crashes, and its sequence numbers continue.
	last := s.LastSeq()
	mustProcess(t, s, collector.Batch{{Kind: collector.KindLog, Message: "after"}})
	if s.LastSeq() != last+1 {
		t.Fatalf("LastSeq %d after %d", s.LastSeq(), last)
	}
}
