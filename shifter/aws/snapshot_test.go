package aws_test

import (
	"context"
	"testing"
	"time"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
)

// TestAnUrgentCallerHurriesTheReadItWaitsBehind: a rollback that needs a read
// newer than the routine one in flight waits for that read to end before its
// own starts; the read in flight then goes in the rollback's lane, or the
// rollback would wait as long as routine reads wait for budget.
func TestAnUrgentCallerHurriesTheReadItWaitsBehind(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := shifteraws.Snapshot[int]{Now: func() time.Time { return now }}
	started := make(chan struct{}, 2)
	lanes := make(chan schedule.Lane, 2)
	read := func(ctx context.Context) (int, error) {
		started <- struct{}{}
		// A read's calls take the lane its callers need when each is made:
		// this one waits for its lane to rise, as a call waiting for a
		// token would be served sooner.
		for deadline := time.Now().Add(5 * time.Second); schedule.LaneOf(ctx) != schedule.LaneRollback && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		lanes <- schedule.LaneOf(ctx)
		return 1, nil
	}

	go func() { _, _ = s.Get(schedule.WithLane(t.Context(), schedule.LaneRoutine), now, read) }()
	<-started
	if _, err := s.Get(schedule.WithLane(t.Context(), schedule.LaneRollback), now.Add(time.Second), read); err != nil {
		t.Fatal(err)
	}
	if got := <-lanes; got != schedule.LaneRollback {
		t.Errorf("the routine read in flight went on in lane %s, want rollback", got)
	}
	if got := <-lanes; got != schedule.LaneRollback {
		t.Errorf("the urgent caller's own read went in lane %s, want rollback", got)
	}
}
