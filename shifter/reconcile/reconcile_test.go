package reconcile_test

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/nlb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestFirstReleaseCreatesTaggedEnvironmentAndRoutesAllTraffic(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := newHarnessOn(t, r, nil)
		h.release("v1")
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)

		if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 100}) {
			t.Fatalf("rule weights = %v, want v1=100", w)
		}
		want := map[string]string{"ionroller:endpoint": "web", "ionroller:version": "v1", "ionroller:shifter": "test"}
		env := h.state().Environments[0]

		h.backend().created(h, want)

		tgs, err := h.elb.DescribeTargetGroups(h.ctx, &elb.DescribeTargetGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		// The user's target group beside an NLB is not the shifter's,
		// and the NLB router's idle group no environment's.
		tgs.TargetGroups = slices.DeleteFunc(tgs.TargetGroups, func(tg elbtypes.TargetGroup) bool {
			return awssdk.ToString(tg.TargetGroupArn) == h.net.UserTargetGroupARN || strings.HasPrefix(awssdk.ToString(tg.TargetGroupName), nlb.IdlePrefix)
		})
		if len(tgs.TargetGroups) != 1 {
			t.Fatalf("target groups = %v; want 1", tgs.TargetGroups)
		}
		tags, err := h.elb.DescribeTags(h.ctx, &elb.DescribeTagsInput{ResourceArns: []string{awssdk.ToString(tgs.TargetGroups[0].TargetGroupArn)}})
		if err != nil {
			t.Fatal(err)
		}
		checkTags(t, "target group", elbTags(tags.TagDescriptions[0].Tags), want)
		if env.Health.Healthy != 2 {
			t.Errorf("recorded health = %+v, want 2 healthy", env.Health)
		}
		for _, typ := range []string{rollout.EventRolloutStarted, rollout.EventEnvironmentCreating, rollout.EventEnvironmentHealthy, rollout.EventRolloutComplete} {
			if len(h.events(typ)) != 1 {
				t.Errorf("%s events = %d, want 1", typ, len(h.events(typ)))
			}
		}
	})
}

func TestReleaseShiftsWeightsStepByStepInOrder(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := newHarnessOn(t, r, func(ep *rollout.Endpoint) {
			ep.Policy.Steps = []rollout.Step{
				{Weight: 10, Pause: rollout.DurationPtr(1500 * time.Millisecond)},
				{Weight: 50, Pause: rollout.DurationPtr(time.Second)},
				{Weight: 100},
			}
		})
		h.release("v1")
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)

		stop := h.watchWeights()
		h.calls.Reset()
		start := time.Now()
		h.release("v2")
		h.waitPhase("v2", rollout.PhaseComplete, 60*time.Second)
		took := time.Since(start)
		seen := stop()

		want := []map[string]int{{"v1": 100}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50}, {"v2": 100}}
		if !slices.EqualFunc(seen, want, maps.Equal) {
			t.Fatalf("weights seen in moto = %v, want %v", seen, want)
		}
		if took < 2500*time.Millisecond {
			t.Errorf("rollout took %s, less than its pauses (2.5s)", took)
		}
		steps := h.events(rollout.EventStepApplied)
		if len(steps) != 2 || len(h.events(rollout.EventRolloutBaking)) != 2 {
			t.Errorf("step events = %d step.applied + %d baking, want 2 + 1 for v2", len(steps), len(h.events(rollout.EventRolloutBaking))-1)
		}
		if gap := steps[1].Time.Sub(steps[0].Time); gap < 1500*time.Millisecond {
			t.Errorf("step 2 came %s after step 1, before the 1.5s pause ended", gap)
		}
		writes := h.calls.Count(r.service, r.write)
		if writes != 4 {
			t.Errorf("%s calls = %d, want 4 (v2 attached at 0, then one per step)", r.write, writes)
		}
		t.Logf("AWS calls for a 3-step rollout: %d in all\n%s", totalCalls(h.calls), h.calls)
	})
}

