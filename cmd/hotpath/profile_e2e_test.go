package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// flameNodeJSON and flameJSON are the flame graph of the query API, as a client reads it.
type flameNodeJSON struct {
	Name     string           `json:"name"`
	Self     int64            `json:"self"`
	Total    int64            `json:"total"`
	Children []*flameNodeJSON `json:"children"`
}

type flameFunctionJSON struct {
	Name  string `json:"name"`
	Self  int64  `json:"self"`
	Total int64  `json:"total"`
}

type flameJSON struct {
	ProfileID string              `json:"profile_id"`
	Part      string              `json:"part"`
	Samples   int64               `json:"samples"`
	Total     int64               `json:"total"`
	Root      *flameNodeJSON      `json:"root"`
	Functions []flameFunctionJSON `json:"functions"`
	CPU       *struct {
		Samples          int64  `json:"samples"`
		SamplingPeriodUS int64  `json:"sampling_period_us"`
		CPUUS            int64  `json:"cpu_us"`
		LowSampleCount   bool   `json:"low_sample_count"`
		MinSamples       int64  `json:"min_samples"`
		Note             string `json:"note"`
	} `json:"cpu"`
}

// heaviestPath follows the child with the largest total from the root, as long as more of the value
// goes on up than stops at the frame: the flame graph's widest tower, whose top frame is where most
// samples are.
func heaviestPath(root *flameNodeJSON) []string {
	var path []string
	for n := root; len(n.Children) > 0; {
		best := n.Children[0]
		for _, c := range n.Children {
			if c.Total > best.Total {
				best = c
			}
		}
		if n != root && n.Self >= best.Total {
			break
		}
		path = append(path, best.Name)
		n = best
	}
	return path
}

type txProfileJSON struct {
	TransactionID string `json:"transaction_id"`
	TraceID       string `json:"trace_id"`
	ProfileID     string `json:"profile_id"`
	FoundBy       string `json:"found_by"`
	Profile       struct {
		ID          string `json:"id"`
		Trigger     string `json:"trigger"`
		TraceID     string `json:"trace_id"`
		Service     struct{ Name string }
		Transaction *struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Ended bool   `json:"ended"`
		} `json:"transaction"`
		Parts []struct {
			Kind string `json:"kind"`
			URL  string `json:"url"`
		} `json:"parts"`
	} `json:"profile"`
	CPU       *flameJSON `json:"cpu"`
	Goroutine *flameJSON `json:"goroutine"`
}

// slowTransactions returns the transactions of the profiled service, by name, as the query API lists
// them.
func slowTransactions(t *testing.T, base, token string) map[string]transactionRef {
	t.Helper()
	var txs struct {
		Transactions []struct {
			TraceID       string            `json:"trace_id"`
			TransactionID string            `json:"transaction_id"`
			Name          string            `json:"name"`
			Labels        map[string]string `json:"labels"`
		} `json:"transactions"`
	}
	if code := getJSON(t, base, "/api/v1/transactions?service="+profiledService, token, &txs); code != http.StatusOK {
		t.Fatalf("transactions: %d", code)
	}
	out := map[string]transactionRef{}
	for _, tx := range txs.Transactions {
		out[tx.Name] = transactionRef{traceID: tx.TraceID, id: tx.TransactionID, profileID: tx.Labels["profile_id"], slow: tx.Labels["slow"] == "true"}
	}
	return out
}

// The functions of this package the profiles must show (a test binary's package main is named by its
// import path).
const (
	burnFunc = "/profiling/profilingtest.Burn"
	waitFunc = "/cmd/hotpath.waitForRelease"
)

type transactionRef struct {
	traceID, id, profileID string
	slow                   bool
}

