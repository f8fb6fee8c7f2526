package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/watch"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The tests of this file show the safety rules of DESIGN §3–4 against moto:
// canary, operator commands, health gating, alarms, metric checks, capacity,
// supersede, preview, verified weights and bake.

func steps(s ...rollout.Step) func(*rollout.Endpoint) {
	return func(ep *rollout.Endpoint) { ep.Policy.Steps = s }
}

func pause(d time.Duration) *rollout.Duration { return rollout.DurationPtr(d) }

// live starts a shifter routed by an ALB rule and completes a first
// release of v1.
func live(t *testing.T, shape ...func(*rollout.Endpoint)) *harness {
	t.Helper()
	return liveOn(t, albRouter, shape...)
}

// liveOn starts a shifter routed by r and completes a first release of v1.
func liveOn(t *testing.T, r routing, shape ...func(*rollout.Endpoint)) *harness {
	t.Helper()
	h := newHarnessOn(t, r, func(ep *rollout.Endpoint) {
		for _, s := range shape {
			s(ep)
		}
	})
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	return h
}

// healthyTimeout shortens the policy's healthy_timeout for the rollouts to
// come: a test meant to see one fail sets it only once the releases before
// are live, which must not fail on a machine too busy to pass health checks
// that fast.
func (h *harness) healthyTimeout(d time.Duration) {
	h.update(func(ep *rollout.Endpoint) { ep.Policy.HealthyTimeout = rollout.Duration(d) })
}

func (h *harness) waitWeights(want map[string]int) {
	h.t.Helper()
	h.eventually(30*time.Second, fmt.Sprint("weights ", want), func() bool { _, w := h.rule(); return maps.Equal(w, want) })
}

// cloudWatch is a CloudWatch client of the test's own, to drive alarms and
// metrics.
func (h *harness) cloudWatch() *cloudwatch.Client {
	return cloudwatch.NewFromConfig(awstest.Exempt(h.cfg), aws.UseQueryProtocol)
}

