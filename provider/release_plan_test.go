package provider

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAccReleasePlanSaysWhatHappens: each plan of a release names the change
// the shifter will make of it, in a warning, and plans the image it runs:
// the endpoint's first release, a new rollout with its steps, a rollback to
// the hot version, a change of Terraform's settings alone, a raised retry of
// the live release, and a template change, of the release's env and then of
// its endpoint in the same run.
func TestAccReleasePlanSaysWhatHappens(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	release := "ionroller_release.test"
	endpoint := endpointConfig(name, s.net, threeSteps, "1h")
	// small is the endpoint with another template: other instances.
	small := strings.Replace(endpoint, `deregistration_delay = "0s"`, `deregistration_delay = "0s"
    instance_type        = "t3.small"`, 1)
	config := func(version, waitFor string, retry int, env string) string {
		return providerConfig(s.url) + endpoint + releaseWithEnvConfig(version, waitFor, retry, env)
	}
	image := func(version string) plancheck.PlanCheck {
		return plancheck.ExpectKnownValue(release, tfjsonpath.New("image"), knownvalue.StringExact("registry.example.com/"+name+":"+version))
	}
	warns := func(summary, detail string) plancheck.PlanCheck {
		return s.warnings.expectWarning(regexp.MustCompile(regexp.QuoteMeta("ionroller_release: Release " + summary + ": " + detail)))
	}
	steps := "then moves production traffic to it: once healthy, 10% for 1s, 50% for 1s, 100%."
	blue := `{ MODE = "blue" }`

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				// The endpoint is created in the same run: the release is
				// planned on its plan.
				PreConfig: s.warnings.reset,
				Config:    config("v1", waitComplete, 0, "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					image("v1"),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("id"), knownvalue.StringExact(name+"/production")),
					warns("v1 of "+name+": a new rollout", "Applying rolls v1 out in a new environment, "+
						"then moves production traffic to it: 100% once healthy, as the endpoint's first release."),
				}},
			},
			{
				PreConfig: s.warnings.reset,
				Config:    config("v2", waitComplete, 0, "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					image("v2"),
					warns("v2 of "+name+": a new rollout", "Applying rolls v2 out in a new environment, "+steps+
						" v1 (environment e1) serves the rest until then, and stays hot for 1h after for a rollback."),
				}},
			},
			{
				PreConfig: s.warnings.reset,
				Config:    config("v1", waitComplete, 0, "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					image("v1"),
					s.warnings.expectWarning(regexp.MustCompile(regexp.QuoteMeta("ionroller_release: Release v1 of "+name+": a rollback to a hot version: "+
						"v1 is hot: applying moves all of "+name+"'s production traffic from v2 (environment e2) back to environment e1 "+
						"in one load-balancer write, with no new environment and no steps. It has 1 healthy of a capacity of 1 now, and ") +
						`(\d+m)?\d+s left in its rollback window \(until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\.`)),
				}},
			},
			{
				// Only how the apply waits changes: the live state is planned
				// as it is, since the apply does not ask the shifter.
				PreConfig: s.warnings.reset,
				Config:    config("v1", waitHealthy, 0, "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(release, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact(string(rollout.PhaseComplete))),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(100)),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("live_version"), knownvalue.StringExact("v1")),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("environment_id"), knownvalue.StringExact("e1")),
					warns("v1 of "+name+": no traffic change",
						"Only Terraform's settings of the release change (wait_for, timeouts): the apply does not call the shifter, and no traffic moves."),
				}},
			},
			{
				PreConfig: s.warnings.reset,
				Config:    config("v1", waitComplete, 1, "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					warns("v1 of "+name+": no traffic change",
						"v1 already serves "+name+"'s production traffic from environment e1, with what this release runs: the shifter moves no traffic."),
				}},
			},
			{
				PreConfig: s.warnings.reset,
				Config:    config("v1", waitComplete, 1, blue),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					image("v1"),
					warns("v1 of "+name+": a template change", "What v1 runs changed (the endpoint's template, or the release's image or env), "+
						"so environment e1, which serves it now, is not reused: applying rolls v1 out again in a new environment, "+steps+
						" v1 (environment e1) serves the rest until then, and stays hot for 1h after for a rollback."),
				}},
			},
			{
				// The endpoint's template changes; the release does not,
				// and still says what the run does to it.
				PreConfig: s.warnings.reset,
				Config:    providerConfig(s.url) + small + releaseWithEnvConfig("v1", waitComplete, 1, blue),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(release, plancheck.ResourceActionNoop),
					warns("v1 of "+name+": a template change", "What v1 runs changed (the endpoint's template, or the release's image or env), "+
						"so environment e3, which serves it now, is not reused: applying rolls v1 out again in a new environment, "+steps+
						" v1 (environment e3) serves the rest until then, and stays hot for 1h after for a rollback. "+
						"(Foreseen on endpoint "+name+" as this run changes it.)"),
				}},
			},
		},
	})
}

