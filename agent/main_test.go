package agent_test

import (
	"fmt"
	"os"
	"testing"

	"go.elastic.co/apm/v2/apmtest"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if they leave goroutines behind: the watchdog, tracers, servers.
// apmtest's init starts a DiscardTracer (the default tracer in tests), which is closed first, as it may
// have opened a stream during a long run.
func TestMain(m *testing.M) {
	before := goleak.IgnoreCurrent()
	code := m.Run()
	apmtest.DiscardTracer.Close()
	if code == 0 {
		if err := goleak.Find(before); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
