package query

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// What the flame graph endpoints do with pprof, so that the UI needs no pprof parsing: a stored part
// parsed, its samples filtered by label, and folded into a tree of frames with self and total values.

// MinCPUSamples is the number of CPU samples under which a CPU profile is reported as having a low
// sample count: at 100 Hz, half a second of CPU. Under it, a frame's share is known to within more than
// ±14 points (the half-width of the 95% interval of a 50% share, 1.96·√(0.25/n)).
const MinCPUSamples = 50

// maxDecodedPprof bounds what a stored part may decompress to (intake stores at most 32 MiB).
const maxDecodedPprof = 64 << 20

// flameMinFraction is the share of the total under which a frame is left out of a flame graph (its
// value counted in pruned): a thousandth, under a pixel at any width a screen has.
const flameMinFraction = 0.001

// parsePprof parses a stored (gzipped) pprof part.
func parsePprof(data []byte) (*profile.Profile, error) {
	raw := data
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		var err error
		if raw, err = gunzip(data, maxDecodedPprof, "stored profile"); err != nil {
			return nil, err
		}
	}
	p, err := profile.ParseUncompressed(raw)
	if err != nil {
		return nil, fmt.Errorf("query: stored profile: %w", err)
	}
	return p, nil
}

// gunzip decompresses data, refusing more than limit bytes of output; what names the data in errors.
func gunzip(data []byte, limit int, what string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("query: %s: %w", what, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("query: %s: %w", what, err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("query: %s is larger than %d bytes decompressed", what, limit)
	}
	return out, nil
}

// keepLabel keeps the samples of p whose label key has the value value.
func keepLabel(p *profile.Profile, key, value string) {
	kept := p.Sample[:0]
	for _, s := range p.Sample {
		if slices.Contains(s.Label[key], value) {
			kept = append(kept, s)
		}
	}
	clear(p.Sample[len(kept):])
	p.Sample = kept
}

// flameNode is one frame of a flame graph: a function called from the path of its ancestors. total is
// the value of the samples whose stack goes through it, self of those whose stack ends in it; the
// children hold total - self, less what was pruned.
type flameNode struct {
	Name     string       `json:"name"`
	File     string       `json:"file,omitempty"`
	Self     int64        `json:"self"`
	Total    int64        `json:"total"`
	Children []*flameNode `json:"children,omitempty"`

	index map[string]*flameNode // children by name, while building
}

func (n *flameNode) child(name, file string) *flameNode {
	if c := n.index[name]; c != nil {
		return c
	}
	if n.index == nil {
		n.index = map[string]*flameNode{}
	}
	c := &flameNode{Name: name, File: file}
	n.index[name] = c
	n.Children = append(n.Children, c)
	return c
}

// flameFunction is a row of the flat view: a function's own value (self) and the value of the samples
// it is anywhere on the stack of (total, counted once per sample however deep it recurses).
type flameFunction struct {
	Name  string `json:"name"`
	Self  int64  `json:"self"`
	Total int64  `json:"total"`
}

// flameGraph is the JSON of a flame graph.
type flameGraph struct {
	ProfileID     string   `json:"profile_id"`
	Part          string   `json:"part"`
	TransactionID string   `json:"transaction_id,omitempty"` // the label filter applied, if any
	SampleType    string   `json:"sample_type"`
	Unit          string   `json:"unit"`
	SampleTypes   []string `json:"sample_types"`
	// Samples is the number of stack samples kept (for cpu, CPU samples; for goroutine, goroutines
	// seen), Total their value in Unit, Pruned the value of the frames too small to list.
	Samples   int64           `json:"samples"`
	Total     int64           `json:"total"`
	Pruned    int64           `json:"pruned"`
	Root      *flameNode      `json:"root"`
	Functions []flameFunction `json:"functions"` // the 30 largest by self, then total
	CPU       *cpuFigures     `json:"cpu,omitempty"`
}

// cpuFigures says how much a CPU profile knows: how many samples, at what rate.
type cpuFigures struct {
	Samples          int64   `json:"samples"`
	SamplingPeriodUS int64   `json:"sampling_period_us"` // CPU time per sample (10 ms at Go's 100 Hz)
	CPUUS            int64   `json:"cpu_us"`             // CPU time the samples stand for
	LowSampleCount   bool    `json:"low_sample_count"`
	MinSamples       int     `json:"min_samples"`
	ShareError       float64 `json:"share_error"` // ± on a 50% share (95% interval), in points of share (0.14 = 14 points)
	Note             string  `json:"note"`
}

// sampleIndex picks the value a flame graph shows: the sample type named want, else the profile's
// default (pprof's rule: DefaultSampleType, else the last one).
func sampleIndex(p *profile.Profile, want string) (int, error) {
	if len(p.SampleType) == 0 {
		return 0, fmt.Errorf("the profile has no sample types")
	}
	if want == "" {
		want = p.DefaultSampleType
	}
	if want == "" {
		return len(p.SampleType) - 1, nil
	}
	for i, st := range p.SampleType {
		if st.Type == want {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no sample type %q in the profile (it has %s)", want, strings.Join(sampleTypes(p), ", "))
}

func sampleTypes(p *profile.Profile) []string {
	out := make([]string, len(p.SampleType))
	for i, st := range p.SampleType {
		out[i] = st.Type
	}
	return out
}

// buildFlame folds p's samples into a flame graph of their value vi.
func buildFlame(p *profile.Profile, vi int) *flameGraph {
	root := &flameNode{Name: "root"}
	g := &flameGraph{Root: root, SampleType: p.SampleType[vi].Type, Unit: p.SampleType[vi].Unit, SampleTypes: sampleTypes(p)}
	type fnTotals struct{ self, total int64 }
	fns := map[string]*fnTotals{}
	seen := map[string]bool{}
	countIdx := -1 // a "count" sample type, the number of stacks a sample stands for
	for i, st := range p.SampleType {
		if st.Unit == "count" {
			countIdx = i
			break
		}
	}
	for _, s := range p.Sample {
		v := s.Value[vi]
		if countIdx >= 0 {
			g.Samples += s.Value[countIdx]
		} else {
			g.Samples++
		}
		if v == 0 {
			continue
		}
		node := root
		root.Total += v
		clear(seen)
		enter := func(name, file string) {
			node = node.child(name, file)
			node.Total += v
			if seen[name] {
				return
			}
			seen[name] = true
			ft := fns[name]
			if ft == nil {
				ft = &fnTotals{}
				fns[name] = ft
			}
			ft.total += v
		}
		// Locations are leaf first; a location's lines are inlined calls, callee first.
		for i := len(s.Location) - 1; i >= 0; i-- {
			loc := s.Location[i]
			if len(loc.Line) == 0 {
				enter(fmt.Sprintf("0x%x", loc.Address), "")
			}
			for j := len(loc.Line) - 1; j >= 0; j-- {
				name, file := "?", ""
				if f := loc.Line[j].Function; f != nil {
					name, file = f.Name, f.Filename
				}
				enter(name, file)
			}
		}
		node.Self += v
		if node != root {
			fns[node.Name].self += v
		}
	}
	g.Total = root.Total
	minTotal := int64(math.Ceil(float64(root.Total) * flameMinFraction))
	g.Pruned = prune(root, minTotal)
	for name, ft := range fns {
		g.Functions = append(g.Functions, flameFunction{Name: name, Self: ft.self, Total: ft.total})
	}
	slices.SortFunc(g.Functions, func(a, b flameFunction) int {
		return cmp.Or(cmp.Compare(b.Self, a.Self), cmp.Compare(b.Total, a.Total), strings.Compare(a.Name, b.Name))
	})
	if len(g.Functions) > 30 {
		g.Functions = g.Functions[:30]
	}
	if g.Functions == nil {
		g.Functions = []flameFunction{}
	}
	return g
}

// prune removes the frames whose total is under minTotal, orders the others' children (largest
// first, then by name) and returns the value removed.
func prune(n *flameNode, minTotal int64) int64 {
	n.index = nil
	var pruned int64
	kept := n.Children[:0]
	for _, c := range n.Children {
		if c.Total < minTotal {
			pruned += c.Total
			continue
		}
		pruned += prune(c, minTotal)
		kept = append(kept, c)
	}
	clear(n.Children[len(kept):])
	n.Children = kept
	slices.SortFunc(n.Children, func(a, b *flameNode) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), strings.Compare(a.Name, b.Name))
	})
	if len(n.Children) == 0 {
		n.Children = nil
	}
	return pruned
}