func TestRevertToHotVersionTakesOneELBWriteAndNoNewEnvironment(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := newHarnessOn(t, r, nil)
		h.release("v1")
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
		h.release("v2")
		h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
		// Hot, v1 stays on the rule at weight 0, health-checked by the load
		// balancer through its rollback window.
		for range 3 {
			if w := h.attached(); w["v1"] != 0 || w["v2"] != 100 || len(w) != 2 {
				t.Fatalf("route while v1 is hot = %v, want v2 100 and v1 attached at 0", w)
			}
			if states := h.targetStates("v1"); len(states) == 0 || slices.ContainsFunc(states, func(s string) bool { return s != "healthy" }) {
				t.Fatalf("v1's targets while hot: %v, want health-checked and healthy", states)
			}
			// Across the window, every resync looks again.
			seen := h.state().ObservedAt
			h.eventually(10*resync, "another observation", func() bool { return h.state().ObservedAt.After(seen) })
		}

		h.calls.Reset()
		h.release("v1")
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)

		if _, w := h.rule(); !maps.Equal(w, map[string]int{"v1": 100}) {
			t.Fatalf("rule weights = %v, want v1=100", w)
		}
		writes := h.calls.Count("route53", "ChangeResourceRecordSets")
		for _, op := range []string{"ModifyRule", "CreateRule", "DeleteRule", "ModifyListener", "CreateTargetGroup", "DeleteTargetGroup"} {
			writes += h.calls.Count("elasticloadbalancingv2", op)
		}
		if writes != 1 {
			t.Errorf("ELBv2 and Route 53 writes = %d, want exactly 1\n%s", writes, h.calls)
		}
		if n := h.calls.Count(h.backend().service, h.backend().create); n != 0 {
			t.Errorf("rollback called %s %d times, want none", h.backend().create, n)
		}
		if r := h.state().Production.Rollout; r.Kind != rollout.KindRollback {
			t.Errorf("rollout kind = %s, want rollback", r.Kind)
		}
	})
}

func TestANewEnvironmentIsAttachedAtWeightZeroBeforeItIsGated(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := newHarnessOn(t, r, func(ep *rollout.Endpoint) {
			ep.Policy.Steps = []rollout.Step{{Weight: 10, Pause: pause(time.Second)}, {Weight: 100}}
		})
		h.release("v1")
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
		stop := h.watchRoute()
		h.release("v2")
		h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
		seen := stop()
		want := []map[string]int{{"v1": 100}, {"v1": 100, "v2": 0}, {"v1": 90, "v2": 10}, {"v1": 0, "v2": 100}}
		if !slices.EqualFunc(seen, want, maps.Equal) {
			t.Errorf("routes seen = %v, want %v: v2 attached at 0 before any traffic, v1 kept attached", seen, want)
		}
	})
}

func TestPreviousEnvironmentIsDeletedAfterItsRollbackWindow(t *testing.T) {
	t.Parallel()
	for _, r := range []routing{albRouter, onECS(albRouter)} {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			const window = 3 * time.Second
			h := newHarnessOn(t, r, func(ep *rollout.Endpoint) { ep.Policy.RetainPrevious = rollout.Duration(window) })
			h.release("v1")
			h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
			h.release("v2")
			h.waitPhase("v2", rollout.PhaseComplete, 30*time.Second)
			completed := time.Now()

			// Inside the window v1 is hot: it exists and can take traffic back.
			time.Sleep(window / 2)
			if g := h.groups(); len(g["v1"]) != 1 || len(g["v2"]) != 1 {
				t.Fatalf("units inside the window = %v, want v1 and v2", g)
			}
			h.eventually(10*time.Second, "v1 deleted", func() bool { return len(h.groups()["v1"]) == 0 && len(h.state().Environments) == 1 })
			if since := time.Since(completed); since < window {
				t.Fatalf("v1 deleted %s after completion, inside its %s window", since, window)
			}
			deleting, deleted := h.events(rollout.EventEnvironmentDeleting), h.events(rollout.EventEnvironmentDeleted)
			if len(deleting) != 1 || len(deleted) != 1 || deleted[0].Version != "v1" {
				t.Errorf("deleting/deleted events = %v / %v, want one each for v1", deleting, deleted)
			}
			scaled := h.events(rollout.EventEnvironmentScaled)
			if len(scaled) == 0 || scaled[len(scaled)-1].Details["capacity"] != "0" {
				t.Errorf("v1 was not scaled to zero before deletion: %v", scaled)
			}
			tgs, _ := h.elb.DescribeTargetGroups(h.ctx, &elb.DescribeTargetGroupsInput{})
			if n := h.backend().definitions(h); n != 1 || len(tgs.TargetGroups) != 1 {
				t.Errorf("after expiry: %d definitions (launch templates, task definitions), %d target groups; want only v2's", n, len(tgs.TargetGroups))
			}
			if _, w := h.rule(); !maps.Equal(w, map[string]int{"v2": 100}) {
				t.Errorf("rule = %v, want v2=100", w)
			}
			if g := h.groups(); len(g["v2"]) != 1 {
				t.Errorf("serving v2 deleted: %v", g)
			}
		})
	}
}

