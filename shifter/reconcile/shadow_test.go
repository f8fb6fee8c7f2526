package reconcile_test

import (
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAnObserveOnlyEndpointDecidesAndWritesNothing: an observe-only
// endpoint goes through its rollouts in the trail, and its real alarm rolls
// one back there, while the shifter writes nothing to AWS; a restarted
// shifter carries on from the state.
func TestAnObserveOnlyEndpointDecidesAndWritesNothing(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(500 * time.Millisecond)}, rollout.Step{Weight: 100}), func(ep *rollout.Endpoint) {
		ep.ObserveOnly = true
		ep.Policy.Alarms = []string{"web-5xx"}
	})
	h.alarm("web-5xx", cwtypes.StateValueOk)
	h.release("v2")
	h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
	if n := len(h.events(rollout.EventStepApplied)); n != 1 {
		t.Errorf("%d step.applied events, want the 10%% step", n)
	}

	h.kill()
	h.start()
	h.release("v3")
	h.waitPhase("v3", rollout.PhaseShifting, 30*time.Second)
	h.alarm("web-5xx", cwtypes.StateValueAlarm)
	h.waitPhase("v3", rollout.PhaseRolledBack, 30*time.Second)
	if missing := h.events(rollout.EventEnvironmentMissing); len(missing) != 0 {
		t.Errorf("the restarted shifter found its imagined environments missing: %+v", missing)
	}

	for _, service := range []string{"Elastic Load Balancing v2", "Auto Scaling", "EC2", "ECS", "CloudWatch"} {
		if n := h.calls.Writes(service); n != 0 {
			t.Errorf("%d writes to %s, want none: %s", n, service, h.calls)
		}
	}
	if g := h.groups(); len(g) != 0 {
		t.Errorf("Auto Scaling groups %v, want none", g)
	}
	if exists, _ := h.rule(); exists {
		t.Error("a listener rule exists")
	}
}
