package query

import (
	"os"
	"testing"
)

// FuzzFlameGraph: a stored part, whatever its bytes, is parsed and folded into a flame graph or refused
// with an error, never a panic; a folded graph's totals agree.
func FuzzFlameGraph(f *testing.F) {
	f.Add(cpuProfile(f))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePprof(data)
		if err != nil {
			return
		}
		vi, err := sampleIndex(p, "")
		if err != nil {
			return
		}
		g := buildFlame(p, vi)
		_ = cpuOf(p)
		if g.Root.Total != g.Total || len(g.Functions) > 30 {
			t.Errorf("root total %d, graph total %d, %d functions", g.Root.Total, g.Total, len(g.Functions))
		}
	})
}

// cpuProfile is the Elastic agent's CPU profile fixture, testdata/cpu.pprof: 98 samples, 14 KiB gzipped.
func cpuProfile(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/cpu.pprof")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
