package ec2env_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestObservationsShareOneListingAmongEndpoints: the observations of any
// number of endpoints cost one listing of the account for as long as it is
// fresh enough for them, see only this shifter's resources, and read target
// health only for the environments asked.
func TestObservationsShareOneListingAmongEndpoints(t *testing.T) {
	f := newFixture(t, "shared")
	other := ec2env.New(f.api, "someone-else", hclog.NewNullLogger())
	envs := map[string]rollout.Environment{"api": f.env("e1", 1), "web": f.env("e2", 2)}
	for endpoint, env := range envs {
		if err := f.backend.Create(t.Context(), endpoint, env); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Create(t.Context(), "api", f.env("e9", 1)); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	f.calls.Reset()
	for range 3 {
		for endpoint, env := range envs {
			got, err := f.backend.Observe(t.Context(), endpoint, []rollout.Environment{env}, reconcile.Query{Listed: since})
			if err != nil {
				t.Fatal(err)
			}
			if o := got[env.ID]; !o.Exists || o.Gone || o.HealthRead || o.Capacity != env.Capacity || o.InService != env.Capacity || o.Target == "" {
				t.Errorf("%s = %+v", endpoint, o)
			}
		}
	}
	if n := f.calls.Count("autoscaling", "DescribeAutoScalingGroups") + f.calls.Count("elasticloadbalancingv2", "DescribeTargetGroups") +
		f.calls.Count("ec2", "DescribeLaunchTemplates"); n != 3 {
		t.Errorf("listings for six observations of two endpoints = %d, want 3 (one per kind)\n%s", n, f.calls)
	}
	// What the listing does not show is read by name before it is
	// reported gone; another shifter's environment is gone for this one.
	got, err := f.backend.Observe(t.Context(), "api", []rollout.Environment{f.env("missing", 1), f.env("e9", 1)}, reconcile.Query{Listed: since})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"missing", "e9"} {
		if m := got[id]; !m.Gone || m.Exists {
			t.Errorf("%s = %+v, want gone", id, m)
		}
	}
	if n := f.calls.Count("elasticloadbalancingv2", "DescribeTargetHealth"); n != 0 {
		t.Errorf("%d target health reads nobody asked for", n)
	}

	// Health is read for what is asked, and only that.
	got, err = f.backend.Observe(t.Context(), "web", []rollout.Environment{envs["web"]}, reconcile.Query{Listed: since, Health: []string{"e2"}})
	if err != nil {
		t.Fatal(err)
	}
	if o := got["e2"]; !o.HealthRead || o.Targets != 2 {
		t.Errorf("e2 with health = %+v", o)
	}
	if n := f.calls.Count("elasticloadbalancingv2", "DescribeTargetHealth"); n != 1 {
		t.Errorf("target health reads = %d, want 1", n)
	}
}