func TestHardStopMidRolloutResumesFromTheSameStep(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := newHarnessOn(t, r, func(ep *rollout.Endpoint) {
			ep.Policy.Steps = []rollout.Step{
				{Weight: 10, Pause: rollout.DurationPtr(2 * time.Second)},
				{Weight: 50, Pause: rollout.DurationPtr(time.Second)},
				{Weight: 100},
			}
		})
		h.release("v1")
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
		stop := h.watchWeights()
		h.release("v2")
		h.eventually(30*time.Second, "10% on v2", func() bool { _, w := h.rule(); return w["v2"] == 10 })

		h.kill()
		step := h.state().Production.Rollout.Step
		h.start()
		h.waitPhase("v2", rollout.PhaseComplete, 60*time.Second)
		seen := stop()

		want := []map[string]int{{"v1": 100}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50}, {"v2": 100}}
		if !slices.EqualFunc(seen, want, maps.Equal) {
			t.Fatalf("weights seen across the restart = %v, want %v", seen, want)
		}
		if step != 0 {
			t.Errorf("stored step at the kill = %d, want 0 (10%%)", step)
		}
		if g := h.groups(); len(g["v2"]) != 1 || len(g["v1"]) != 1 {
			t.Errorf("groups = %v, want exactly one per version", g)
		}
		if n := len(h.events(rollout.EventStepApplied)); n != 2 {
			t.Errorf("step.applied events = %d, want 2 (no step doubled or lost)", n)
		}
	})
}

func TestWeightChangedByHandIsRestoredWithinAResync(t *testing.T) {
	eachRouter(t, func(t *testing.T, r routing) {
		h := newHarnessOn(t, r, nil)
		h.release("v1")
		h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)

		protocol := elbtypes.ProtocolEnum(cmp.Or(r.protocol, "HTTP"))
		stray, err := h.elb.CreateTargetGroup(h.ctx, &elb.CreateTargetGroupInput{Name: awssdk.String("by-hand"), Protocol: protocol, Port: awssdk.Int32(80), VpcId: &h.net.VPC})
		if err != nil {
			t.Fatal(err)
		}
		_, ours := r.forward(h)
		if len(ours) != 1 {
			t.Fatalf("route = %v, want v1's target group alone", ours)
		}
		for arn := range ours {
			r.edit(h, map[string]int{arn: 50, awssdk.ToString(stray.TargetGroups[0].TargetGroupArn): 50})
		}
		edited := time.Now()
		h.eventually(resync+2*time.Second, "the rule restored", func() bool { _, w := h.rule(); return maps.Equal(w, map[string]int{"v1": 100}) })
		if took := time.Since(edited); took > resync+time.Second {
			t.Errorf("drift repaired after %s, more than one resync (%s)", took, resync)
		}
		if n := len(h.events(rollout.EventDriftRepaired)); n != 1 {
			t.Errorf("drift.repaired events = %d, want 1", n)
		}
	})
}

// TestRouteDeletedByHandIsRecreatedWithinAResync: the rule or listener that
// carries a route, deleted behind the shifter's back, is the shifter's to
// restore (DESIGN §2): it is created again with the weights it had, and an
// event says so. Routers whose route a test cannot delete (records) are left
// out by routing.remove.
func TestRouteDeletedByHandIsRecreatedWithinAResync(t *testing.T) {
	t.Parallel()
	for _, r := range routers {
		if r.remove == nil {
			continue
		}
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, r, nil)
			h.release("v1")
			h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)

			r.remove(h)
			if carries, _ := r.forward(h); carries {
				t.Fatal("the route still carries traffic after it was deleted")
			}
			h.eventually(resync+2*time.Second, "the route recreated", func() bool { _, w := h.rule(); return maps.Equal(w, map[string]int{"v1": 100}) })
			if n := len(h.events(rollout.EventDriftRepaired)); n != 1 {
				t.Errorf("drift.repaired events = %d, want 1", n)
			}
		})
	}
}