func TestRolloutSteps(t *testing.T) {
	policy := rollout.Policy{
		Steps:    []rollout.Step{{Weight: 10, Pause: rollout.DurationPtr(5 * time.Minute)}, {Weight: 50}, {Weight: 100}},
		BakeTime: rollout.Duration(time.Hour),
	}
	for _, tc := range []struct {
		track rollout.Track
		first bool
		want  string
	}{
		{rollout.Production, false, "once healthy, 10% for 5m, 50% until promoted, 100%, then a bake of 1h"},
		{rollout.Production, true, "100% once healthy, as the endpoint's first release, then a bake of 1h"},
		{rollout.Preview, false, "100% once healthy"},
	} {
		if got := rolloutSteps(policy, tc.track, tc.first); got != tc.want {
			t.Errorf("rolloutSteps(%s, first %t) = %q, want %q", tc.track, tc.first, got, tc.want)
		}
	}
}

// TestReleasePlanWarning has a row per warning the acceptance test above
// cannot reach in one walk: a return to the stable version and a rollout
// in flight that goes on, what is said while the endpoint or the release is
// known only after apply, an endpoint the shifter does not have, a retired
// preview, and a hot environment kept smaller than its capacity.
func TestReleasePlanWarning(t *testing.T) {
	now := time.Date(2025, 6, 3, 13, 0, 0, 0, time.UTC)
	ep := rollout.NewEndpoint()
	ep.Name, ep.Template.Repository, ep.Template.DesiredCapacity = "web", "registry.example.com/web", 2
	release := func(version string) rollout.Release {
		return rollout.Release{Endpoint: "web", Track: rollout.Production, Version: version}
	}
	env := func(id, version string) rollout.EnvironmentStatus {
		return rollout.EnvironmentStatus{ID: id, Version: version, TemplateHash: rollout.KeyOf(ep, release(version)).TemplateHash,
			Phase: "serving", Capacity: 2, Healthy: 2}
	}
	stable, canary, hot := env("e1", "v1"), env("e2", "v2"), env("e0", "v0")
	stable.StableOn = []rollout.Track{rollout.Production}
	hot.Phase, hot.HotUntil, hot.Capacity, hot.Healthy = "hot", now.Add(30*time.Minute), 1, 1
	inCanary := rollout.EndpointStatus{
		StableVersion: "v1",
		Environments:  []rollout.EnvironmentStatus{hot, stable, canary},
		Rollout:       &rollout.RolloutStatus{Version: "v2", TemplateHash: canary.TemplateHash, Phase: rollout.PhasePaused, Step: 1, Steps: 3, Weight: 10},
	}
	known := releasePlan{name: "web", spec: ep, known: true, current: ep, status: inCanary, exists: true}
	unknown := known
	unknown.known, unknown.changes = false, true
	retired := release("v3")
	retired.Track, retired.Retired = rollout.Preview, true

	for _, tc := range []struct {
		name          string
		ep            releasePlan
		rel           rollout.Release
		runs          bool
		summary, want string
	}{
		{"revert", known, release("v1"), true, "Release v1 of web: a return to the stable version",
			"v1 is the stable version: applying ends the rollout of v2 in flight (paused at 10%) and moves all of web's production traffic " +
				"back to v1 (environment e1) in one load-balancer write."},
		{"continue", known, release("v2"), true, "Release v2 of web: no traffic change",
			"The rollout of v2 in flight (paused at 10%) is this release's: it goes on as it is, and the apply moves no traffic."},
		{"rollback to a smaller hot environment, ending a canary", known, release("v0"), true, "Release v0 of web: a rollback to a hot version",
			"The rollout of v2 in flight (paused at 10%) ends first: its share of traffic goes back to v1 (environment e1) at once. " +
				"v0 is hot: applying moves all of web's production traffic from v1 (environment e1) back to environment e0 in one load-balancer write, " +
				"with no new environment and no steps. It has 1 healthy of a capacity of 1 now (kept smaller while hot: it is scaled back to 2 " +
				"before traffic moves), and 30m left in its rollback window (until 2025-06-03T13:30:00Z)."},
		{"a new version while the endpoint is known only after apply", unknown, release("v3"), true, "Release v3 of web: a new rollout",
			"No environment runs v3, so applying rolls it out in a new environment, then moves production traffic to it: the steps of the " +
				"endpoint's policy, as this run leaves it. (Which environment it is built from is decided at apply: endpoint web changes in " +
				"this run with values known only after apply.)"},
		{"a version that runs while the release's env is known only after apply", known, release("v0"), false, "Release v0 of web: decided at apply",
			"v0 runs in environment e0 now. Whether applying returns traffic to it, leaves traffic as it is, or rolls v0 out again in a new " +
				"environment depends on what the release runs, and what the release runs (its image or env) is known only after apply."},
		{"an endpoint the shifter does not have", releasePlan{name: "web"}, release("v1"), true, "Release v1 of web: its endpoint is not in the shifter",
			`The shifter has no endpoint "web", so the plan cannot say what declaring v1 does. If this run creates the endpoint, refer to it ` +
				"(endpoint = ionroller_endpoint.NAME.name) so that the release is planned after it, on its spec."},
		{"a retired preview", known, retired, true, "Release v3 of web (preview): retired",
			"The release is declared retired: the preview route is down once the apply is done, and the release's environment expires " +
				"unless production runs it. No production traffic moves."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			summary, detail := tc.ep.warning(tc.rel, tc.runs, now)
			if summary != tc.summary || detail != tc.want {
				t.Errorf("warning\n %q: %q\nwant\n %q: %q", summary, detail, tc.summary, tc.want)
			}
		})
	}
}