func (h *harness) alarm(name string, state cwtypes.StateValue) {
	h.t.Helper()
	cw := h.cloudWatch()
	if _, err := cw.PutMetricAlarm(h.ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: awssdk.String(name), Namespace: awssdk.String(watch.Namespace), MetricName: awssdk.String(watch.Metric5xx),
		Statistic: cwtypes.StatisticSum, Period: awssdk.Int32(60), EvaluationPeriods: awssdk.Int32(1), Threshold: awssdk.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := cw.SetAlarmState(h.ctx, &cloudwatch.SetAlarmStateInput{AlarmName: awssdk.String(name), StateValue: state, StateReason: awssdk.String("test")}); err != nil {
		h.t.Fatal(err)
	}
}

// targetGroup returns the ARN of version's target group.
func (h *harness) targetGroup(version string) string {
	h.t.Helper()
	out, err := h.elb.DescribeTargetGroups(h.ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, tg := range out.TargetGroups {
		if h.versionOf(awssdk.ToString(tg.TargetGroupArn)) == version {
			return awssdk.ToString(tg.TargetGroupArn)
		}
	}
	h.t.Fatalf("no target group of %s", version)
	return ""
}

// putMetrics records requests and 5xx answers of version's target group now.
func (h *harness) putMetrics(version string, requests, errors5xx float64) {
	h.t.Helper()
	lb, _ := watch.LoadBalancerDimension(h.net.ListenerARN)
	tg, _ := watch.TargetGroupDimension(h.targetGroup(version))
	dims := []cwtypes.Dimension{{Name: awssdk.String("LoadBalancer"), Value: &lb}, {Name: awssdk.String("TargetGroup"), Value: &tg}}
	now := time.Now()
	_, err := h.cloudWatch().PutMetricData(h.ctx, &cloudwatch.PutMetricDataInput{
		Namespace: awssdk.String(watch.Namespace),
		MetricData: []cwtypes.MetricDatum{
			{MetricName: awssdk.String(watch.MetricRequests), Timestamp: &now, Value: &requests, Dimensions: dims},
			{MetricName: awssdk.String(watch.Metric5xx), Timestamp: &now, Value: &errors5xx, Dimensions: dims},
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// stopInstances stops a group's instances: moto then reports their targets
// "unused", the only way it has of failing a health check.
func (h *harness) stopInstances(group string) {
	h.t.Helper()
	out, err := h.asg.DescribeAutoScalingGroups(h.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		h.t.Fatalf("group %s: %v", group, err)
	}
	var ids []string
	for _, i := range out.AutoScalingGroups[0].Instances {
		ids = append(ids, awssdk.ToString(i.InstanceId))
	}
	if _, err := h.ec2.StopInstances(h.ctx, &ec2.StopInstancesInput{InstanceIds: ids}); err != nil {
		h.t.Fatal(err)
	}
}

// sickOnCreate stops the instances of version's environment as soon as the
// real backend created it, so its targets never pass a health check.
type sickOnCreate struct {
	reconcile.Backend
	h       *harness
	version string
}

func (s sickOnCreate) Create(ctx context.Context, endpoint string, env rollout.Environment) error {
	err := s.Backend.Create(ctx, endpoint, env)
	if err == nil && env.Version == s.version {
		for _, group := range s.h.groups()[env.Version] {
			s.h.stopInstances(group)
		}
	}
	return err
}

func TestCanaryStepWaitsForPromote(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := liveOn(t, r, steps(rollout.Step{Weight: 10}, rollout.Step{Weight: 100}))
		h.release("v2")
		h.waitPhase("v2", rollout.PhasePaused, 30*time.Second)
		h.waitWeights(map[string]int{"v1": 90, "v2": 10})
		// Passes that observe the paused canary move nothing.
		for range 2 {
			seen := h.state().ObservedAt
			h.eventually(10*resync, "another observation", func() bool { return h.state().ObservedAt.After(seen) })
			if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 90, "v2": 10}) {
				t.Fatalf("canary moved without a promote: %v", w)
			}
		}
		h.command(rollout.CommandPromote)
		h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
		h.waitWeights(map[string]int{"v2": 100})
	})
}

func TestPauseFreezesAndResumeContinues(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(time.Second)}, rollout.Step{Weight: 100}))
	h.release("v2")
	h.waitWeights(map[string]int{"v1": 90, "v2": 10})
	h.command(rollout.CommandPause)
	h.eventually(5*time.Second, "paused", func() bool { return !h.state().Production.Rollout.PausedAt.IsZero() })
	time.Sleep(2 * time.Second)
	if _, w := h.rule(); w["v2"] != 10 {
		t.Fatalf("paused rollout moved: %v", w)
	}
	h.command(rollout.CommandResume)
	h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
	if len(h.events(rollout.EventRolloutPaused)) != 1 || len(h.events(rollout.EventRolloutResumed)) != 1 {
		t.Errorf("paused/resumed events = %d/%d, want 1/1", len(h.events(rollout.EventRolloutPaused)), len(h.events(rollout.EventRolloutResumed)))
	}
}

func TestAbortReturnsTrafficAtOnce(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := liveOn(t, r, steps(rollout.Step{Weight: 10, Pause: pause(time.Minute)}, rollout.Step{Weight: 100}))
		h.release("v2")
		h.waitWeights(map[string]int{"v1": 90, "v2": 10})
		h.calls.Reset()
		h.command(rollout.CommandAbort, func(c *rollout.Command) { c.Reason = "wrong config" })
		h.waitPhase("v2", rollout.PhaseAborted, 10*time.Second)
		h.waitWeights(map[string]int{"v1": 100})
		if n := h.calls.Count(r.service, r.write); n != 1 {
			t.Errorf("%s calls = %d, want 1", r.write, n)
		}
		if r := h.state().Production.Rollout; !strings.Contains(r.Reason, "aborted by alice: wrong config") {
			t.Errorf("reason = %q", r.Reason)
		}
		h.eventually(10*time.Second, "v2 torn down", func() bool { return len(h.groups()["v2"]) == 0 })
	})
}