// TestDeletingAnNLBEndpointDeletesItsListenerAndIdleGroup: the listener the
// shifter created on the NLB, and the idle target group it forwarded to
// before the first release was healthy, are the shifter's: they go with the
// endpoint, and the user's listener beside them stays as it was.
func TestDeletingAnNLBEndpointDeletesItsListenerAndIdleGroup(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, nlbRouter, nil)
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	if li, err := awstest.NLBListener(h.ctx, h.cfg, h.net.NLBARN, h.net.NLBPort); err != nil || li == nil {
		t.Fatalf("no listener of the shifter's on port %d: %v", h.net.NLBPort, err)
	}
	idleGroups := func() []string {
		tgs, err := h.elb.DescribeTargetGroups(h.ctx, &elb.DescribeTargetGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tg := range tgs.TargetGroups {
			if name := awssdk.ToString(tg.TargetGroupName); strings.HasPrefix(name, nlb.IdlePrefix) {
				names = append(names, name)
			}
		}
		return names
	}
	if n := len(idleGroups()); n != 1 {
		t.Fatalf("%d idle target groups after the first release, want 1", n)
	}

	h.update(func(ep *rollout.Endpoint) { ep.Deleting = true })
	h.eventually(time.Minute, "the endpoint to be deleted", func() bool {
		_, err := h.store.GetEndpoint(h.ctx, "web")
		return rollout.ErrorCode(err) == rollout.ENOTFOUND
	})
	out, err := h.elb.DescribeListeners(h.ctx, &elb.DescribeListenersInput{LoadBalancerArn: &h.net.NLBARN})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Listeners) != 1 || awssdk.ToString(out.Listeners[0].ListenerArn) != h.net.UserNLBListenerARN {
		t.Errorf("listeners left on the NLB: %d, want the user's alone", len(out.Listeners))
	}
	if left := idleGroups(); len(left) != 0 {
		t.Errorf("idle target groups %v left after the endpoint was deleted", left)
	}
}

// TestATLSCertificateRotationIsOneWriteWithAnEvent: an NLB endpoint's TLS
// listener gets the certificate of its spec; a certificate rotated in the
// spec of an endpoint at rest reaches the listener in one ModifyListener,
// with one drift.repaired event, traffic where it was.
func TestATLSCertificateRotationIsOneWriteWithAnEvent(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, nlbRouter, nil)
	first, rotated := awstest.Certificate(t, h.cfg, "web.example.test"), awstest.Certificate(t, h.cfg, "web.example.test")
	h.update(func(ep *rollout.Endpoint) {
		ep.Traffic.NLB.Protocol, ep.Traffic.NLB.CertificateARN = rollout.NLBProtocolTLS, first
		ep.Template.HealthCheck.Protocol = "TLS"
	})
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	certificate := func() (string, map[string]int) {
		li, err := awstest.NLBListener(h.ctx, h.cfg, h.net.NLBARN, h.net.NLBPort)
		if err != nil || li == nil || li.Protocol != elbtypes.ProtocolEnumTls || len(li.Certificates) != 1 {
			t.Fatalf("no TLS listener with one certificate on port %d: %+v (%v)", h.net.NLBPort, li, err)
		}
		return awssdk.ToString(li.Certificates[0].CertificateArn), shifteraws.ForwardWeights(li.DefaultActions)
	}
	cert, before := certificate()
	if cert != first {
		t.Fatalf("listener certificate %s, want %s", cert, first)
	}
	writes := h.calls.Count("elasticloadbalancingv2", "ModifyListener")
	h.update(func(ep *rollout.Endpoint) { ep.Traffic.NLB.CertificateARN = rotated })
	h.eventually(30*time.Second, "the rotated certificate on the listener", func() bool { c, _ := certificate(); return c == rotated })
	h.eventually(30*time.Second, "the route verified again", func() bool { return h.state().Production.Route.Verified })
	if _, after := certificate(); !maps.Equal(after, before) {
		t.Errorf("the listener forwards %v after the rotation, want %v as before", after, before)
	}
	if n := h.calls.Count("elasticloadbalancingv2", "ModifyListener") - writes; n != 1 {
		t.Errorf("%d ModifyListener calls for the rotation, want 1", n)
	}
	if ev := h.events(rollout.EventDriftRepaired); len(ev) != 1 || !strings.Contains(ev[0].Message, rotated) {
		t.Errorf("drift.repaired events %v, want one naming the rotated certificate", ev)
	}
}

// TestEndpointAtRestResyncsFromSharedListings: resyncs of an endpoint at
// rest read the account's listings (shared by every endpoint, at most half a
// resync old) and no target health.
func TestEndpointAtRestResyncsFromSharedListings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	time.Sleep(resync) // let the last full observation pass
	h.calls.Reset()
	const resyncs = 6
	time.Sleep(resyncs * resync)
	if n := h.calls.Count("elasticloadbalancingv2", "DescribeTargetHealth"); n != 0 {
		t.Errorf("resyncs at rest read target health %d times\n%s", n, h.calls)
	}
	// Each listing of groups, target groups, templates and the listener's
	// rules is read at most once per half resync.
	if n := totalCalls(h.calls); n > 4*(2*resyncs+1) {
		t.Errorf("%d AWS calls in %d resyncs at rest\n%s", n, resyncs, h.calls)
	}
	t.Logf("AWS calls in %d resyncs at rest: %d\n%s", resyncs, totalCalls(h.calls), h.calls)
}
