package reconcile_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// condition returns the endpoint's condition of type t as the API shows it,
// or nil.
func (h *harness) condition(t rollout.ConditionType) *rollout.Condition {
	return rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Conditions.Get(t)
}

// TestABrownoutHoldsTheRolloutAndSaysSo: AWS stops answering in the middle of
// a canary. The rollout holds where it is (no weight changes), the endpoint
// shows the condition and why the rollout holds, an event records it, the
// replica reports itself degraded; when AWS answers again the condition ends
// and the rollout goes on.
func TestABrownoutHoldsTheRolloutAndSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(ep *rollout.Endpoint) {
		ep.Template.DesiredCapacity = 1
		ep.Policy.Steps = []rollout.Step{{Weight: 10, Pause: rollout.DurationPtr(time.Second)}, {Weight: 100}}
	})
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, time.Minute)
	h.release("v2")
	h.eventually(time.Minute, "the canary", func() bool {
		r := h.state().Production.Rollout
		return r.Key.Version == "v2" && r.Step == 0 && !r.Since.IsZero()
	})

	watch := h.watchWeights()
	start := time.Now()
	endBrownout := awstest.Layer().Brownout(h.account, "", time.Minute, awslike.Stall)
	h.eventually(time.Minute, "the aws_unreachable condition", func() bool { return h.condition(rollout.AWSUnreachable) != nil })
	detected := time.Since(start)
	if limit := attemptTimeout + 2*time.Second; detected > limit {
		t.Errorf("the condition came %s after AWS stalled, more than the attempt timeout and two seconds (%s)", detected, limit)
	}
	c := h.condition(rollout.AWSUnreachable)
	if !c.Blocking || !strings.Contains(c.Message, "did not answer") {
		t.Errorf("condition %+v: want a blocking one saying AWS did not answer", c)
	}
	started := h.events(rollout.EventConditionStarted)
	if len(started) != 1 || started[0].Details["condition"] != string(rollout.AWSUnreachable) {
		t.Errorf("condition.started events: %+v", started)
	}
	if d := h.rec.Degraded(); len(d) != 1 || !strings.Contains(d[0], "aws_unreachable: 1 endpoint (web)") {
		t.Errorf("Degraded() = %q", d)
	}
	// The canary's pause ends while AWS stalls (the stall lasts 5s): the
	// rollout is due to act, cannot, and says so.
	h.eventually(time.Minute, "five seconds of stall, the next step overdue", func() bool {
		r := rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Rollout
		return time.Since(start) > 5*time.Second && !r.NextAt.IsZero() && time.Now().After(r.NextAt.Add(time.Second))
	})
	status := rollout.DescribeEndpoint(time.Now(), h.ep, h.state())
	if !strings.HasPrefix(status.Rollout.Holding, "holding at 10%: ") {
		t.Errorf("rollout status %+v does not say it holds at 10%%", status.Rollout)
	}
	splits := watch()
	stalled := time.Since(start)
	endBrownout()
	if n := len(splits); n != 1 || splits[0]["v2"] != 10 {
		t.Errorf("the weights changed while AWS stalled: %v", splits)
	}
	h.eventually(time.Minute, "the condition to end", func() bool { return h.condition(rollout.AWSUnreachable) == nil })
	ended := time.Since(start) - stalled
	if e := h.events(rollout.EventConditionEnded); len(e) != 1 {
		t.Errorf("condition.ended events: %+v", e)
	}
	h.waitPhase("v2", rollout.PhaseComplete, time.Minute)
	if d := h.rec.Degraded(); len(d) != 0 {
		t.Errorf("still degraded after the brownout: %q", d)
	}
	t.Logf("AWS stalled for %s: condition %s after the stall began, ended %s after it ended", stalled.Round(time.Millisecond), detected.Round(time.Millisecond), ended.Round(time.Millisecond))
}

