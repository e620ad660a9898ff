// Package leakcheck is the TestMain of the search example's packages whose tests serve through apmhttp:
// it checks that the tests leave no goroutine behind once apm.DefaultTracer(), which apmhttp creates even
// when given another tracer, is closed.
package leakcheck

import (
	"testing"

	"go.elastic.co/apm/v2"
	"go.uber.org/goleak"
)

// Main runs the tests, closes apm.DefaultTracer(), then fails the run if any goroutine is left. Call it
// as the package's TestMain: func TestMain(m *testing.M) { leakcheck.Main(m) }.
func Main(m *testing.M) { goleak.VerifyTestMain(closingDefaultTracer{m}) }

// closingDefaultTracer closes apm.DefaultTracer() once the tests have run, before goleak looks.
type closingDefaultTracer struct{ m *testing.M }

func (c closingDefaultTracer) Run() int {
	code := c.m.Run()
	apm.DefaultTracer().Close()
	return code
}
