//go:build !unix

package profiling

import "time"

// processCPUTime is not available here: the CPU trigger never fires.
func processCPUTime() (time.Duration, bool) { return 0, false }
