package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func stateIn(phase rollout.Phase) rollout.State {
	return rollout.State{Production: rollout.TrackState{Rollout: &rollout.Rollout{Phase: phase}}}
}

func TestDecidedFollowsRolloutsAndCountsBadEndingsByCause(t *testing.T) {
	m := New()
	web, api := rollout.Endpoint{Name: "web"}, rollout.Endpoint{Name: "api"}
	m.Decided(web, stateIn(rollout.PhaseShifting), []rollout.Event{{Type: rollout.EventStepApplied}})
	m.Decided(api, stateIn(rollout.PhaseShifting), nil)
	m.Decided(web, stateIn(rollout.PhaseBaking), []rollout.Event{{Type: rollout.EventRolloutBaking}})
	m.Decided(api, stateIn(rollout.PhaseRolledBack), []rollout.Event{{Type: rollout.EventRolloutRolledBack, Details: map[string]string{"cause": rollout.CauseAlarm}}})

	for state, want := range map[string]float64{"shifting": 0, "baking": 1, "rolled_back": 1} {
		if got := testutil.ToFloat64(m.rollouts.gauge.WithLabelValues(state)); got != want {
			t.Errorf("rollouts{state=%q} = %v, want %v", state, got, want)
		}
	}
	if got := testutil.ToFloat64(m.stepTransitions); got != 2 {
		t.Errorf("step transitions = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.rollbacks.WithLabelValues(rollout.CauseAlarm, "rolled_back")); got != 1 {
		t.Errorf("rollbacks{cause=alarm} = %v, want 1", got)
	}
	deleting := web
	deleting.Deleting = true
	m.Decided(deleting, stateIn(rollout.PhaseBaking), nil)
	if got := testutil.ToFloat64(m.rollouts.gauge.WithLabelValues("baking")); got != 0 {
		t.Errorf("a deleted endpoint still counts: rollouts{state=baking} = %v", got)
	}
}

func TestConditionsCountEndpointsByTypeAndBlocking(t *testing.T) {
	m := New()
	web, api := rollout.Endpoint{Name: "web"}, rollout.Endpoint{Name: "api"}
	unreachable := rollout.Condition{Type: rollout.AWSUnreachable, Blocking: true}
	alarm := rollout.Condition{Type: rollout.AlarmMissing}
	m.Decided(web, rollout.State{Conditions: rollout.Conditions{unreachable, alarm}}, nil)
	m.Decided(api, rollout.State{Conditions: rollout.Conditions{unreachable}}, nil)
	m.Decided(web, rollout.State{Conditions: rollout.Conditions{alarm}}, nil)
	for k, want := range map[[2]string]float64{{"aws_unreachable", "true"}: 1, {"alarm_missing", "false"}: 1} {
		if got := testutil.ToFloat64(m.conditions.WithLabelValues(k[0], k[1])); got != want {
			t.Errorf("conditions%v = %v, want %v", k, got, want)
		}
	}
	m.Decided(api, rollout.State{}, nil)
	if got := testutil.ToFloat64(m.conditions.WithLabelValues("aws_unreachable", "true")); got != 0 {
		t.Errorf("an ended condition still counts: %v", got)
	}
}

// TestRollbackReadinessCountsEndpoints: an endpoint with a hot version at
// full capacity and healthy is ready; one kept at half its capacity is not;
// one without a hot version has none.
func TestRollbackReadinessCountsEndpoints(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	m := New()
	m.Now = func() time.Time { return now }
	ep := func(name string) rollout.Endpoint {
		e := rollout.NewEndpoint()
		e.Name = name
		e.Template.DesiredCapacity = 2
		return e
	}
	withHot := func(capacity, healthy int) rollout.State {
		tmpl := ep("").Template
		return rollout.State{
			Production: rollout.TrackState{Stable: "e2"},
			Environments: []rollout.Environment{
				{ID: "e2", Version: "v2", Status: rollout.EnvReady, Capacity: 2, Template: &tmpl},
				{ID: "e1", Version: "v1", Status: rollout.EnvReady, Capacity: capacity, HeldFull: true, HotUntil: now.Add(time.Hour), Template: &tmpl,
					Health: rollout.Health{InService: capacity, TargetHealth: rollout.TargetHealth{Targets: capacity, Healthy: healthy}, ReadAt: now}},
			},
		}
	}
	m.Decided(ep("web"), withHot(2, 2), nil)
	m.Decided(ep("api"), withHot(1, 1), nil)
	m.Decided(ep("shop"), rollout.State{}, nil)
	for readiness, want := range map[string]float64{"ready": 1, "not_ready": 1, "none": 1} {
		if got := testutil.ToFloat64(m.readiness.gauge.WithLabelValues(readiness)); got != want {
			t.Errorf("rollback_readiness{readiness=%q} = %v, want %v", readiness, got, want)
		}
	}
	m.Decided(ep("api"), withHot(2, 2), nil) // scaled back up
	if got := testutil.ToFloat64(m.readiness.gauge.WithLabelValues("ready")); got != 2 {
		t.Errorf("ready = %v after api's hot version is back at full capacity, want 2", got)
	}
}

// TestObservedTrafficCountsEndpointsByHold: endpoints whose rollout counts
// its step's requests, by where the step's hold is; one whose rollout ended
// leaves the gauge.
func TestObservedTrafficCountsEndpointsByHold(t *testing.T) {
	m := New()
	inStep := func(hold string) rollout.State {
		return rollout.State{Production: rollout.TrackState{Rollout: &rollout.Rollout{Phase: rollout.PhaseShifting, Step: 1,
			Traffic: &rollout.StepTraffic{Step: 1, Hold: hold}}}}
	}
	m.Decided(rollout.Endpoint{Name: "web"}, inStep(rollout.HoldWaiting), nil)
	m.Decided(rollout.Endpoint{Name: "api"}, inStep(rollout.HoldNotFollowed), nil)
	m.Decided(rollout.Endpoint{Name: "shop"}, inStep(""), nil)
	for hold, want := range map[string]float64{"holding": 1, "not_following": 1, "counted": 1, "followed": 0} {
		if got := testutil.ToFloat64(m.traffic.gauge.WithLabelValues(hold)); got != want {
			t.Errorf("observed_traffic{hold=%q} = %v, want %v", hold, got, want)
		}
	}
	done := inStep(rollout.HoldFollowed)
	done.Production.Rollout.Phase = rollout.PhaseComplete
	m.Decided(rollout.Endpoint{Name: "web"}, done, nil)
	if got := testutil.ToFloat64(m.traffic.gauge.WithLabelValues("holding")); got != 0 {
		t.Errorf("holding = %v after web's rollout completed, want 0", got)
	}
}
