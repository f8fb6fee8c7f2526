// Package wait is the one way the shifter waits for time to pass: for as
// long as asked, or until its context ends.
package wait

import (
	"context"
	"time"
)

// Sleep waits for d, or returns ctx's error as soon as it ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