// TestAMissingListenerBlocksTheEndpointAndDeleteCompletes: the listener, which
// the user owns, is deleted. The endpoint is blocked, saying what is missing,
// and the shifter builds nothing for a new release; deleting the endpoint
// then completes, since the route went with the listener.
func TestAMissingListenerBlocksTheEndpointAndDeleteCompletes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(ep *rollout.Endpoint) { ep.Template.DesiredCapacity = 1 })
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, time.Minute)
	if _, err := h.elb.DeleteListener(h.ctx, &elb.DeleteListenerInput{ListenerArn: awssdk.String(h.net.ListenerARN)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h.eventually(30*time.Second, "the traffic_missing condition", func() bool { return h.condition(rollout.TrafficMissing) != nil })
	t.Logf("traffic_missing %s after the listener went", time.Since(start).Round(time.Millisecond))
	if c := h.condition(rollout.TrafficMissing); !c.Blocking || !strings.Contains(c.Message, h.net.ListenerARN) {
		t.Errorf("condition %+v: want a blocking one naming the listener", c)
	}
	h.release("v2")
	looked := h.calls.Count("Elastic Load Balancing v2", "DescribeRules")
	h.eventually(30*time.Second, "the shifter to look at the listener three more times", func() bool {
		return h.calls.Count("Elastic Load Balancing v2", "DescribeRules") >= looked+3
	})
	if envs := h.state().Environments; len(envs) != 1 {
		t.Errorf("a blocked endpoint built environments: %+v", envs)
	}

	h.update(func(ep *rollout.Endpoint) { ep.Deleting = true })
	h.eventually(time.Minute, "the endpoint to be deleted", func() bool {
		_, err := h.store.GetEndpoint(h.ctx, "web")
		return rollout.ErrorCode(err) == rollout.ENOTFOUND
	})
	if groups := h.groups(); len(groups) != 0 {
		t.Errorf("auto scaling groups left: %v", groups)
	}
}

// TestAMissingAlarmIsACondition: a policy alarm that does not exist cannot
// roll anything back, so the endpoint says so, and a rollout holds before it
// goes on until the alarm exists (a first release, with nothing to return
// to, does not).
func TestAMissingAlarmIsACondition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(ep *rollout.Endpoint) {
		ep.Template.DesiredCapacity = 1
		ep.Policy.Alarms = []string{"web-5xx"}
	})
	h.release("v1")
	h.eventually(30*time.Second, "the alarm_missing condition", func() bool { return h.condition(rollout.AlarmMissing) != nil })
	c := h.condition(rollout.AlarmMissing)
	if !slices.Equal(c.Names, []string{"web-5xx"}) || !strings.Contains(c.Message, "web-5xx does not exist") || !c.Blocking {
		t.Errorf("condition %+v does not name the alarm, or does not block", c)
	}
	h.waitPhase("v1", rollout.PhaseComplete, time.Minute)
	// Alarms are not read between rollouts: the finding stands.
	h.eventually(10*resync, "a resync", func() bool { return time.Since(h.state().ObservedAt) < resync/2 })
	if h.condition(rollout.AlarmMissing) == nil {
		t.Error("the alarm_missing condition ended, though the alarm still does not exist")
	}

	h.release("v2")
	h.waitPhase("v2", rollout.PhaseBaking, time.Minute)
	h.eventually(10*resync, "the rollout to say it holds", func() bool {
		r := rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Rollout
		return strings.HasPrefix(r.Holding, "holding at 100%: alarm web-5xx does not exist")
	})
	if r := h.state().Production.Rollout; r.Phase != rollout.PhaseBaking {
		t.Errorf("v2 %s with its alarm missing, want it held baking", r.Phase)
	}
	awstest.PutAlarm(t, h.cfg, "web-5xx")
	h.waitPhase("v2", rollout.PhaseComplete, time.Minute)
	if h.condition(rollout.AlarmMissing) != nil {
		t.Error("alarm_missing still, though the alarm exists")
	}
	types := map[string]int{}
	for _, e := range append(h.events(rollout.EventConditionStarted), h.events(rollout.EventConditionEnded)...) {
		types[e.Type+" "+e.Details["condition"]]++
	}
	want := map[string]int{"condition.started alarm_missing": 1, "condition.ended alarm_missing": 1}
	if !maps.Equal(types, want) {
		t.Errorf("condition events %v, want %v", types, want)
	}
}

// failingWrites refuses state writes while failing is set, as a store whose
// disk is full does.
type failingWrites struct {
	store.Store
	failing *atomic.Bool
}