// TestATargetGroupNoRuleUsesIsUnusedUntilARuleForwardsToIt: the load balancer
// health-checks an environment's targets only once a rule forwards to its
// group, at weight 0 as well; before, they are unused, and the backend says so.
func TestATargetGroupNoRuleUsesIsUnusedUntilARuleForwardsToIt(t *testing.T) {
	f := newFixture(t, "test")
	env := f.env("e1", 2)
	if err := f.backend.Create(t.Context(), "api", env); err != nil {
		t.Fatal(err)
	}
	o := f.observe(t, "api", env)
	if o.Unused != 2 || o.Healthy != 0 {
		t.Fatalf("before any rule forwards to it: %+v, want 2 unused targets", o.TargetHealth)
	}
	inspect := elb.NewFromConfig(awstest.Exempt(f.cfg))
	_, err := inspect.CreateRule(t.Context(), &elb.CreateRuleInput{
		ListenerArn: aws.String(f.net.ListenerARN),
		Priority:    aws.Int32(10),
		Conditions:  []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/*"}}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(o.Target), Weight: aws.Int32(0)}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sawInitial := false
	deadline := time.Now().Add(30 * time.Second)
	for o = f.observe(t, "api", env); o.Healthy < 2; o = f.observe(t, "api", env) {
		if o.Unused > 0 {
			t.Fatalf("attached at weight 0, still unused: %+v", o.TargetHealth)
		}
		sawInitial = sawInitial || o.Initial > 0
		if time.Now().After(deadline) {
			t.Fatalf("not healthy 30s after it was attached: %+v", o.TargetHealth)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sawInitial {
		t.Error("healthy at once when attached: the first health checks were not seen")
	}
}

// TestOnlyChangingEnvironmentsAreReadByName: while an endpoint rolls out, the
// environment coming up is read by name as fresh as asked, and the settled
// one keeps to the account's listing, which it shares with every endpoint:
// a rollout costs no read of the resources that are not changing.
func TestOnlyChangingEnvironmentsAreReadByName(t *testing.T) {
	f := newFixture(t, "changing")
	stable, next := f.env("e1", 1), f.env("e2", 1)
	for _, env := range []rollout.Environment{stable, next} {
		if err := f.backend.Create(t.Context(), "api", env); err != nil {
			t.Fatal(err)
		}
	}
	listed := time.Now()
	observe := func() map[string]reconcile.Env {
		t.Helper()
		got, err := f.backend.Observe(t.Context(), "api", []rollout.Environment{stable, next},
			reconcile.Query{Changing: []string{next.ID}, Since: time.Now(), Listed: listed})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	observe()
	for _, env := range []rollout.Environment{stable, next} {
		if err := f.backend.Scale(t.Context(), "api", env, 2); err != nil {
			t.Fatal(err)
		}
	}
	f.calls.Reset()
	got := observe()
	if got[next.ID].Capacity != 2 {
		t.Errorf("changing environment = %+v, want the capacity of 2 it was scaled to: read by name, fresh", got[next.ID])
	}
	if o := got[stable.ID]; o.Capacity != 1 || !o.Exists {
		t.Errorf("settled environment = %+v, want it as the listing showed it (capacity 1)", o)
	}
	if n := f.calls.Count("autoscaling", "DescribeAutoScalingGroups"); n != 1 {
		t.Errorf("auto scaling reads = %d, want 1 (the changing group by name; the listing is fresh enough)\n%s", n, f.calls)
	}
	if n := f.calls.Count("ec2", "DescribeLaunchTemplates"); n != 1 {
		t.Errorf("launch template reads = %d, want 1 (by name)\n%s", n, f.calls)
	}
}

// TestAnEnvironmentNewerThanTheListingIsNotTakenForDeleted: a replica taking
// over an endpoint may hold a listing older than an environment another
// replica built; the environment is read by name before it looks missing.
func TestAnEnvironmentNewerThanTheListingIsNotTakenForDeleted(t *testing.T) {
	f := newFixture(t, "takeover")
	taker := ec2env.New(f.api, "takeover", hclog.NewNullLogger())
	stable, next := f.env("e1", 1), f.env("e2", 1)
	if err := f.backend.Create(t.Context(), "api", stable); err != nil {
		t.Fatal(err)
	}
	q := reconcile.Query{Since: time.Now(), Listed: time.Now()}
	if _, err := taker.Observe(t.Context(), "api", []rollout.Environment{stable}, q); err != nil {
		t.Fatal(err) // the taker's listing: e1 only
	}
	if err := f.backend.Create(t.Context(), "api", next); err != nil {
		t.Fatal(err)
	}
	got, err := taker.Observe(t.Context(), "api", []rollout.Environment{stable, next}, reconcile.Query{Since: time.Now(), Listed: q.Listed})
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []rollout.Environment{stable, next} {
		if o := got[env.ID]; !o.Exists || o.Gone {
			t.Errorf("%s = %+v, want it to exist", env.ID, o)
		}
	}
}
