package ec2env_test

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestObserveIdleSharesOneListingAmongEndpoints: the idle observations of
// any number of endpoints cost one listing of the account per maxAge, agree
// with Observe on what exists, and say that no health was read.
func TestObserveIdleSharesOneListingAmongEndpoints(t *testing.T) {
	f := newFixture(t, "idle")
	other := ec2env.New(f.api, "someone-else", hclog.NewNullLogger())
	envs := map[string]rollout.Environment{"api": f.env("e1", 1), "web": f.env("e2", 2)}
	for endpoint, env := range envs {
		if _, err := f.backend.Create(t.Context(), endpoint, env); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Create(t.Context(), "api", f.env("e9", 1)); err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
	for range 3 {
		for endpoint, env := range envs {
			got, err := f.backend.ObserveIdle(t.Context(), endpoint, []rollout.Environment{env, f.env("missing", 1)}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			full := f.observe(t, endpoint, env)
			o := got[env.ID]
			if !o.Exists || o.Gone || o.HealthRead || o.Capacity != env.Capacity || o.InService != env.Capacity || o.TargetGroupARN != full.TargetGroupARN {
				t.Errorf("%s idle = %+v, full = %+v", endpoint, o, full)
			}
			if m := got["missing"]; !m.Gone || m.Exists {
				t.Errorf("a missing environment = %+v, want gone", m)
			}
		}
	}
	// Three listings in all, for six idle observations of two endpoints;
	// the full observations made alongside are not counted.
	listings := f.calls.Count("autoscaling", "DescribeAutoScalingGroups") - 6 +
		f.calls.Count("elasticloadbalancingv2", "DescribeTargetGroups") - 6 +
		f.calls.Count("ec2", "DescribeLaunchTemplates") - 6
	if listings != 3 {
		t.Errorf("listings = %d, want 3 (one per kind)\n%s", listings, f.calls)
	}
}
