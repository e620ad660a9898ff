// Package wait is the one way the collector and the examples wait for a while: for a duration, or until
// the context ends, whichever comes first (time.Sleep cannot be cancelled).
package wait

import (
	"context"
	"time"
)

// For waits for d, or until ctx is done; it returns ctx's error in the second case, nil in the first.
func For(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
