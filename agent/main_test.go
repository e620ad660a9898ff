package agent_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if they leave goroutines behind: the watchdog, tracers, servers.
// Goroutines that exist before the tests (apmtest's DiscardTracer, started by its init) are not counted.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}
