package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/images/imagestest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAccReleaseRolloutAndRollback rolls v2 out in three steps, waiting for
// complete, then rolls back by declaring v1 again: one apply, one weight
// change in AWS.
func TestAccReleaseRolloutAndRollback(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	release := "ionroller_release.test"
	// v1 stays hot for an hour, as it would in production; the destroy
	// that ends the test does not wait for that window.
	config := func(version string) string {
		return providerConfig(s.url) + endpointConfig(name, s.net, threeSteps, "1h") + releaseConfig(version, waitComplete, 0)
	}
	var watch *weightWatch
	var rollbackStart time.Time

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config("v1"),
				Check:  s.checkWeights(map[string]int{"v1": 100}),
			},
			{
				PreConfig: func() { watch = s.watchWeights(name, "v2") },
				Config:    config("v2"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact("complete")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(100)),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("live_version"), knownvalue.StringExact("v2")),
				},
				Check: func(st *terraform.State) error {
					if seen := watch.stop(); !slices.Equal(seen, []int{10, 50, 100}) {
						return fmt.Errorf("v2's share of traffic went through %v, want the steps 10, 50, 100", seen)
					}
					return s.checkWeights(map[string]int{"v2": 100})(st)
				},
			},
			{
				Config: config("v2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				// The endpoint shows, before anyone needs it, that v1 can
				// take the traffic back in one write.
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("status").AtMapKey("hot_versions"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"version": knownvalue.StringExact("v1"), "ready": knownvalue.Bool(true), "scale_up": knownvalue.Bool(false),
						}),
					})),
				},
			},
			{
				// Rolling back is reverting the commit: v1 is still hot.
				PreConfig: func() { rollbackStart = time.Now() },
				Config:    config("v1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(release, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("version"), knownvalue.StringExact("v1")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact("complete")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("live_version"), knownvalue.StringExact("v1")),
				},
				Check: func(st *terraform.State) error {
					t.Logf("rollback: plan and apply took %s", time.Since(rollbackStart).Round(time.Millisecond))
					return s.checkWeights(map[string]int{"v1": 100})(st)
				},
			},
		},
	})
}

// TestAccReleaseSpecRevisions: the release says which revision of its
// endpoint's spec each live and hot version runs, and a rollback to a hot
// version brings its revision back.
func TestAccReleaseSpecRevisions(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	release := "ionroller_release.test"
	// The steps are the change: revision 2 of the spec differs from 1 in
	// its policy, which needs no new environment of its own.
	config := func(version, steps string) string {
		return providerConfig(s.url) + endpointConfig(name, s.net, steps, "1h") + releaseConfig(version, waitComplete, 0)
	}
	revisions := func(spec, live int64, hot map[string]knownvalue.Check) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(release, tfjsonpath.New("spec_revision"), knownvalue.Int64Exact(spec)),
			statecheck.ExpectKnownValue(release, tfjsonpath.New("live_spec_revision"), knownvalue.Int64Exact(live)),
			statecheck.ExpectKnownValue(release, tfjsonpath.New("hot_spec_revisions"), knownvalue.MapExact(hot)),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{Config: config("v1", oneStep), ConfigStateChecks: revisions(1, 1, map[string]knownvalue.Check{})},
			{
				Config:            config("v2", threeSteps),
				ConfigStateChecks: revisions(2, 2, map[string]knownvalue.Check{"v1": knownvalue.Int64Exact(1)}),
			},
			{
				// The rollback runs v1 as it was built: revision 1.
				Config:            config("v1", threeSteps),
				ConfigStateChecks: revisions(1, 1, map[string]knownvalue.Check{"v2": knownvalue.Int64Exact(2)}),
			},
		},
	})
}

// TestAccReleaseDigest: the shifter pins the release's image to the digest
// its tag names when the environment is created, shows it as the computed
// digest, and a tag pushed again later changes neither the plan nor what
// runs.
func TestAccReleaseDigest(t *testing.T) {
	reg := imagestest.Serve(t)
	s := startShifterWith(t, awstest.Config(t), "50ms", "1s", "")
	name := randomName()
	release := "ionroller_release.test"
	config := providerConfig(s.url) + endpointConfig(name, s.net, oneStep, noRollbackWindow) + fmt.Sprintf(`
resource "ionroller_release" "test" {
  endpoint = ionroller_endpoint.test.name
  version  = "v1"
  image    = "%s/%s:v1"
  wait_for = "complete"
}
`, reg.Host, name)
	pinned := reg.Push(t, name, "v1")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact("complete")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("digest"), knownvalue.StringExact(pinned)),
				},
			},
			{
				PreConfig: func() { reg.Push(t, name, "v1") },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("digest"), knownvalue.StringExact(pinned)),
				},
			},
		},
	})
}