func (s failingWrites) PutState(ctx context.Context, st rollout.State, expect int64, events ...rollout.Event) (rollout.State, error) {
	if s.failing.Load() {
		return rollout.State{}, errors.New("write shifter.db: no space left on device")
	}
	return s.Store.PutState(ctx, st, expect, events...)
}

// TestAStoreThatRefusesWritesIsDegraded: the replica says so while its store
// refuses writes (the endpoint's state cannot carry it), and stops saying so
// once a write succeeds.
func TestAStoreThatRefusesWritesIsDegraded(t *testing.T) {
	t.Parallel()
	var failing atomic.Bool
	h := newHarness(t, func(ep *rollout.Endpoint) { ep.Template.DesiredCapacity = 1 })
	h.wrapStore = func(s store.Store) store.Store { return failingWrites{Store: s, failing: &failing} }
	h.kill()
	h.start()
	failing.Store(true)
	h.release("v1")
	h.eventually(30*time.Second, "the replica to say its store fails", func() bool {
		d := h.rec.Degraded()
		return len(d) == 1 && strings.HasPrefix(d[0], "store writes fail for ") && strings.Contains(d[0], "no space left on device")
	})
	failing.Store(false)
	h.waitPhase("v1", rollout.PhaseComplete, time.Minute)
	if d := h.rec.Degraded(); len(d) != 0 {
		t.Errorf("still degraded once writes succeed: %q", d)
	}
}

// TestLostAWSStateIsNeverReportedVerifiedForLong: everything the shifter made
// is deleted behind its back (an account cleaned by hand). Within two resync
// intervals the status no longer says the old route is verified, the trail
// says what went missing, and the shifter builds it all again.
func TestLostAWSStateIsNeverReportedVerifiedForLong(t *testing.T) {
	t.Parallel()
	for _, r := range []routing{albRouter, onECS(albRouter)} {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, r, func(ep *rollout.Endpoint) { ep.Template.DesiredCapacity = 1 })
			h.release("v1")
			h.waitPhase("v1", rollout.PhaseComplete, time.Minute)
			if err := awstest.Layer().Wipe(h.ctx, h.account, awstest.Region); err != nil {
				t.Fatal(err)
			}
			wiped := time.Now()
			h.eventually(time.Minute, "the status to stop saying verified", func() bool {
				return !rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Verified
			})
			unverified := time.Since(wiped)
			if limit := 2*resync + time.Second; unverified > limit {
				t.Errorf("the status said verified %s after AWS lost everything, more than two resyncs and a second (%s)", unverified, limit)
			}
			h.eventually(time.Minute, "the environment to be reported missing", func() bool { return len(h.events(rollout.EventEnvironmentMissing)) > 0 })
			h.eventually(time.Minute, "v1 serving again, verified", func() bool {
				exists, w := h.rule()
				return exists && w["v1"] == 100 && rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Verified
			})
			t.Logf("unverified %s after the wipe; serving again after %s", unverified.Round(time.Millisecond), time.Since(wiped).Round(time.Millisecond))
		})
	}
}

// TestAFailingActionTheShifterNoLongerTakesIsNotFailing: a step's weight
// write keeps failing, and the release is reverted to the live version: the
// write is not retried, so action_failing ends, with its event.
func TestAFailingActionTheShifterNoLongerTakesIsNotFailing(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(time.Minute)}, rollout.Step{Weight: 100}))
	h.flakyRouter(1 << 20)
	h.release("v2")
	h.eventually(30*time.Second, "action_failing", func() bool { return h.state().Conditions.Get(rollout.ActionFailing) != nil })
	h.release("v1")
	h.eventually(30*time.Second, "action_failing to end", func() bool { return h.state().Conditions.Get(rollout.ActionFailing) == nil })
	ended := h.events(rollout.EventConditionEnded)
	if !slices.ContainsFunc(ended, func(e rollout.Event) bool { return e.Details["condition"] == string(rollout.ActionFailing) }) {
		t.Errorf("no condition.ended event for action_failing: %+v", ended)
	}
	if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 100}) {
		t.Errorf("rule = %v, want v1=100", w)
	}
}