func TestRollbackCommandReturnsToANamedHotVersion(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := liveOn(t, r)
		h.release("v2")
		h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
		h.release("v3")
		h.waitPhase("v3", rollout.PhaseComplete, 30*time.Second)
		h.calls.Reset()
		h.command(rollout.CommandRollback, func(c *rollout.Command) { c.To = "v1" })
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
		h.waitWeights(map[string]int{"v1": 100})
		if n := h.calls.Count(r.service, r.write); n != 1 {
			t.Errorf("%s calls = %d, want 1", r.write, n)
		}
		if held := h.state().Production.Held; held == nil || held.Key.Version != "v3" {
			t.Errorf("held = %+v, want the declared v3 held", held)
		}
	})
}

func TestEnvironmentNeverHealthyFailsAndIsTornDownWithTrafficUntouched(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.wrap = func(c reconcile.Cloud) reconcile.Cloud {
		c.Backend = sickOnCreate{Backend: c.Backend, h: h, version: "v2"}
		return c
	}
	h.kill()
	h.start()
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	h.healthyTimeout(2 * time.Second)
	h.calls.Reset()
	h.release("v2")
	h.waitPhase("v2", rollout.PhaseFailed, 30*time.Second)
	if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 100}) {
		t.Fatalf("rule = %v, want v1=100 untouched", w)
	}
	// Two writes, neither moving traffic: v2 attached at 0 for its health
	// checks, then taken off the route before it is deleted.
	if n := h.calls.Count("elasticloadbalancingv2", "ModifyRule"); n != 2 {
		t.Errorf("ModifyRule calls = %d, want 2", n)
	}
	h.eventually(10*time.Second, "v2 torn down", func() bool { return len(h.groups()["v2"]) == 0 })
	if f := h.events(rollout.EventRolloutFailed); len(f) != 1 || !strings.Contains(f[0].Message, "not healthy within 2s") {
		t.Errorf("failed events = %+v", f)
	}
}

func TestHotEnvironmentIsScaledUpAndHealthyBeforeTrafficReturns(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := liveOn(t, r, func(ep *rollout.Endpoint) { ep.Policy.RetainCapacityPercent = 50 })
		h.release("v2")
		h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
		v1 := h.groups()["v1"][0]
		h.eventually(10*time.Second, "v1 at half capacity", func() bool { return h.backend().capacity(h, v1) == 1 })

		// v1's remaining capacity fails its checks: scaled back up, v1 has
		// one healthy target of the two it needs, so no traffic may return
		// to it.
		h.backend().fail(h, v1)
		h.healthyTimeout(2 * time.Second)
		h.calls.Reset()
		h.release("v1")
		h.eventually(30*time.Second, "the return to v1 to fail", func() bool {
			r := h.state().Production.Rollout
			return r.Kind == rollout.KindRollback && r.Phase == rollout.PhaseFailed
		})
		// Scaled up once, by the shifter's decision. Its writes are not
		// counted: on a loaded machine a write that timed out may land at
		// moto later (as on AWS), which the shifter then sees and sets back
		// (environment.rescaled), and v1 may already be on its way back to
		// its retained capacity.
		var scaledUp int
		for _, e := range h.events(rollout.EventEnvironmentScaled) {
			if e.Version == "v1" && e.Details["capacity"] == "2" {
				scaledUp++
			}
		}
		if scaledUp != 1 {
			t.Errorf("v1 scaled up to 2 %d times, want once\n%s", scaledUp, h.trail(40))
		}
		if n := h.calls.Count(r.service, r.write); n != 0 {
			t.Errorf("traffic moved to an unhealthy environment: %d %s calls", n, r.write)
		}
		if _, w := h.rule(); !maps.Equal(w, map[string]int{"v2": 100}) {
			t.Errorf("rule = %v, want v2=100", w)
		}
	})
}

func TestAlarmEnteringAlarmRollsBackInOneWrite(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := liveOn(t, r, steps(rollout.Step{Weight: 10, Pause: pause(time.Minute)}, rollout.Step{Weight: 100}),
			func(ep *rollout.Endpoint) { ep.Policy.Alarms = []string{"web-5xx"} })
		h.alarm("web-5xx", cwtypes.StateValueOk)
		h.release("v2")
		h.waitWeights(map[string]int{"v1": 90, "v2": 10})
		h.calls.Reset()
		h.alarm("web-5xx", cwtypes.StateValueAlarm)
		h.waitPhase("v2", rollout.PhaseRolledBack, 10*time.Second)
		h.waitWeights(map[string]int{"v1": 100})
		if n := h.calls.Count(r.service, r.write); n != 1 {
			t.Errorf("%s calls = %d, want 1", r.write, n)
		}
		rb := h.events(rollout.EventRolloutRolledBack)
		if len(rb) != 1 || !strings.Contains(rb[0].Message, "alarm web-5xx entered ALARM") {
			t.Errorf("rolled_back events = %+v", rb)
		}
		if held := h.state().Production.Held; held == nil || !strings.Contains(held.Reason, "web-5xx") {
			t.Errorf("held = %+v, want the alarm in the release's reason", held)
		}
	})
}

