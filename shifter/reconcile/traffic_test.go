package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The tests of this file show observed traffic against moto: each step's
// share of the requests ALB counted per target group (RequestCount, put with
// PutMetricData, read with GetMetricData) beside its weights, and the hold of
// policy.observed_traffic.

// observedTraffic holds each step until its traffic is within 5 points of its
// weights, for at most maxWait, reading the counts every 100ms.
func observedTraffic(maxWait time.Duration) func(*rollout.Endpoint) {
	return func(ep *rollout.Endpoint) {
		ep.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: rollout.Duration(maxWait), Interval: rollout.Duration(100 * time.Millisecond)}
	}
}

// waitShifted waits for the shifter to verify the weights of the production
// rollout's step (1-based) and start counting its traffic: requests the
// load balancer counted before are not the step's.
func (h *harness) waitShifted(step int) *rollout.StepTraffic {
	h.t.Helper()
	var tr *rollout.StepTraffic
	h.eventually(30*time.Second, "the step's traffic counted", func() bool {
		r := h.state().Production.Rollout
		tr = r.Traffic
		return tr != nil && tr.Step == step-1
	})
	return tr
}

func TestAStepHoldsUntilTheObservedTrafficFollowsItsWeights(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(time.Second)}, rollout.Step{Weight: 100}), observedTraffic(time.Minute))
	h.release("v2")
	h.waitWeights(map[string]int{"v1": 90, "v2": 10})
	if tr := h.waitShifted(1); tr.Hold != rollout.HoldWaiting {
		t.Fatalf("step 1 hold = %q, want holding", tr.Hold)
	}

	// The load balancer counts the old split still: the step holds, and
	// its status shows the shares beside the weights.
	h.putMetrics("v1", 904, 0)
	h.eventually(30*time.Second, "v1's requests counted", func() bool {
		o := rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Rollout.ObservedTraffic
		return o != nil && o.Requests == 904
	})
	st := h.state()
	o := rollout.DescribeEndpoint(time.Now(), h.ep, st).Rollout.ObservedTraffic
	if o.Hold != rollout.HoldWaiting || o.Shares["v1"] != 100 || o.Weights["v2"] != 10 || st.Production.Rollout.Step != 0 {
		t.Fatalf("observed traffic = %+v at step %d, want step 1 holding with v1 at 100%% beside weight v2=10", o, st.Production.Rollout.Step+1)
	}

	// The traffic follows: the hold ends and the step's pause runs. The
	// last step holds too (its bake begins once v2 takes the requests),
	// and the rollout completes.
	h.putMetrics("v2", 96, 0)
	if tr := h.waitShifted(2); tr.Hold != rollout.HoldWaiting {
		t.Fatalf("step 2 hold = %q, want holding", tr.Hold)
	}
	h.putMetrics("v2", 500, 0)
	h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
	var followed []rollout.Event
	for _, e := range h.events(rollout.EventTrafficObserved) {
		if e.Details["step"] == "1" {
			followed = append(followed, e)
		}
	}
	if len(followed) != 1 || followed[0].Details["outcome"] != rollout.HoldFollowed ||
		followed[0].Details["share.v2"] != "9.60" || followed[0].Details["requests"] != "1000" {
		t.Fatalf("step 1's traffic.observed events = %+v, want one: v2 took 9.60%% of 1000 requests", followed)
	}
	t.Logf("observed vs intended (moto, PutMetricData → GetMetricData): %s", followed[0].Message)
	if c := h.state().Conditions; c.Get(rollout.TrafficNotFollowing) != nil || c.Get(rollout.TrafficUnobserved) != nil {
		t.Errorf("conditions = %+v, want none of observed traffic", c)
	}
}

func TestAStepWithNoRequestCountedGoesOnAtMaxWaitWithACondition(t *testing.T) {
	t.Parallel()
	const maxWait = 2 * time.Second
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(time.Minute)}, rollout.Step{Weight: 100}), observedTraffic(maxWait))
	h.release("v2")
	h.waitShifted(1)
	h.eventually(30*time.Second, "the traffic_unobserved condition", func() bool {
		return h.state().Conditions.Get(rollout.TrafficUnobserved) != nil
	})
	st := h.state()
	r := st.Production.Rollout
	if r.Traffic.Hold != rollout.HoldUnobserved || r.Traffic.HoldEndedAt.Sub(r.Traffic.ShiftedAt) < maxWait {
		t.Errorf("hold = %q ended %s after the weights, want unobserved after max_wait %s", r.Traffic.Hold, r.Traffic.HoldEndedAt.Sub(r.Traffic.ShiftedAt), maxWait)
	}
	// The step went on: its pause runs from the end of the hold.
	if s := rollout.DescribeEndpoint(time.Now(), h.ep, st); s.State != string(rollout.PhaseShifting) || !s.Rollout.NextAt.Equal(r.Traffic.HoldEndedAt.Add(time.Minute)) {
		t.Errorf("state %s, next step at %v; want shifting, a minute after the hold ended (%v)", s.State, s.Rollout.NextAt, r.Traffic.HoldEndedAt)
	}
	started := false
	for _, e := range h.events(rollout.EventConditionStarted) {
		started = started || (e.Details["condition"] == string(rollout.TrafficUnobserved) && strings.Contains(e.Message, "no request counted"))
	}
	if !started {
		t.Errorf("no condition.started event of traffic_unobserved: %s", h.trail(8))
	}

	// The first requests counted end it.
	h.putMetrics("v1", 90, 0)
	h.putMetrics("v2", 10, 0)
	h.eventually(90*time.Second, "the traffic_unobserved condition to end", func() bool {
		return h.state().Conditions.Get(rollout.TrafficUnobserved) == nil
	})
}

// brokenMetrics is a CloudWatch whose metric reads all fail (moto's never
// do; AWS's may, for a missing permission or an outage).
type brokenMetrics struct{}

func (brokenMetrics) Measure(context.Context, string, []string, time.Time, time.Time) (map[string]rollout.Metrics, error) {
	return nil, errors.New("AccessDenied: not authorized to perform cloudwatch:GetMetricData")
}

// TestAFailingReadOfTheTrafficIsAConditionNotAStall: the rollout goes on as
// if nothing was counted (each step holds until max_wait), and the failing
// read is an action_failing condition while the rollout needs it.
func TestAFailingReadOfTheTrafficIsAConditionNotAStall(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(time.Second)}, rollout.Step{Weight: 100}), observedTraffic(time.Second))
	h.wrap = func(c reconcile.Cloud) reconcile.Cloud {
		c.Metrics = brokenMetrics{}
		return c
	}
	h.kill()
	h.start()
	h.release("v2")
	h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
	started, ended := false, false
	for _, e := range h.events(rollout.EventConditionStarted) {
		started = started || (e.Details["condition"] == string(rollout.ActionFailing) && strings.Contains(e.Message, "read_traffic/production: "))
	}
	for _, e := range h.events(rollout.EventConditionEnded) {
		ended = ended || e.Details["condition"] == string(rollout.ActionFailing)
	}
	if !started || !ended {
		t.Errorf("action_failing of the traffic read started %t, ended %t; want both:\n%s", started, ended, h.trail(12))
	}
	var outcomes []string
	for _, e := range h.events(rollout.EventTrafficObserved) {
		outcomes = append(outcomes, e.Details["outcome"])
	}
	if strings.Join(outcomes, ",") != "unobserved,unobserved" {
		t.Errorf("traffic.observed outcomes = %v, want the two steps unobserved", outcomes)
	}
}
