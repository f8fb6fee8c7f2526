package reconcile

import (
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestLanes: what a pass does goes in the lane of what it is for, so that
// under AWS's budgets a weight step waits behind no building and no routine
// read.
func TestLanes(t *testing.T) {
	live := map[string]int{"e1": 90, "e2": 10}
	step := rollout.Action{Kind: rollout.ActionSetWeights, Track: rollout.Production, Weights: map[string]int{"e1": 50, "e2": 50}}
	attach := rollout.Action{Kind: rollout.ActionSetWeights, Track: rollout.Production, Weights: map[string]int{"e1": 90, "e2": 10, "e3": 0}}
	detach := rollout.Action{Kind: rollout.ActionSetWeights, Track: rollout.Production, Weights: map[string]int{"e1": 100}}
	create := rollout.Action{Kind: rollout.ActionCreateEnvironment, Environment: "e3"}
	for _, c := range []struct {
		name string
		act  rollout.Action
		want schedule.Lane
	}{
		{"a weight step", step, schedule.LaneStep},
		{"an attachment at 0", attach, schedule.LaneBuild},
		{"taking a share away", detach, schedule.LaneStep},
		{"a create", create, schedule.LaneBuild},
	} {
		if got := laneOfAction(rollout.Decision{}, c.act, schedule.LaneGate, live); got != c.want {
			t.Errorf("%s: lane %s, want %s", c.name, got, c.want)
		}
	}

	st := rollout.State{Environments: []rollout.Environment{{ID: "e1", Status: rollout.EnvReady}, {ID: "e2", Status: rollout.EnvProvisioning}}}
	if got := healthLane(st, []string{"e2"}, schedule.LaneGate); got != schedule.LaneRoutine {
		t.Errorf("health poll of an environment coming up: lane %s, want routine", got)
	}
	if got := healthLane(st, []string{"e1"}, schedule.LaneGate); got != schedule.LaneGate {
		t.Errorf("health read gating a step: lane %s, want gate", got)
	}
	if got := healthLane(st, []string{"e2"}, schedule.LaneRollback); got != schedule.LaneRollback {
		t.Errorf("health read of a pass taking traffic back: lane %s, want rollback", got)
	}
	if got := envLane(st, []string{"e2"}, schedule.LaneGate); got != schedule.LaneBuild {
		t.Errorf("reads by name of an environment coming up: lane %s, want build", got)
	}
	if got := envLane(st, []string{"e1", "e2"}, schedule.LaneGate); got != schedule.LaneGate {
		t.Errorf("reads by name of a ready environment just written: lane %s, want gate", got)
	}
	unverified := &rollout.TrackState{Route: rollout.Route{Weights: live}}
	if got := routeLane(unverified, schedule.LaneGate); got != schedule.LaneStep {
		t.Errorf("the read verifying a step: lane %s, want step", got)
	}
	unverified.Route.Verified = true
	if got := routeLane(unverified, schedule.LaneRoutine); got != schedule.LaneRoutine {
		t.Errorf("a routine read of a verified route: lane %s, want routine", got)
	}
}
