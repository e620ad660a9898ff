package profiling_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxConsumerModules is what a service that imports the agent and the profiler may get in its module
// graph (go list -m all, the service's own module included). A service with Elastic's apmhttp and zap
// alone has 32.
const maxConsumerModules = 40

// TestConsumerModuleGraph builds a service of its own, outside this repository, as the README's "Your own
// service" says (go mod init, a replace per library module to this checkout, go mod tidy), importing the
// agent and the profiler, and checks the weight of what it gets: at most maxConsumerModules modules, none
// of the collector's (Pebble, chromedp, Prometheus' client, go-elasticsearch). It runs the go command; the
// modules come from the module cache or the module proxy.
func TestConsumerModuleGraph(t *testing.T) {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", `package main

import (
	"context"
	"log"
	"net/http"

	"github.com/hotpath-apm/hotpath/agent"
	"github.com/hotpath-apm/hotpath/profiling"
)

func main() {
	inflight := agent.NewInFlight()
	p, err := profiling.New(profiling.WithInFlight(inflight))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", agent.Wrap(mux, agent.WithInFlight(inflight))))
}
`)
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		// The service's own module only: no workspace, no vendoring, the toolchain running the test.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	goCmd("mod", "init", "example.com/search")
	goCmd("mod", "edit",
		"-replace", "github.com/hotpath-apm/hotpath/agent="+filepath.Join(repo, "agent"),
		"-replace", "github.com/hotpath-apm/hotpath/profiling="+filepath.Join(repo, "profiling"))
	goCmd("mod", "tidy")
	goCmd("build", "-o", os.DevNull, ".")

	modules := strings.Fields(goCmd("list", "-m", "-f", "{{.Path}}", "all"))
	if len(modules) > maxConsumerModules {
		t.Errorf("a service importing agent and profiling has %d modules, want at most %d:\n%s",
			len(modules), maxConsumerModules, strings.Join(modules, "\n"))
	}
	for _, m := range modules {
		for _, heavy := range []string{"github.com/cockroachdb/pebble", "github.com/chromedp/",
			"github.com/prometheus/client_golang", "github.com/elastic/go-elasticsearch",
			"github.com/hotpath-apm/hotpath "} {
			if strings.HasPrefix(m+" ", heavy) {
				t.Errorf("a service importing agent and profiling gets %s", m)
			}
		}
	}
	t.Logf("%d modules", len(modules))
}
