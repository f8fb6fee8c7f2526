package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestStatusAndWatchShowTheObservedTrafficBesideTheWeights(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.Local)
	s := rollout.EndpointStatus{
		State:         string(rollout.PhaseShifting),
		StableVersion: "v1",
		Weights:       map[string]int{"v1": 90, "v2": 10},
		Verified:      true,
		Conditions: rollout.Conditions{{Type: rollout.TrafficNotFollowing, Since: now.Add(-time.Minute), Names: []string{"v2"},
			Message: "step 1: v2 took 2.0% (weight 10%) of 1000 requests counted over 1m0s, more than 5 points off; the step went on after 2m0s"}},
		Rollout: &rollout.RolloutStatus{ID: 2, Kind: rollout.KindDeploy, Version: "v2", FromVersion: "v1", Phase: rollout.PhaseShifting,
			Step: 1, Steps: 2, Weight: 10, ObservedTraffic: &rollout.TrafficObservation{
				Step: 1, Shares: map[string]float64{"v1": 90.4, "v2": 9.6}, Weights: map[string]int{"v1": 90, "v2": 10}, Requests: 1000,
				Start: now.Add(-time.Minute), End: now, Hold: rollout.HoldWaiting, HoldUntil: now.Add(4 * time.Minute), TolerancePercent: 5,
			}},
	}
	view := rollout.EndpointView{Endpoint: rollout.Endpoint{Name: "web"}, Status: s}
	var b strings.Builder
	if err := printEndpoint(&b, view, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"v1       ██████████████████░░  90% (observed 90.4%)",
		"v2       ██░░░░░░░░░░░░░░░░░░  10% (observed 9.6%)",
		"observed: 1000 requests counted 11:59:00–12:00:00; the step holds until its traffic is within 5 points of its weights, until 12:04:00 at most",
		"traffic_not_following (for 1m",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	lines := strings.Join(frame(snapshot{view: view}, nil, now), "\n")
	for _, want := range []string{"10% (observed 9.6%)", "  observed: 1000 requests counted", "! traffic_not_following"} {
		if !strings.Contains(lines, want) {
			t.Errorf("watch lacks %q:\n%s", want, lines)
		}
	}
	var log strings.Builder
	if err := (&logLines{w: &log}).draw(snapshot{view: view}, nil, now); err != nil {
		t.Fatal(err)
	}
	if want := "traffic v1 90% (observed 90.4%), v2 10% (observed 9.6%)"; !strings.Contains(log.String(), want) {
		t.Errorf("watch's log line lacks %q:\n%s", want, log.String())
	}

	// Before anything is counted the weights stand alone, and the hold
	// says it waits.
	s.Rollout.ObservedTraffic = &rollout.TrafficObservation{Step: 1, Hold: rollout.HoldWaiting, HoldUntil: now.Add(4 * time.Minute), TolerancePercent: 5}
	b.Reset()
	if err := printEndpoint(&b, rollout.EndpointView{Endpoint: rollout.Endpoint{Name: "web"}, Status: s}, now); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "(observed") || !strings.Contains(out, "observed: nothing counted yet; the step holds") {
		t.Errorf("status before any count:\n%s", out)
	}
}
