// Package profilingtest holds the profiler's test aids, for its own tests and for services that test
// their profiling: Burn is a known CPU load, spinning in arithmetic on locals (no memory access, so the
// race detector adds no calls), so that a CPU profile of it has Burn on top of every sample. The
// profiling and collector tests look for this frame
// (github.com/hotpath-apm/hotpath/profiling/profilingtest.Burn) in the profiles they capture.
package profilingtest