func TestAlarmAlreadyInAlarmIsReportedAndBlocksOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, block := range []bool{false, true} {
		t.Run(map[bool]string{false: "reported", true: "blocking"}[block], func(t *testing.T) {
			t.Parallel()
			h := live(t, func(ep *rollout.Endpoint) {
				ep.Policy.Alarms = []string{"web-5xx"}
				ep.Policy.BlockOnAlarm = block
			})
			h.alarm("web-5xx", cwtypes.StateValueAlarm)
			time.Sleep(2 * poll) // alarms are read at most once per poll
			h.release("v2")
			if !block {
				h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
				if n := len(h.events(rollout.EventAlarmReported)); n != 1 {
					t.Errorf("alarm.reported events = %d, want 1", n)
				}
				return
			}
			h.waitPhase("v2", rollout.PhasePending, 10*time.Second)
			time.Sleep(500 * time.Millisecond)
			if len(h.groups()["v2"]) != 0 {
				t.Fatal("a blocked rollout created an environment")
			}
			h.alarm("web-5xx", cwtypes.StateValueOk)
			h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
		})
	}
}

func TestMetricCheckFailingAtTheEndOfAStepRollsBack(t *testing.T) {
	t.Parallel()
	// The step's metrics must be put before its pause ends: 5 s leaves room
	// for a moto that other tests keep busy.
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(5 * time.Second)}, rollout.Step{Weight: 100}),
		func(ep *rollout.Endpoint) {
			ep.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: 5, MinRequests: 10}
		})
	h.release("v2")
	h.waitWeights(map[string]int{"v1": 90, "v2": 10})
	h.putMetrics("v1", 900, 1)
	h.putMetrics("v2", 100, 20)
	h.waitPhase("v2", rollout.PhaseRolledBack, 30*time.Second)
	h.waitWeights(map[string]int{"v1": 100})
	if r := h.state().Production.Rollout; !strings.Contains(r.Reason, "5xx rate 20.00% is above 5.00%") {
		t.Errorf("reason = %q", r.Reason)
	}
}

// TestABadCanaryIsRolledBackWithinAnInterval: a canary is judged every
// interval while it waits, whether for a promote (which has no step end at
// which to judge it) or in a long pause (which would leave a bad canary
// serving until its end).
func TestABadCanaryIsRolledBackWithinAnInterval(t *testing.T) {
	t.Parallel()
	const interval = time.Second
	for name, canary := range map[string]rollout.Step{
		"waiting for a promote": {Weight: 10},
		"in a 10-minute pause":  {Weight: 10, Pause: pause(10 * time.Minute)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := live(t, steps(canary, rollout.Step{Weight: 100}), func(ep *rollout.Endpoint) {
				ep.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: 5, MinRequests: 10, Interval: rollout.Duration(interval)}
			})
			h.release("v2")
			h.waitWeights(map[string]int{"v1": 90, "v2": 10})
			// Before any traffic, the canary says how it is doing.
			h.eventually(30*time.Second, "a judgement of the canary without traffic", func() bool {
				r := rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Rollout
				return r.Judged == "0 requests, too few to judge (10 needed)" && !r.JudgedAt.IsZero()
			})
			h.putMetrics("v1", 900, 1)
			h.putMetrics("v2", 100, 20)
			put := time.Now()
			h.waitPhase("v2", rollout.PhaseRolledBack, 30*time.Second)
			took := time.Since(put)
			h.waitWeights(map[string]int{"v1": 100})
			if r := h.state().Production.Rollout; !strings.Contains(r.Reason, "5xx rate 20.00% is above 5.00%") {
				t.Errorf("reason = %q", r.Reason)
			}
			// One interval to the next judgement, and a little for the reads.
			if limit := interval + 2*time.Second; took > limit {
				t.Errorf("rolled back %s after the bad metrics, more than an interval and 2s (%s)", took, limit)
			}
			t.Logf("rolled back %s after the bad metrics", took.Round(time.Millisecond))
		})
	}
}