// TestAccReleaseHeldAfterAbort: a rollout aborted while an apply waits for
// it fails that apply with the event trail; the next plan warns and changes
// nothing; raising retry rolls it out again.
func TestAccReleaseHeldAfterAbort(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	release := "ionroller_release.test"
	config := func(waitFor string, retry int) string {
		return providerConfig(s.url) + endpointConfig(name, s.net, canary, noRollbackWindow) + releaseConfig("v2", waitFor, retry)
	}

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				// The first release of an endpoint goes to 100% once healthy.
				Config: providerConfig(s.url) + endpointConfig(name, s.net, canary, noRollbackWindow) + releaseConfig("v1", waitComplete, 0),
			},
			{
				// v2 stops at the canary step; someone aborts it there.
				PreConfig:   func() { go s.abortAtCanary(t, name) },
				Config:      config(waitComplete, 0),
				ExpectError: regexp.MustCompile(`(?s)The shifter ended the rollout of v2 as aborted.*smoke\s+test\s+failed.*Recent\s+events:.*rollout\.aborted`),
			},
			{
				PreConfig: s.warnings.reset,
				Config:    config(waitComplete, 0),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
					s.warnings.expectWarning(regexp.MustCompile(
						`release v2 of ` + name + ` was aborted: .*smoke test failed.*; live version is v1\. Re-applying does not retry it: raise .retry. or declare another version\.`)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("version"), knownvalue.StringExact("v2")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact("aborted")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("live_version"), knownvalue.StringExact("v1")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("rolled_back_reason"), knownvalue.StringRegexp(regexp.MustCompile("smoke test failed"))),
				},
			},
			{
				// Raising retry rolls v2 out again, to the canary step.
				Config: config(waitHealthy, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(release, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact("paused")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(10)),
				},
			},
		},
	})
}