// TestReleasePlanSaysWhenARevertWouldNotBeOneWrite: a policy that keeps the
// previous version hot at a share of its capacity makes a revert scale it
// up first, which the plan of a new rollout says.
func TestReleasePlanSaysWhenARevertWouldNotBeOneWrite(t *testing.T) {
	now := time.Date(2025, 6, 3, 13, 0, 0, 0, time.UTC)
	ep := rollout.NewEndpoint()
	ep.Name, ep.Template.Repository, ep.Template.DesiredCapacity = "web", "registry.example.com/web", 2
	stable := rollout.EnvironmentStatus{ID: "e1", Version: "v1", Phase: "serving", Capacity: 2, Healthy: 2, StableOn: []rollout.Track{rollout.Production},
		TemplateHash: rollout.KeyOf(ep, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "v1"}).TemplateHash}
	plan := releasePlan{name: "web", spec: ep, known: true, current: ep, exists: true,
		status: rollout.EndpointStatus{StableVersion: "v1", Environments: []rollout.EnvironmentStatus{stable}}}
	for _, tc := range []struct {
		retain int
		want   bool
	}{{100, false}, {50, true}} {
		plan.spec.Policy.RetainCapacityPercent = tc.retain
		_, detail := plan.warning(rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "v2"}, true, now)
		if got := strings.Contains(detail, "at 50% of its capacity: a revert would first scale it back up"); got != tc.want {
			t.Errorf("retain_capacity_percent %d: the plan says %q", tc.retain, detail)
		}
	}
}

// TestAccReleaseDuringAnOverride: while a break-glass override pins the
// traffic, the plan of a new release says it is deferred, the endpoint's
// status and a warning show the override, and the apply returns with the
// release deferred, moving no traffic; after the lift it rolls out.
func TestAccReleaseDuringAnOverride(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	release, endpoint := "ionroller_release.test", "ionroller_endpoint.test"
	config := func(version string) string {
		return providerConfig(s.url) + endpointConfig(name, s.net, oneStep, "1h") + releaseConfig(version, waitComplete, 0)
	}
	pinned := regexp.QuoteMeta("production traffic is overridden to version v1 until ") + `\S+` + regexp.QuoteMeta(" by anonymous: v2 corrupts carts")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{Config: config("v1")},
			{Config: config("v2")},
			{
				PreConfig: func() {
					s.warnings.reset()
					s.override(t, name, "v1")
				},
				Config: config("v3"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					s.warnings.expectWarning(regexp.MustCompile(regexp.QuoteMeta(`ionroller_endpoint: ionroller endpoint "`+name+`": production traffic is overridden: The `) + pinned)),
					s.warnings.expectWarning(regexp.MustCompile(regexp.QuoteMeta("ionroller_release: Release v3 of "+name+": deferred by an override: The ") + pinned +
						regexp.QuoteMeta(". Releases applied meanwhile are recorded and move no traffic: they roll out when the override ends, or when `shifter override "+name+" -lift` ends it sooner."))),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact(rollout.StateDeferred)),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("live_version"), knownvalue.StringExact("v1")),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("override").AtMapKey("version"), knownvalue.StringExact("v1")),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("override").AtMapKey("reason"), knownvalue.StringExact("v2 corrupts carts")),
				},
				Check: s.checkWeights(map[string]int{"v1": 100}),
			},
			{
				PreConfig: func() {
					if _, err := s.client.Act(t.Context(), name, rollout.Command{Kind: rollout.CommandLift}); err != nil {
						t.Fatal(err)
					}
					s.awaitRelease(t, name, "v3", func(st rollout.ReleaseStatus) bool { return st.State == string(rollout.PhaseComplete) })
				},
				Config: config("v3"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact(string(rollout.PhaseComplete))),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("override"), knownvalue.Null()),
				},
				Check: s.checkWeights(map[string]int{"v3": 100}),
			},
		},
	})
}

// override pins endpoint's production traffic to version for an hour, as
// `shifter override` does, and returns once the traffic is there.
func (s *testShifter) override(t *testing.T, endpoint, version string) {
	t.Helper()
	c := rollout.Command{Kind: rollout.CommandOverride, To: version, For: rollout.Duration(time.Hour), Reason: "v2 corrupts carts"}
	if _, err := s.client.Act(t.Context(), endpoint, c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := poll(ctx, func() (bool, error) {
		v, err := s.client.GetEndpoint(ctx, endpoint)
		return err == nil && v.Status.Override != nil && v.Status.Weights[version] == 100 && v.Status.Verified, nil
	}); err != nil {
		t.Fatalf("the override to %s never took the traffic: %v", version, err)
	}
}