func TestMetricCheckPassingLetsTheRolloutGoOn(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(2 * time.Second)}, rollout.Step{Weight: 100}),
		func(ep *rollout.Endpoint) {
			ep.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: 5, MaxRatioToStable: 3, MinRequests: 10}
		})
	h.release("v2")
	h.waitWeights(map[string]int{"v1": 90, "v2": 10})
	h.putMetrics("v1", 900, 9)
	h.putMetrics("v2", 100, 1)
	h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
	// The verdict that let the canary go on is in the trail, with its numbers.
	passed := false
	for _, e := range h.events(rollout.EventMetricsJudged) {
		passed = passed || strings.HasSuffix(e.Message, "1.00% 5xx of 100 requests, 0s average: passing")
	}
	if !passed {
		t.Errorf("no metrics.judged event with the canary's passing numbers: %v", h.events(rollout.EventMetricsJudged))
	}
}

func TestSupersedeReturnsTheCanaryThenRollsTheNewVersion(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(time.Minute)}, rollout.Step{Weight: 100}))
	stop := h.watchWeights()
	h.release("v2")
	h.waitWeights(map[string]int{"v1": 90, "v2": 10})
	h.release("v3")
	h.waitWeights(map[string]int{"v1": 90, "v3": 10})
	seen := stop()
	want := []map[string]int{{"v1": 100}, {"v1": 90, "v2": 10}, {"v1": 100}, {"v1": 90, "v3": 10}}
	if !slices.EqualFunc(seen, want, maps.Equal) {
		t.Errorf("weights = %v, want %v", seen, want)
	}
	h.eventually(10*time.Second, "v2 torn down", func() bool { return len(h.groups()["v2"]) == 0 })
	if r := h.state().Production.Rollout; r.Key.Version != "v3" || r.Step != 0 {
		t.Errorf("rollout = %s at step %d, want v3 at step 1", r.Key.Version, r.Step+1)
	}
}

func TestPreviewReleaseGetsOnlyThePreviewRouteAndIsReusedByProduction(t *testing.T) {
	t.Parallel()
	for _, r := range []routing{albRouter, onECS(albRouter)} {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			h := liveOn(t, r, steps(rollout.Step{Weight: 10, Pause: pause(time.Minute)}, rollout.Step{Weight: 100}),
				func(ep *rollout.Endpoint) {
					ep.Traffic.PreviewHost = "preview.web.example.com"
					ep.Traffic.PreviewPriority = 11
				})
			h.releaseOn(rollout.Preview, "v2")
			h.eventually(30*time.Second, "preview rule on v2", func() bool { _, w := h.ruleAt(11); return maps.Equal(w, map[string]int{"v2": 100}) })
			if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 100}) {
				t.Fatalf("production rule = %v, want v1=100", w)
			}
			out, err := h.elb.DescribeRules(h.ctx, &elb.DescribeRulesInput{ListenerArn: &h.net.ListenerARN})
			if err != nil {
				t.Fatal(err)
			}
			for _, rule := range out.Rules {
				if awssdk.ToString(rule.Priority) == "11" && rule.Conditions[0].HostHeaderConfig.Values[0] != "preview.web.example.com" {
					t.Errorf("preview rule conditions = %+v", rule.Conditions)
				}
			}

			h.calls.Reset()
			h.release("v2")
			h.waitWeights(map[string]int{"v1": 90, "v2": 10})
			if n := h.calls.Count(h.backend().service, h.backend().create); n != 0 {
				t.Errorf("production built a new environment for v2 instead of reusing preview's (%d %s calls)", n, h.backend().create)
			}
		})
	}
}