// abortAtCanary aborts the endpoint's rollout once it waits at its canary
// step, as a person would from the CLI.
func (s *testShifter) abortAtCanary(t *testing.T, endpoint string) {
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v, err := s.client.GetRelease(ctx, endpoint, rollout.Production)
		if err == nil && v.Release.Version == "v2" && v.Status.State == string(rollout.PhasePaused) && v.Status.Verified {
			if _, err := s.client.Act(ctx, endpoint, rollout.Command{Kind: rollout.CommandAbort, Reason: "smoke test failed"}); err != nil {
				t.Errorf("abort: %v", err)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("the rollout of v2 never reached its canary step")
}

// weightWatch records the successive shares of traffic a version gets, as
// the shifter reports them.
type weightWatch struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	seen   []int
}

func (s *testShifter) watchWeights(endpoint, version string) *weightWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &weightWatch{cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		last := 0
		for ctx.Err() == nil {
			if v, err := s.client.GetEndpoint(ctx, endpoint); err == nil {
				if weight := v.Status.Weights[version]; weight != last && v.Status.Verified {
					w.seen, last = append(w.seen, weight), weight
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return w
}

func (w *weightWatch) stop() []int {
	w.cancel()
	w.wg.Wait()
	return w.seen
}

func TestHeldWarning(t *testing.T) {
	state := func(s, reason, live string) releaseResourceModel {
		return releaseResourceModel{
			Endpoint: types.StringValue("web"), Version: types.StringValue("v2"), State: types.StringValue(s),
			RolledBackReason: stringOrNull(reason), LiveVersion: stringOrNull(live),
		}
	}
	for _, tc := range []struct {
		state         releaseResourceModel
		summary, want string
	}{
		{state("rolled_back", "alarm web-5xx entered ALARM", "v1"), "Release v2 of web was rolled back",
			"release v2 of web was rolled back: alarm web-5xx entered ALARM; live version is v1. Re-applying does not retry it: raise `retry` or declare another version."},
		{state("aborted", "", "v1"), "Release v2 of web was aborted",
			"release v2 of web was aborted: no reason recorded; live version is v1. Re-applying does not retry it: raise `retry` or declare another version."},
		{state("failed", "environment never healthy", ""), "Release v2 of web failed",
			"release v2 of web failed: environment never healthy; live version is none. Re-applying does not retry it: raise `retry` or declare another version."},
		{state("complete", "", "v2"), "", ""},
		{state("shifting", "", "v1"), "", ""},
	} {
		summary, detail, held := heldWarning(tc.state)
		if summary != tc.summary || detail != tc.want || held != (tc.want != "") {
			t.Errorf("heldWarning(%s) = %q, %q, %t; want %q, %q", tc.state.State, summary, detail, held, tc.summary, tc.want)
		}
	}
}

// TestAccReleaseWaitRidesOutAShifterRestart: the shifter stops and starts
// again, on the same address and store, while an apply waits for a rollout;
// the apply succeeds once the rollout completes. The rollout waits at its
// canary step for a promote, so the apply cannot finish before the restart.
func TestAccReleaseWaitRidesOutAShifterRestart(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	config := func(version string) string { return s.canaryConfig(name, version, "2m") }
	restarted := make(chan error, 1)

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{Config: config("v1")},
			{
				PreConfig: func() { go func() { restarted <- s.restartAtCanary(t, name) }() },
				Config:    config("v2"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("ionroller_release.test", tfjsonpath.New("state"), knownvalue.StringExact("complete")),
				},
				Check: func(st *terraform.State) error {
					if err := <-restarted; err != nil {
						return err
					}
					return s.checkWeights(map[string]int{"v2": 100})(st)
				},
			},
		},
	})
}

// TestAccReleaseWaitThatGivesUpSaysHowToFollow: the shifter stops while an
// apply waits and is not back before the wait's timeout; the apply fails
// saying the rollout goes on and how to follow it.
func TestAccReleaseWaitThatGivesUpSaysHowToFollow(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	config := func(version string) string { return s.canaryConfig(name, version, "5s") }
	stopped := make(chan error, 1)

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{Config: config("v1")},
			{
				PreConfig: func() {
					go func() {
						if err := s.awaitCanary(name); err != nil {
							stopped <- err
							return
						}
						stopped <- s.close()
					}()
				},
				Config: config("v2"),
				ExpectError: looseSequence("Timed out waiting for release", "shifter unavailable", "connection refused",
					"The release is declared and the shifter goes on rolling it out: follow it with `shifter watch "+name+"` "+
						"(or at "+s.url+"/v1/endpoints/"+name+"/releases/production)."),
			},
			{
				// The shifter comes back; v2 stayed declared, in the shifter
				// and in the state, so there is nothing to plan.
				PreConfig: func() {
					if err := <-stopped; err != nil {
						t.Fatal(err)
					}
					s.start(t)
				},
				Config:   config("v2"),
				PlanOnly: true,
			},
		},
	})
}

// canaryConfig is an endpoint whose rollouts wait at a canary step for a
// promote, and a release of version waiting for its rollout to complete
// for at most updateTimeout.
func (s *testShifter) canaryConfig(name, version, updateTimeout string) string {
	return providerConfig(s.url) + endpointConfig(name, s.net, canary, noRollbackWindow) + fmt.Sprintf(`
resource "ionroller_release" "test" {
  endpoint = ionroller_endpoint.test.name
  version  = %q
  wait_for = "complete"
  timeouts {
    update = %q
  }
}
`, version, updateTimeout)
}

