package query

import (
	"encoding/json"
	"testing"
)

// BenchmarkFlameGraph: what a flame graph request costs beyond reading the part, on the Elastic agent's
// CPU profile fixture (cpuProfile): parsing the pprof alone (the floor: any server that looks at a
// profile does it) against parsing, folding it into the frame tree and encoding the JSON the UI reads.
func BenchmarkFlameGraph(b *testing.B) {
	data := cpuProfile(b)
	b.Run("baseline=parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parsePprof(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse+fold+json", func(b *testing.B) {
		b.ReportAllocs()
		var out []byte
		for b.Loop() {
			p, err := parsePprof(data)
			if err != nil {
				b.Fatal(err)
			}
			vi, _ := sampleIndex(p, "")
			g := buildFlame(p, vi)
			g.CPU = cpuOf(p)
			if out, err = json.Marshal(g); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(out)), "B/json")
	})
}