// TestRemovingThePreviewReleaseRetiresThePreview: its route goes and its
// environment expires, saying why; production is untouched.
func TestRemovingThePreviewReleaseRetiresThePreview(t *testing.T) {
	t.Parallel()
	h := live(t, func(ep *rollout.Endpoint) {
		ep.Traffic.PreviewHost = "preview.web.example.com"
		ep.Traffic.PreviewPriority = 11
	})
	h.releaseOn(rollout.Preview, "v2")
	h.eventually(30*time.Second, "preview rule on v2", func() bool { _, w := h.ruleAt(11); return maps.Equal(w, map[string]int{"v2": 100}) })

	if err := h.store.DeleteRelease(h.ctx, "web", rollout.Preview, rollout.RevisionAny); err != nil {
		t.Fatal(err)
	}
	h.rec.Notify("web")
	h.eventually(30*time.Second, "the preview rule to go", func() bool { exists, _ := h.ruleAt(11); return !exists })
	h.eventually(time.Minute, "v2's environment to be deleted", func() bool { return len(h.groups()["v2"]) == 0 })
	deleting := h.events(rollout.EventEnvironmentDeleting)
	if len(deleting) != 1 || !strings.Contains(deleting[0].Message, "the preview release was removed") {
		t.Errorf("environment.deleting events = %+v, want one saying the preview release was removed", deleting)
	}
	if n := len(h.events(rollout.EventPreviewRetired)); n != 1 {
		t.Errorf("preview.retired events = %d, want 1", n)
	}
	if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 100}) {
		t.Errorf("production rule = %v, want v1=100", w)
	}
}

// flakyRouter fails its first weight writes as a verification failure would:
// moto always reads back what was written, so this part cannot come from it.
type flakyRouter struct {
	reconcile.Router
	failures atomic.Int32
}

// flakyRouter restarts h's shifter with a flakyRouter in front of its
// router, failing the first n weight writes.
func (h *harness) flakyRouter(n int32) *flakyRouter {
	router := &flakyRouter{}
	router.failures.Store(n)
	h.wrap = router.wrap
	h.kill()
	h.start()
	return router
}

// wrap puts f in front of the cloud's router (harness.wrap).
func (f *flakyRouter) wrap(c reconcile.Cloud) reconcile.Cloud {
	f.Router = c.Router
	c.Router = f
	return c
}

func (f *flakyRouter) SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	if f.failures.Add(-1) >= 0 {
		return errors.New("weights read back did not match after 3 attempts")
	}
	return f.Router.SetWeights(ctx, ep, track, weights)
}

func TestStepIsRecordedOnlyOnceItsWeightsAreVerified(t *testing.T) {
	t.Parallel()
	h := live(t, steps(rollout.Step{Weight: 10, Pause: pause(time.Minute)}, rollout.Step{Weight: 100}))
	h.flakyRouter(2)
	h.release("v2")
	h.waitWeights(map[string]int{"v1": 90, "v2": 10})
	h.eventually(5*time.Second, "step recorded", func() bool { return len(h.events(rollout.EventStepApplied)) == 1 })
	failed := h.events(rollout.EventActionFailed)
	if len(failed) != 1 || !strings.Contains(failed[0].Message, "read back did not match") {
		t.Fatalf("action.failed events = %+v, want one reporting the mismatch", failed)
	}
	if step := h.events(rollout.EventStepApplied)[0]; step.Seq < failed[0].Seq {
		t.Errorf("step recorded (seq %d) before its weights were written (failure at seq %d)", step.Seq, failed[0].Seq)
	}
}

func TestAlarmDuringBakeRollsBack(t *testing.T) {
	t.Parallel()
	h := live(t, func(ep *rollout.Endpoint) { ep.Policy.Alarms = []string{"web-latency"} })
	h.update(func(ep *rollout.Endpoint) { ep.Policy.BakeTime = rollout.Duration(time.Minute) })
	h.alarm("web-latency", cwtypes.StateValueOk)
	h.release("v2")
	h.waitPhase("v2", rollout.PhaseBaking, 30*time.Second)
	h.waitWeights(map[string]int{"v2": 100})
	h.alarm("web-latency", cwtypes.StateValueAlarm)
	h.waitPhase("v2", rollout.PhaseRolledBack, 10*time.Second)
	h.waitWeights(map[string]int{"v1": 100})
}

