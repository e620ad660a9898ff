package profiling

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/google/pprof/profile"
)

// mergeProfiles parses profiles of one kind (gzipped or not), keeps the samples whose label key has
// value (every sample when key is ""), and merges them into one profile, compacted. count is the sum of
// the kept samples' first value (CPU: samples; goroutine: goroutines).
func mergeProfiles(datas [][]byte, key, value string) (p *profile.Profile, count int64, err error) {
	ps := make([]*profile.Profile, 0, len(datas))
	for i, d := range datas {
		q, err := profile.ParseData(d)
		if err != nil {
			return nil, 0, fmt.Errorf("profiling: parse profile %d of %d: %w", i+1, len(datas), err)
		}
		if key != "" {
			q.Sample = slices.DeleteFunc(q.Sample, func(s *profile.Sample) bool {
				return !slices.Contains(s.Label[key], value)
			})
		}
		for _, s := range q.Sample {
			if len(s.Value) > 0 {
				count += s.Value[0]
			}
		}
		ps = append(ps, q)
	}
	if len(ps) == 0 {
		return nil, 0, fmt.Errorf("profiling: no profile to merge")
	}
	p, err = profile.Merge(ps)
	if err != nil {
		return nil, 0, fmt.Errorf("profiling: merge %d profiles: %w", len(ps), err)
	}
	return p, count, nil
}

// encodeProfile writes p as gzipped protobuf, the format runtime/pprof writes and go tool pprof reads.
func encodeProfile(p *profile.Profile) ([]byte, error) {
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return nil, fmt.Errorf("profiling: encode profile: %w", err)
	}
	return buf.Bytes(), nil
}