// awaitCanary returns once v2 waits at its canary step.
func (s *testShifter) awaitCanary(endpoint string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		v, err := s.client.GetRelease(ctx, endpoint, rollout.Production)
		if err == nil && v.Release.Version == "v2" && v.Status.State == string(rollout.PhasePaused) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("v2 never waited at its canary step: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// restartAtCanary restarts the shifter once v2 waits at its canary step.
// While the shifter is down its address closes every connection until the
// waiting provider has tried it; once it is up again v2 is promoted.
func (s *testShifter) restartAtCanary(t *testing.T, endpoint string) error {
	if err := s.awaitCanary(endpoint); err != nil {
		return err
	}
	err := s.restart(t, func(addr string) error {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("hold the shifter's address: %w", err)
		}
		defer l.Close()
		if err := l.(*net.TCPListener).SetDeadline(time.Now().Add(time.Minute)); err != nil {
			return err
		}
		conn, err := l.Accept()
		if err != nil {
			return fmt.Errorf("the waiting apply never tried the shifter while it was down: %w", err)
		}
		return conn.Close()
	})
	if err != nil {
		return err
	}
	_, err = s.client.Act(context.Background(), endpoint, rollout.Command{Kind: rollout.CommandPromote})
	return err
}

// TestAccPreviewRetired: a preview release declared retired takes the
// preview route down and expires its environment while it stays in the
// configuration; declaring it again brings it back.
func TestAccPreviewRetired(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	preview := "ionroller_release.preview"
	config := func(retired bool) string {
		endpoint := strings.Replace(endpointConfig(name, s.net, oneStep, noRollbackWindow),
			"    priority     = 10\n", "    priority     = 10\n    preview_host = \"preview."+name+".example.com\"\n    preview_priority = 11\n", 1)
		return providerConfig(s.url) + endpoint + releaseConfig("v1", waitComplete, 0) + fmt.Sprintf(`
resource "ionroller_release" "preview" {
  endpoint = ionroller_endpoint.test.name
  track    = "preview"
  version  = "v2"
  retired  = %t
}
`, retired)
	}
	previewRule := func(want map[string]int) func(*terraform.State) error {
		return func(*terraform.State) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var got map[string]int
			var readErr error
			if poll(ctx, func() (bool, error) {
				got, readErr = s.ruleWeights(ctx, "11")
				if want == nil {
					return readErr != nil && strings.Contains(readErr.Error(), "no rule at priority 11"), nil
				}
				return readErr == nil && fmt.Sprint(got) == fmt.Sprint(want), nil
			}) != nil {
				return fmt.Errorf("the preview rule forwards %v (%v) 30s on, want %v", got, readErr, want)
			}
			return nil
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config(false),
				Check:  resource.ComposeTestCheckFunc(s.checkWeights(map[string]int{"v1": 100}), previewRule(map[string]int{"v2": 100})),
			},
			{
				Config: config(true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(preview, tfjsonpath.New("state"), knownvalue.StringExact(rollout.StateRetired)),
					statecheck.ExpectKnownValue(preview, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(0)),
				},
				Check: resource.ComposeTestCheckFunc(s.checkWeights(map[string]int{"v1": 100}), previewRule(nil), s.checkRetiredEvent(name)),
			},
			{
				Config: config(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				Config: config(false),
				Check:  previewRule(map[string]int{"v2": 100}),
			},
		},
	})
}

// checkRetiredEvent checks the trail says the preview was declared retired.
func (s *testShifter) checkRetiredEvent(endpoint string) func(*terraform.State) error {
	return func(*terraform.State) error {
		events, _, err := s.client.Events(context.Background(), endpoint, 0, 0)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Type == rollout.EventPreviewRetired && strings.Contains(e.Message, "declared retired") {
				return nil
			}
		}
		return fmt.Errorf("no %s event saying the release was declared retired", rollout.EventPreviewRetired)
	}
}

// TestAccReleaseShowsObservedTraffic: beside traffic_percent, the share its
// weight intends, the release's observed_traffic_percent is the share of the
// requests the load balancer counted on its environment (RequestCount, put
// in moto), while its canary step holds for them (policy.observed_traffic).
func TestAccReleaseShowsObservedTraffic(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	release := "ionroller_release.test"
	policy := canary + `
    observed_traffic = { tolerance_percent = 5, max_wait = "1m", interval = "1s" }`
	config := func(version, waitFor string) string {
		return providerConfig(s.url) + endpointConfig(name, s.net, policy, noRollbackWindow) + releaseConfig(version, waitFor, 0)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config("v1", waitComplete),
				ConfigStateChecks: []statecheck.StateCheck{
					// A first release has nothing to split with: nothing counted.
					statecheck.ExpectKnownValue(release, tfjsonpath.New("observed_traffic_percent"), knownvalue.Null()),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("policy").AtMapKey("observed_traffic"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"tolerance_percent": knownvalue.Float64Exact(5), "max_wait": knownvalue.StringExact("1m"),
						"interval": knownvalue.StringExact("1s"), "min_requests": knownvalue.Int64Exact(0), "on_timeout": knownvalue.StringExact(rollout.OnTimeoutProceed),
					})),
				},
			},
			{
				Config: config("v2", waitHealthy),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(10)),
				},
			},
			{
				PreConfig: func() {
					awstest.PutRequests(t, s.aws, s.net.ListenerARN, "v1", 904)
					awstest.PutRequests(t, s.aws, s.net.ListenerARN, "v2", 96)
					s.awaitRelease(t, name, "v2", func(st rollout.ReleaseStatus) bool {
						return st.ObservedTrafficPercent != nil && *st.ObservedTrafficPercent == 9.6
					})
				},
				Config: config("v2", waitHealthy),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(10)),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("observed_traffic_percent"), knownvalue.Float64Exact(9.6)),
				},
			},
		},
	})
}