func TestPreviewListenerGetsTheSameConditionsAndOnlyThePreviewVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	out, err := h.elb.CreateListener(h.ctx, &elb.CreateListenerInput{
		LoadBalancerArn: &h.net.LoadBalancerARN, Protocol: elbtypes.ProtocolEnumHttp, Port: awssdk.Int32(8080),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: awssdk.String("404")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	preview := awssdk.ToString(out.Listeners[0].ListenerArn)
	h.update(func(ep *rollout.Endpoint) {
		ep.Traffic.PreviewListenerARN = preview
		ep.Traffic.PreviewPriority = 10
	})
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	h.releaseOn(rollout.Preview, "v2")
	h.eventually(30*time.Second, "the preview listener's rule on v2", func() bool {
		rules, err := h.elb.DescribeRules(h.ctx, &elb.DescribeRulesInput{ListenerArn: &preview})
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range rules.Rules {
			if awssdk.ToString(rule.Priority) == "10" {
				tgs := rule.Actions[0].ForwardConfig.TargetGroups
				return len(tgs) == 1 && h.versionOf(awssdk.ToString(tgs[0].TargetGroupArn)) == "v2" &&
					rule.Conditions[0].HostHeaderConfig.Values[0] == "web.example.com"
			}
		}
		return false
	})
	if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 100}) {
		t.Fatalf("production rule = %v, want v1=100", w)
	}
}

// TestARestartBetweenCreateAndAttachStillAttaches: a shifter dies after it
// built a first release's environment and decided to attach it, before the
// rule was written. The next one attaches it, and the release goes live.
func TestARestartBetweenCreateAndAttachStillAttaches(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(ep *rollout.Endpoint) { ep.Template.DesiredCapacity = 1 })
	router := h.flakyRouter(1 << 20)
	h.release("v1")
	h.eventually(30*time.Second, "an attempt to attach", func() bool { return len(h.events(rollout.EventActionFailed)) > 0 })
	h.kill()
	router.failures.Store(0)
	h.start()
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
}

// crashAfterWrite makes the first SetWeights happen in AWS and then never
// answer, the way a shifter killed right after its call landed would leave
// things: wrote is closed once the write is in AWS, and the call waits for
// the kill.
type crashAfterWrite struct {
	reconcile.Router
	done  atomic.Bool
	wrote chan struct{}
}

func (c *crashAfterWrite) wrap(cl reconcile.Cloud) reconcile.Cloud {
	c.Router = cl.Router
	cl.Router = c
	return cl
}

func (c *crashAfterWrite) SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	if err := c.Router.SetWeights(ctx, ep, track, weights); err != nil || !c.done.CompareAndSwap(false, true) {
		return err
	}
	close(c.wrote)
	<-ctx.Done()
	return ctx.Err()
}

// TestACrashAfterCreateListenerMakesNoSecondListener: the shifter's NLB
// listener is recorded by the spec (its load balancer and port) before it is
// created, so a shifter killed after CreateListener, before anything of the
// call was recorded, finds the listener on the port when it starts again
// and goes on with it: one CreateListener in all, one listener of the
// shifter's, the release complete (invariants 5 and 6).
func TestACrashAfterCreateListenerMakesNoSecondListener(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, nlbRouter, nil)
	crash := &crashAfterWrite{wrote: make(chan struct{})}
	h.wrap = crash.wrap
	h.kill()
	h.start()
	h.release("v1")
	select {
	case <-crash.wrote:
	case <-time.After(30 * time.Second):
		t.Fatal("the first write of the route never came")
	}
	if n := h.calls.Count("elasticloadbalancingv2", "CreateListener"); n != 1 {
		t.Fatalf("CreateListener calls before the kill = %d, want 1", n)
	}
	h.kill()
	h.start()
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	h.waitWeights(map[string]int{"v1": 100})
	if n := h.calls.Count("elasticloadbalancingv2", "CreateListener"); n != 1 {
		t.Errorf("CreateListener calls in all = %d, want 1: the shifter started again made its listener twice", n)
	}
	out, err := h.elb.DescribeListeners(h.ctx, &elb.DescribeListenersInput{LoadBalancerArn: &h.net.NLBARN})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Listeners); n != 2 {
		t.Errorf("%d listeners on the NLB, want 2 (the user's and the shifter's)", n)
	}
}