// cpuOf returns the figures of a CPU profile (sample types samples/count and cpu/nanoseconds), or nil
// for other profiles.
func cpuOf(p *profile.Profile) *cpuFigures {
	count, cpu := -1, -1
	for i, st := range p.SampleType {
		switch {
		case st.Type == "samples" && st.Unit == "count":
			count = i
		case st.Type == "cpu" && st.Unit == "nanoseconds":
			cpu = i
		}
	}
	if count < 0 || cpu < 0 {
		return nil
	}
	f := &cpuFigures{MinSamples: MinCPUSamples}
	var ns int64
	for _, s := range p.Sample {
		f.Samples += s.Value[count]
		ns += s.Value[cpu]
	}
	if p.PeriodType != nil && p.PeriodType.Unit == "nanoseconds" {
		f.SamplingPeriodUS = p.Period / 1000
	}
	f.CPUUS = ns / 1000
	f.LowSampleCount = f.Samples < MinCPUSamples
	period := "at its sampling rate"
	if f.SamplingPeriodUS > 0 {
		period = fmt.Sprintf("one sample per %s of CPU", durationText(f.SamplingPeriodUS))
	}
	switch {
	case f.Samples == 0:
		f.ShareError = 1
		f.Note = "No CPU samples: the code ran for less than one sampling period of CPU, or was off CPU (waiting) the whole time."
	default:
		f.ShareError = math.Round(1.96*math.Sqrt(0.25/float64(f.Samples))*1000) / 1000
		f.Note = fmt.Sprintf("%d CPU samples (%s of CPU, %s)", f.Samples, durationText(f.CPUUS), period)
		if f.LowSampleCount {
			f.Note += fmt.Sprintf(": few, so the shares are rough; a frame shown at 50%% could be anywhere from %.0f%% to %.0f%%.",
				100*(0.5-f.ShareError), 100*(0.5+f.ShareError))
		} else {
			f.Note += fmt.Sprintf(": a frame shown at 50%% is within ±%.0f points.", 100*f.ShareError)
		}
	}
	return f
}

// durationText writes microseconds as "310 ms", "1.5 s" or "800 µs".
func durationText(us int64) string {
	switch {
	case us >= 10_000_000:
		return fmt.Sprintf("%.0f s", float64(us)/1e6)
	case us >= 1_000_000:
		return fmt.Sprintf("%.1f s", float64(us)/1e6)
	case us >= 1000:
		return fmt.Sprintf("%.0f ms", float64(us)/1e3)
	}
	return fmt.Sprintf("%d µs", us)
}
