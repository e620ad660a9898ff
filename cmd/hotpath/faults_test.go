//go:build faults

package main

// The fault suite: what the collector meets in production, each fault a test with figures, not in the
// default run (it takes about ten minutes and measures the process: run it without -race). One command:
//
//	go test -tags faults -count=1 -timeout 60m -v ./cmd/hotpath \
//	  -run 'TestFault|TestSIGKILL|TestMemoryUnderOverload|TestSecretsReachNoOutput|TestCollectorExportThroughOutageAndRestart' \
//	  -args -sigkill.rounds=20
//
// TestFaultDiskFull (root: it mounts a tmpfs), TestFaultDiskStall (root: an ext4 image mounted by loop
// and frozen with fsfreeze), TestFaultOverload (root: a cgroup's CPU quota for the collector),
// TestFaultHostileClients and TestFaultServiceSide are the suite's own; TestSIGKILL, TestSIGKILLExport, TestSecretsReachNoOutput
// and TestCollectorExportThroughOutageAndRestart also run in the default suite, shorter;
// TestMemoryUnderOverload is shared with the tag memload. BENCHMARKS.md, RELIABILITY, has the figures.