// TestProfileEndToEnd is issue 6's "done means", through the real collector: a service with agent.Wrap
// and the profiler (real HTTP on loopback, the real Elastic agent) uploads to an in-process collector
// (intake, Pebble store, query API); for each slow transaction the collector has a profile that its
// profile_id label names, whose CPU flame graph's top frame is the function that burned the CPU, and
// whose goroutine flame graph's top frames are the channel receive the request blocked in. All of it
// read through the query API; the downloads open in go tool pprof and go tool trace.
func TestProfileEndToEnd(t *testing.T) {
	cfg := testConfig(t)
	cfg.secretToken = "pr0file"
	tc := startCollector(t, cfg, nil)
	runProfiledService(t, tc.url, cfg.secretToken)
	tok := cfg.secretToken

	txs := slowTransactions(t, tc.url, tok)
	burn, block := txs["GET /burn"], txs["GET /block/{id}"]
	if len(txs) != 2 || burn.profileID == "" || block.profileID == "" || !burn.slow || !block.slow {
		t.Fatalf("transactions %+v: want GET /burn and GET /block/{id}, slow, with a profile_id", txs)
	}

	for name, tx := range map[string]transactionRef{"GET /burn": burn, "GET /block/{id}": block} {
		var p txProfileJSON
		if code := getJSON(t, tc.url, "/api/v1/transactions/"+tx.id+"/profile?trace_id="+tx.traceID, tok, &p); code != http.StatusOK {
			t.Fatalf("%s: profile: %d", name, code)
		}
		pr := p.Profile
		if p.FoundBy != "label" || p.ProfileID != tx.profileID || pr.ID != tx.profileID || pr.Trigger != "slow_request" ||
			pr.TraceID != tx.traceID || pr.Transaction == nil || pr.Transaction.ID != tx.id || pr.Transaction.Name != name ||
			!pr.Transaction.Ended || pr.Service.Name != profiledService {
			t.Errorf("%s: profile %+v (found by %s)", name, pr, p.FoundBy)
		}
		// The profile is listed as the transaction's.
		var list struct {
			Profiles []struct{ ID string } `json:"profiles"`
		}
		getJSON(t, tc.url, "/api/v1/profiles?transaction_id="+tx.id, tok, &list)
		if len(list.Profiles) != 1 || list.Profiles[0].ID != tx.profileID {
			t.Errorf("%s: profiles of the transaction: %+v", name, list)
		}

		switch name {
		case "GET /burn":
			cpu := p.CPU
			if cpu == nil || cpu.CPU == nil {
				t.Fatalf("/burn: no CPU flame graph")
			}
			// The runtime's frames above Burn (asyncPreempt, when a busy machine preempts it often) are
			// Burn's samples as much as those in it.
			path := heaviestPath(cpu.Root)
			for len(path) > 0 && strings.HasPrefix(path[len(path)-1], "runtime.") {
				path = path[:len(path)-1]
			}
			top := slices.IndexFunc(cpu.Functions, func(f flameFunctionJSON) bool { return !strings.HasPrefix(f.Name, "runtime.") })
			if len(path) == 0 || !strings.HasSuffix(path[len(path)-1], burnFunc) || top < 0 || !strings.HasSuffix(cpu.Functions[top].Name, burnFunc) {
				t.Fatalf("/burn: heaviest stack %q, functions %+v; want profilingtest.Burn on top", path, cpu.Functions)
			}
			// The sample count, told honestly: ~40 samples of 10 ms for 400 ms of CPU, which is few.
			c := cpu.CPU
			if c.Samples < 10 || c.SamplingPeriodUS != 10_000 || c.LowSampleCount != (c.Samples < c.MinSamples) || c.Note == "" {
				t.Errorf("/burn: CPU figures %+v", c)
			}
			share := float64(cpu.Functions[top].Self) / float64(cpu.Total)
			t.Logf("/burn: %d CPU samples (%d ms), low_sample_count %v, profilingtest.Burn's share %.2f; %s", c.Samples, c.CPUUS/1000, c.LowSampleCount, share, c.Note)
		case "GET /block/{id}":
			g := p.Goroutine
			if g == nil {
				t.Fatalf("/block: no goroutine flame graph")
			}
			path := heaviestPath(g.Root)
			i := slices.IndexFunc(path, func(f string) bool { return strings.HasSuffix(f, waitFunc) })
			if i < 0 || i+1 == len(path) || path[i+1] != "runtime.chanrecv1" {
				t.Fatalf("/block: heaviest goroutine stack %q; want waitForRelease, then runtime.chanrecv1", path)
			}
			for _, f := range path[i+1:] {
				if !strings.HasPrefix(f, "runtime.") {
					t.Errorf("/block: above the channel receive, %s", f)
				}
			}
			t.Logf("/block: %d goroutine samples; top frames %q", g.Samples, path[max(0, i):])
		}
	}

	// The downloads are what the Go tools open.
	goTool := func(args ...string) string {
		t.Helper()
		gobin, err := exec.LookPath("go")
		if err != nil {
			t.Fatalf("the go command, which runs this test, is not on PATH: %v", err)
		}
		out, err := exec.Command(gobin, append([]string{"tool"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go tool %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	dir := t.TempDir()
	download := func(part, name string) string {
		t.Helper()
		code, body := get(t, tc.url+"/api/v1/profiles/"+burn.profileID+"/"+part, "Bearer "+tok)
		if code != http.StatusOK {
			t.Fatalf("download %s: %d %s", part, code, body)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cpuFile := download("cpu", "cpu.pb.gz")
	if out := goTool("pprof", "-top", "-symbolize=none", cpuFile); !strings.Contains(out, burnFunc) {
		t.Errorf("go tool pprof -top:\n%s", out)
	}
	data, _ := os.ReadFile(cpuFile)
	if p, err := profile.ParseData(data); err != nil || len(p.Sample) == 0 {
		t.Errorf("the cpu download: %v", err)
	}
	traceFile := download("trace", "trace.out")
	if data, _ := os.ReadFile(traceFile); !bytes.HasPrefix(data, []byte("go 1.")) {
		t.Errorf("the trace download is not a Go execution trace: %q", data[:min(len(data), 16)])
	}
	goTool("trace", "-d=parsed", traceFile) // parses it, or fails
}
