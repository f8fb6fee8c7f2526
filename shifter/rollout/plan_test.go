package rollout

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func wantWeights(t *testing.T, w *world, track Track, want map[string]int) {
	t.Helper()
	if got := w.Weights(track); !maps.Equal(got, want) {
		t.Fatalf("%s weights = %v, want %v (events: %+v)", track, got, want, w.last())
	}
}

func wantPhase(t *testing.T, w *world, want Phase) {
	t.Helper()
	if got := w.rollout().Phase; got != want {
		t.Fatalf("phase = %s, want %s (reason %q; events: %+v)", got, want, w.rollout().Reason, w.last())
	}
}

func TestFirstReleaseGoesStraightTo100(t *testing.T) {
	w := newWorld(t, testEndpoint())
	w.release(Production, "v1")

	wantWeights(t, w, Production, map[string]int{"v1": 100})
	wantPhase(t, w, PhaseBaking)
	if n := len(w.EventsOf(EventStepApplied)); n != 0 {
		t.Errorf("first release applied %d intermediate steps, want 0", n)
	}
	w.wait(time.Minute)
	wantPhase(t, w, PhaseBaking)
	w.wait(time.Minute)
	wantPhase(t, w, PhaseComplete)
	if w.State.Production.Stable != w.env("v1").ID {
		t.Errorf("stable = %q, want v1's environment", w.State.Production.Stable)
	}
	if !w.env("v1").HeldFull {
		t.Error("v1 not marked as having held 100%")
	}
}

func TestNewReleaseShiftsStepByStepAfterEachPause(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")

	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	wantPhase(t, w, PhaseShifting)
	w.wait(59 * time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	w.wait(time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})
	w.wait(time.Minute)
	wantWeights(t, w, Production, map[string]int{"v2": 100})
	wantPhase(t, w, PhaseBaking)
	w.wait(2 * time.Minute)
	wantPhase(t, w, PhaseComplete)

	if n := len(w.EventsOf(EventStepApplied)); n != 2 {
		t.Errorf("step.applied events = %d, want 2 (10%%, 50%%)", n)
	}
	v1 := w.env("v1")
	if want := w.Now.Add(time.Hour); !v1.HotUntil.Equal(want) {
		t.Errorf("v1 hot until %v, want %v (completion + retain_previous)", v1.HotUntil, want)
	}
	if w.Writes[Production] != 4 {
		t.Errorf("weight writes = %d, want 4 (v1 100, then 10, 50, 100)", w.Writes[Production])
	}
}

func TestCanaryStepWaitsForPromote(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.Steps = []Step{{Weight: 5}, {Weight: 100}}
	w := live(t, ep, "v1")
	w.release(Production, "v2")

	wantWeights(t, w, Production, map[string]int{"v1": 95, "v2": 5})
	wantPhase(t, w, PhasePaused)
	w.wait(24 * time.Hour)
	wantWeights(t, w, Production, map[string]int{"v1": 95, "v2": 5})
	w.command(CommandPromote)
	wantWeights(t, w, Production, map[string]int{"v2": 100})
	wantPhase(t, w, PhaseBaking)
}

func TestRevertToHotVersionIsOneWriteAndNoNewEnvironment(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	wantPhase(t, w, PhaseComplete)

	writes, created := w.Writes[Production], w.Creates
	w.release(Production, "v1")

	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if n := w.Writes[Production] - writes; n != 1 {
		t.Errorf("weight writes for the rollback = %d, want 1", n)
	}
	if w.Creates != created {
		t.Errorf("rollback created %d environments, want 0", w.Creates-created)
	}
	r := w.rollout()
	if r.Kind != KindRollback || r.Phase != PhaseComplete {
		t.Errorf("rollout = %s %s, want a complete rollback", r.Kind, r.Phase)
	}
	if !w.env("v2").HotUntil.After(w.Now) {
		t.Error("v2 should now be hot for the rollback window")
	}
	if h := HotVersions(w.Now, w.Endpoint, w.State); !RollbackReady(h) || !h[0].Ready || h[0].Healthy != 2 {
		t.Errorf("hot versions = %+v, want v2 ready at full capacity", h)
	}
	// Each completion says what it replaced, which notifications tell
	// apart: v1 first (nothing), v2 over v1, v1 back over v2.
	var replaced []string
	for _, e := range w.EventsOf(EventRolloutComplete) {
		replaced = append(replaced, e.Version+"<"+e.Details["previous"]+" "+e.Details["kind"])
	}
	if want := []string{"v1< deploy", "v2<v1 deploy", "v1<v2 rollback"}; !slices.Equal(replaced, want) {
		t.Errorf("completions = %v, want %v", replaced, want)
	}
}

func TestRollbackScalesAHotEnvironmentUpBeforeTrafficMoves(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.RetainCapacityPercent = 50
	w := live(t, ep, "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	if c := w.env("v1").Capacity; c != 1 {
		t.Fatalf("hot v1 capacity = %d, want 1 (50%% of 2)", c)
	}
	// Its status says so before anyone needs it: not ready, to be scaled up.
	status := DescribeEndpoint(w.Now, ep, w.State)
	if h := status.HotVersions; len(h) != 1 || h[0].Ready || !h[0].ScaleUp || h[0].Capacity != 1 || h[0].FullCapacity != 2 || RollbackReady(h) {
		t.Errorf("hot versions = %+v, want v1 at 1 of 2, to be scaled up, not ready", h)
	}

	// The scale-up takes effect in AWS only after a while: hold it back.
	w.Endpoint = ep
	w.Production = NewDesired(ep, Release{Endpoint: ep.Name, Track: Production, Version: "v1"})
	d := w.plan()
	if len(d.Actions) != 1 || d.Actions[0].Kind != ActionScaleEnvironment || d.Actions[0].Capacity != 2 {
		t.Fatalf("actions = %+v, want one scale of v1 to 2", d.Actions)
	}
	w.Envs[w.env("v1").ID].InService = 1 // still scaling
	d = w.plan()
	for _, a := range d.Actions {
		if a.Kind == ActionSetWeights {
			t.Fatalf("weights moved to v1 before it had its capacity in service: %+v", a)
		}
	}
	w.setCapacity(w.env("v1").ID, 2)
	w.settle()
	wantWeights(t, w, Production, map[string]int{"v1": 100})
}

func TestSupersedeReturnsCanaryToStableThenRollsTheNewVersion(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})

	w.release(Production, "v3")
	if got := w.EventsOf(EventRolloutAborted); len(got) != 1 || !strings.Contains(got[0].Message, "superseded by version v3") {
		t.Fatalf("aborted events = %+v", got)
	}
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v3": 10})
	if w.env("v2") != nil {
		t.Error("v2's unfinished environment still exists")
	}
	if r := w.rollout(); r.Key.Version != "v3" || r.Step != 0 {
		t.Errorf("rollout = %s step %d, want v3 from step 1", r.Key.Version, r.Step+1)
	}
}

func TestRevertDuringCanaryAbortsAndTearsDown(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	created := w.Creates
	w.release(Production, "v1")

	wantWeights(t, w, Production, map[string]int{"v1": 100})
	wantPhase(t, w, PhaseAborted)
	if !strings.Contains(w.rollout().Reason, "reverted to stable version v1") {
		t.Errorf("reason = %q", w.rollout().Reason)
	}
	if w.env("v2") != nil || w.Creates != created {
		t.Error("revert should tear v2 down and create nothing")
	}
}

func TestEnvironmentNeverHealthyFailsWithTrafficUntouched(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.Sick["e2"] = true
	w.release(Production, "v2")
	wantPhase(t, w, PhaseWaitingHealthy)
	w.wait(4 * time.Minute)
	wantPhase(t, w, PhaseWaitingHealthy)
	writes := w.Writes[Production]
	w.wait(time.Minute)

	wantPhase(t, w, PhaseFailed)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	// The one write takes v2 off the route, where it was attached at 0
	// for its health checks, before it is deleted.
	if w.Writes[Production] != writes+1 || !slices.Equal(w.Attached(Production), []string{"v1"}) {
		t.Errorf("after the failure: %d writes, attached %v; want 1 write detaching v2", w.Writes[Production]-writes, w.Attached(Production))
	}
	if w.env("v2") != nil {
		t.Error("failed environment not torn down")
	}
	if h := w.State.Production.Held; h == nil || h.Phase != PhaseFailed {
		t.Fatalf("held = %+v, want the failed release held", h)
	}

	// Declaring the same release again does not retry it; the retry counter does.
	w.release(Production, "v2")
	wantPhase(t, w, PhaseFailed)
	delete(w.Sick, "e3")
	w.retry()
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
}

func TestHotEnvironmentExpiresAfterRetainPrevious(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(4 * time.Minute)
	wantPhase(t, w, PhaseComplete)
	id := w.env("v1").ID

	w.wait(59 * time.Minute)
	if w.env("v1") == nil || w.Envs[id] == nil {
		t.Fatal("v1 deleted inside its rollback window")
	}
	w.wait(time.Minute)
	if w.env("v1") != nil || w.Envs[id] != nil {
		t.Fatal("v1 still exists after its rollback window")
	}
	if n := len(w.EventsOf(EventEnvironmentDeleted)); n != 1 {
		t.Errorf("environment.deleted events = %d, want 1", n)
	}
	// Without a hot environment, going back to v1 is a new gradual rollout.
	w.release(Production, "v1")
	wantWeights(t, w, Production, map[string]int{"v2": 90, "v1": 10})
}

func TestTemplateChangeRollsOutANewEnvironmentForTheSameVersion(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.Endpoint.Template.InstanceType = "t3.large"
	w.release(Production, "v1")

	if len(w.State.Environments) != 2 {
		t.Fatalf("environments = %d, want 2", len(w.State.Environments))
	}
	r := w.rollout()
	if r.Key.Version != "v1" || r.Target == r.From || r.Phase != PhaseShifting {
		t.Errorf("rollout = %+v, want v1 shifting to a new environment", r)
	}
	if e := w.State.Environment(r.Target); e.Template.InstanceType != "t3.large" {
		t.Errorf("new environment instance type = %q", e.Template.InstanceType)
	}
}

func TestPolicyChangeAloneStartsNothing(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.Endpoint.Policy.Steps = []Step{{Weight: 100}}
	w.Endpoint.Policy.BakeTime = 0
	w.release(Production, "v1")
	if len(w.State.Environments) != 1 || w.rollout().ID != 1 {
		t.Errorf("a policy change started a rollout: %+v", w.rollout())
	}
}

func TestAlarmEnteringAlarmRollsBackInOneWrite(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.Alarms = []string{"web-5xx", "web-latency"}
	w := live(t, ep, "v1")
	w.Alarms["web-5xx"], w.Alarms["web-latency"] = "OK", "OK"
	w.release(Production, "v2")
	w.wait(time.Minute)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})

	writes := w.Writes[Production]
	w.Alarms["web-latency"] = "ALARM"
	w.settle()
	wantPhase(t, w, PhaseRolledBack)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if n := w.Writes[Production] - writes; n != 1 {
		t.Errorf("writes for the rollback = %d, want 1", n)
	}
	if h := w.State.Production.Held; h == nil || !strings.Contains(h.Reason, "web-latency") {
		t.Errorf("held = %+v, want the alarm named", h)
	}
	// Re-applying the same configuration does not retry it.
	w.Alarms["web-latency"] = "OK"
	w.release(Production, "v2")
	wantPhase(t, w, PhaseRolledBack)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
}

func TestAlarmAlreadyInAlarmIsReportedAndDoesNotBlockByDefault(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.Alarms = []string{"web-5xx"}
	w := live(t, ep, "v1")
	w.Alarms["web-5xx"] = "ALARM"
	w.release(Production, "v2")
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	if n := len(w.EventsOf(EventAlarmReported)); n != 1 {
		t.Errorf("alarm.reported events = %d, want 1", n)
	}
	// Recovering and entering ALARM again does roll back.
	w.Alarms["web-5xx"] = "OK"
	w.settle()
	w.Alarms["web-5xx"] = "ALARM"
	w.settle()
	wantPhase(t, w, PhaseRolledBack)
}

func TestBlockOnAlarmHoldsTheRolloutUntilTheAlarmClears(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.Alarms = []string{"web-5xx"}
	ep.Policy.BlockOnAlarm = true
	w := live(t, ep, "v1")
	w.Alarms["web-5xx"] = "ALARM"
	w.release(Production, "v2")
	wantPhase(t, w, PhasePending)
	if w.env("v2") != nil {
		t.Fatal("a blocked rollout created an environment")
	}
	w.Alarms["web-5xx"] = "OK"
	w.wait(5 * time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
}

func TestMetricChecksJudgeEachStep(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 5, MaxRatioToStable: 2, MinRequests: 10}
	w := live(t, ep, "v1")
	w.release(Production, "v2")
	w.Metrics["v1"] = Metrics{Requests: 900, Errors5xx: 9}
	w.Metrics["v2"] = Metrics{Requests: 100, Errors5xx: 1}
	w.wait(time.Minute)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})

	w.Metrics["v2"] = Metrics{Requests: 500, Errors5xx: 15} // 3%: under 5%, but 3x stable's 1%
	w.wait(time.Minute)
	wantPhase(t, w, PhaseRolledBack)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if !strings.Contains(w.rollout().Reason, "times the stable version") {
		t.Errorf("reason = %q", w.rollout().Reason)
	}
}

func TestDriftIsRepairedWithAnEvent(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	id := w.env("v1").ID
	w.Routes[Production] = map[string]int{id: 50, "arn:aws:elasticloadbalancing:foreign": 50}
	w.settle()
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if n := len(w.EventsOf(EventDriftRepaired)); n != 1 {
		t.Errorf("drift.repaired events = %d, want 1", n)
	}
}

// A route whose own settings differ from the spec (an NLB listener's
// certificate rotated in the spec) is rewritten with the weights it has, in
// one write and with an event naming the difference; a route like the spec
// is not written at all.
func TestARouteUnlikeTheSpecIsRewrittenWithItsWeights(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	writes := w.Writes[Production]
	w.settle()
	if w.Writes[Production] != writes {
		t.Fatalf("%d writes of a route like the spec", w.Writes[Production]-writes)
	}
	before := maps.Clone(w.Routes[Production])
	w.Unlike[Production] = `certificate "arn:old", want "arn:new"`
	w.settle()
	if got := w.Writes[Production] - writes; got != 1 {
		t.Errorf("%d writes to bring the route to the spec, want 1", got)
	}
	if !maps.Equal(w.Routes[Production], before) {
		t.Errorf("route %v after the rewrite, want the weights it had, %v", w.Routes[Production], before)
	}
	events := w.EventsOf(EventDriftRepaired)
	if len(events) != 1 || !strings.Contains(events[0].Message, "arn:new") {
		t.Errorf("drift.repaired events %v, want one naming the difference", events)
	}
	wantPhase(t, w, PhaseComplete)
	if !w.State.Production.Route.Verified {
		t.Error("the route rewritten like the spec is not verified again")
	}

	// Writes that do not take (AWS refuses the certificate) are tried
	// again on every pass, with no event each time.
	writes = w.Writes[Production]
	w.KeepUnlike, w.Unlike[Production] = true, `certificate "arn:new", want "arn:missing"`
	if _, err := w.Settle(); err == nil {
		t.Error("the planner settled while the route is unlike the spec")
	}
	if got := w.Writes[Production] - writes; got < 3 {
		t.Errorf("%d writes over the passes of a route still unlike the spec, want one a pass", got)
	}
	if n := len(w.EventsOf(EventDriftRepaired)); n != 2 {
		t.Errorf("%d drift.repaired events in all, want 2: one a difference, not one a pass", n)
	}
	if w.State.Production.Route.Verified {
		t.Error("a route unlike the spec reads as verified")
	}
}

func TestMissingServingEnvironmentIsRecreatedAndRoutedOnceHealthy(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	id := w.env("v1").ID
	delete(w.Envs, id)
	w.Sick[id] = true
	w.settle()
	if w.Envs[id] == nil || w.env("v1").Status != EnvProvisioning {
		t.Fatal("missing serving environment not being recreated")
	}
	if n := len(w.EventsOf(EventEnvironmentMissing)); n != 1 {
		t.Errorf("environment.missing events = %d, want 1", n)
	}
	delete(w.Sick, id)
	w.setCapacity(id, 2)
	w.settle()
	if w.env("v1").Status != EnvReady {
		t.Error("recreated environment not ready once healthy")
	}
}

func TestPauseFreezesTimersAndResumeContinues(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(30 * time.Second)
	w.command(CommandPause)
	w.wait(time.Hour)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	w.command(CommandResume)
	w.wait(29 * time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	w.wait(time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})
}

func TestPauseForADurationResumesOnItsOwn(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.command(CommandPause, func(c *Command) { c.For = Duration(10 * time.Minute) })
	w.wait(10 * time.Minute)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	w.wait(time.Minute)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})
}

func TestAbortReturnsTrafficAndHoldsTheRelease(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(time.Minute)
	w.command(CommandAbort, func(c *Command) { c.Reason = "looks wrong" })
	wantPhase(t, w, PhaseAborted)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if !strings.Contains(w.rollout().Reason, "by alice: looks wrong") {
		t.Errorf("reason = %q", w.rollout().Reason)
	}
	w.wait(time.Hour)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
}

func TestRollbackCommandReturnsToTheHotVersion(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	writes := w.Writes[Production]
	w.command(CommandRollback)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if n := w.Writes[Production] - writes; n != 1 {
		t.Errorf("writes = %d, want 1", n)
	}
	// The declared release stays v2 but is held: nothing rolls it out again.
	w.wait(time.Hour)
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if h := w.State.Production.Held; h == nil || h.Key.Version != "v2" || h.Phase != PhaseRolledBack {
		t.Errorf("held = %+v", h)
	}
}

func TestCommandsWithNothingToActOnAreIgnoredWithAnEvent(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.command(CommandPromote)
	w.command(CommandRollback, func(c *Command) { c.To = "v0" })
	if got := w.EventsOf(EventCommand); len(got) != 2 || !strings.Contains(got[1].Message, "v0 has no hot environment") {
		t.Errorf("command events = %+v", got)
	}
}

func TestPreviewGetsItsOwnRouteAndProductionReusesTheEnvironment(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Preview, "v2")
	wantWeights(t, w, Preview, map[string]int{"v2": 100})
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	created := w.Creates

	w.release(Production, "v2")
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	if w.Creates != created {
		t.Error("production built a second environment for v2")
	}
	// A new preview version replaces the preview environment, not production's.
	w.release(Preview, "v3")
	wantWeights(t, w, Preview, map[string]int{"v3": 100})
	if w.env("v2") == nil {
		t.Error("v2 deleted while production shifts to it")
	}
}

func TestDeletedEndpointTearsEverythingDown(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.Endpoint.Deleting = true
	w.settle()
	d := w.plan()
	if !d.Gone || len(w.Envs) != 0 || len(w.Routes) != 0 {
		t.Fatalf("gone = %v, environments %d, routes %d", d.Gone, len(w.Envs), len(w.Routes))
	}
}

func TestDeletedEndpointDoesNotWaitForTheRollbackWindow(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	if w.env("v1") == nil {
		t.Fatal("v1 should be hot")
	}
	w.Endpoint.Deleting = true
	w.settle()
	if d := w.plan(); !d.Gone || len(w.Envs) != 0 {
		t.Fatalf("gone = %v with %d environments left; a deleted endpoint waited for its rollback window", d.Gone, len(w.Envs))
	}
}

func TestCrashBeforeActionsReplaysTheSameDecision(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.Production = NewDesired(w.Endpoint, Release{Endpoint: "web", Track: Production, Version: "v2"})
	// The state is stored, then the shifter dies before any action runs.
	first := Plan(w.Input())
	w.State = first.State
	again := Plan(w.Input())
	if len(again.State.Environments) != 2 {
		t.Fatalf("environments after replay = %d, want 2 (no duplicate)", len(again.State.Environments))
	}
	if len(again.Actions) != 1 || again.Actions[0].Kind != ActionCreateEnvironment || again.Actions[0].Environment != first.Actions[0].Environment {
		t.Fatalf("replayed actions = %+v, want the same create", again.Actions)
	}
}

func TestMetricVerdict(t *testing.T) {
	mc := &MetricChecks{Max5xxPercent: 2, MaxLatency: Duration(300 * time.Millisecond), MaxRatioToStable: 1.5, MinRequests: 20}
	stable := Metrics{Requests: 1000, Errors5xx: 5, AverageLatency: 100 * time.Millisecond}
	for _, tc := range []struct {
		name   string
		target Metrics
		fails  string
	}{
		{"too few requests", Metrics{Requests: 10, Errors5xx: 10}, ""},
		{"healthy", Metrics{Requests: 100, AverageLatency: 120 * time.Millisecond}, ""},
		{"5xx above threshold", Metrics{Requests: 100, Errors5xx: 3}, "5xx rate 3.00%"},
		{"latency above threshold", Metrics{Requests: 100, AverageLatency: time.Second}, "average latency 1s"},
		{"5xx ratio to stable", Metrics{Requests: 100, Errors5xx: 1}, "times the stable version's 0.50%"},
		{"latency ratio to stable", Metrics{Requests: 100, AverageLatency: 200 * time.Millisecond}, "times the stable version's 100ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mc.verdict(tc.target, stable, true)
			if (tc.fails == "") != (got == "") || !strings.Contains(got, tc.fails) {
				t.Errorf("verdict = %q, want %q", got, tc.fails)
			}
		})
	}
}

// The tests below read target health only when the planner asks for it, as
// the reconciler does (world.healthOnAsk).

func TestFirstReleaseIsHealthCheckedAtWeightZeroBeforeItTakesTraffic(t *testing.T) {
	w := newWorld(t, testEndpoint())
	w.HealthOnAsk = true
	w.release(Production, "v1")

	// Attached with no traffic first: one write, on which nothing is read.
	if w.Writes[Production] < 2 || len(w.EventsOf(EventEnvironmentHealthy)) != 1 {
		t.Fatalf("%d writes; want v1 attached at 0 before it was found healthy and routed", w.Writes[Production])
	}
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if w.HealthReads != 1 {
		t.Errorf("health reads = %d, want 1: the one that gated the traffic", w.HealthReads)
	}
}

func TestNewVersionIsAttachedBeforeItIsGatedAndStableStaysAttachedAsHot(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.HealthOnAsk = true
	before := len(w.History[Production])
	w.release(Production, "v2")
	if h := w.History[Production][before:]; len(h) < 2 || h[0][w.env("v1").ID] != 100 || h[0][w.env("v2").ID] != 0 || len(h[0]) != 2 {
		t.Fatalf("writes after the release = %v, want v2 attached at 0 before it gets traffic", h)
	}

	w.wait(10 * time.Minute)
	wantPhase(t, w, PhaseComplete)
	wantWeights(t, w, Production, map[string]int{"v2": 100})
	if got := w.Attached(Production); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("attached = %v, want hot v1 still attached at 0", got)
	}
	// One read gates each move of traffic onto v2: step 1, 50%, 100%.
	if w.HealthReads != 3 {
		t.Errorf("health reads = %d, want 3", w.HealthReads)
	}

	writes := w.Writes[Production]
	w.release(Production, "v1")
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if n := w.Writes[Production] - writes; n != 1 {
		t.Errorf("rollback to hot v1 took %d writes, want 1", n)
	}
	if got := w.Attached(Production); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("after the rollback attached = %v, want v2 hot at 0", got)
	}
}

func TestExpiredEnvironmentLeavesTheRouteBeforeItIsDeleted(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	id := w.env("v1").ID

	// One pass past the window: v1 is detached, not deleted yet.
	w.Now = w.env("v1").HotUntil
	w.plan()
	if _, on := w.Routes[Production][id]; on {
		t.Fatal("v1 still on the route after its window ended")
	}
	if w.Envs[id] == nil {
		t.Fatal("v1 deleted in the pass that detached it, before AWS showed it detached")
	}
	w.settle()
	if w.Envs[id] != nil || w.env("v1") != nil {
		t.Fatal("v1 not deleted once detached")
	}
}

func TestHotVersionsBeyondTheirMaximumExpireOldestFirst(t *testing.T) {
	ep := testEndpoint()
	ep.Policy.MaxHotVersions = new(int)
	*ep.Policy.MaxHotVersions = 2
	w := live(t, ep, "v1")
	for _, v := range []string{"v2", "v3", "v4"} {
		w.release(Production, v)
		w.wait(10 * time.Minute)
		wantPhase(t, w, PhaseComplete)
	}
	if w.env("v1") != nil {
		t.Error("v1 kept: three versions were hot with max_hot_versions = 2")
	}
	if got := w.Attached(Production); !slices.Equal(got, []string{"v2", "v3", "v4"}) {
		t.Errorf("attached = %v, want v4 and the two newest hot versions", got)
	}
	cold := w.EventsOf(EventEnvironmentCold)
	if len(cold) != 1 || cold[0].Version != "v1" {
		t.Errorf("environment.cold events = %+v, want one for v1", cold)
	}
}

// An environment that a pass asks to create and then finds nothing needs
// (its creation never landed, and the release went back) is forgotten in
// that pass with no action left for it: an action on an environment the
// state no longer has could only fail.
func TestAnEnvironmentForgottenInAPassIsLeftNoAction(t *testing.T) {
	w := live(t, testEndpoint(), "v1")
	w.Production = NewDesired(w.Endpoint, Release{Endpoint: w.Endpoint.Name, Track: Production, Version: "v2"})
	w.plan()
	e2 := w.env("v2")
	if e2 == nil || e2.Status != EnvProvisioning {
		t.Fatalf("v2's environment = %+v, want one provisioning", e2)
	}
	delete(w.Envs, e2.ID) // its creation never landed
	w.Production = NewDesired(w.Endpoint, Release{Endpoint: w.Endpoint.Name, Track: Production, Version: "v1"})
	d := Plan(w.Input())
	if d.State.Environment(e2.ID) != nil {
		t.Fatalf("%s is still in the state: %+v", e2.ID, d.State.Environment(e2.ID))
	}
	for _, a := range d.Actions {
		if a.Environment == e2.ID {
			t.Errorf("action %s on %s, which the state no longer has", a.Kind, a.Environment)
		}
	}
}

// observedTrafficEndpoint holds each step until its traffic is within 5
// points of its weights, for at most 2 minutes, reading every 15 seconds.
func observedTrafficEndpoint(onTimeout string) Endpoint {
	ep := testEndpoint()
	ep.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(2 * time.Minute), Interval: Duration(15 * time.Second), OnTimeout: onTimeout}
	return ep
}

func TestObservedTrafficHoldsAStepUntilItFollowsThenRunsItsPause(t *testing.T) {
	w := live(t, observedTrafficEndpoint(""), "v1")
	v1 := w.env("v1").ID
	w.Requests = map[string]float64{v1: 1000} // the old split, still
	w.release(Production, "v2")
	v2 := w.env("v2").ID
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})

	// A minute, the step's pause, passes with the traffic on v1 alone:
	// the step holds, read every 15 seconds.
	w.wait(time.Minute)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	reads := w.TrafficReads
	if reads < 4 {
		t.Errorf("traffic reads in the hold's first minute = %d, want one every 15s", reads)
	}
	o := DescribeEndpoint(w.Now, w.Endpoint, w.State).Rollout.ObservedTraffic
	if o == nil || o.Hold != HoldWaiting || o.Shares["v1"] != 100 || o.Weights["v2"] != 10 || !o.HoldUntil.After(w.Now) {
		t.Fatalf("observed traffic = %+v, want holding with v1 at 100%% beside weight v2=10", o)
	}
	if s := DescribeEndpoint(w.Now, w.Endpoint, w.State).Rollout; !s.NextAt.IsZero() {
		t.Errorf("next step at %v while holding; the pause has not begun", s.NextAt)
	}

	// The traffic follows: the hold ends at the next read, with an
	// event, and the step's pause of a minute begins then.
	w.Requests = map[string]float64{v1: 903, v2: 97}
	w.wait(15 * time.Second)
	followed := w.EventsOf(EventTrafficObserved)
	if len(followed) != 1 || followed[0].Details["outcome"] != HoldFollowed || !strings.Contains(followed[0].Message, "v2 9.7% (weight 10%)") {
		t.Fatalf("traffic.observed events = %+v, want one saying v2 took 9.7%% of its 10%%", followed)
	}
	t.Logf("observed vs intended: %s", followed[0].Message)
	rel := DescribeRelease(w.Now, w.Endpoint, w.State, w.Production)
	if rel.ObservedTrafficPercent == nil || *rel.ObservedTrafficPercent != 9.7 || rel.TrafficPercent != 10 {
		t.Errorf("release traffic = %d%%, observed %v, want 10%% and 9.7%%", rel.TrafficPercent, rel.ObservedTrafficPercent)
	}
	pauseThenNextStep(t, w, map[string]float64{v1: 500, v2: 500})
}

// pauseThenNextStep checks that the first step's pause of a minute began
// when its hold ended (now) and that the next step starts at its end, with
// requests counted from then, and no condition of observed traffic.
func pauseThenNextStep(t *testing.T, w *world, requests map[string]float64) {
	t.Helper()
	w.wait(59 * time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	w.Requests = requests
	w.wait(time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})
	if c := TrafficConditions(w.Endpoint, w.State); len(c) != 0 {
		t.Errorf("conditions at the next step = %+v, want none", c)
	}
}

func TestObservedTrafficThatDoesNotFollowGoesOnAtMaxWaitWithACondition(t *testing.T) {
	w := live(t, observedTrafficEndpoint(OnTimeoutProceed), "v1")
	v1 := w.env("v1").ID
	w.Requests = map[string]float64{v1: 990}
	w.release(Production, "v2")
	v2 := w.env("v2").ID
	w.Requests[v2] = 10 // 1% of the requests for a weight of 10%

	w.wait(2*time.Minute - time.Second)
	if n := len(w.EventsOf(EventTrafficObserved)); n != 0 {
		t.Fatalf("the hold ended before max_wait: %+v", w.EventsOf(EventTrafficObserved))
	}
	w.wait(time.Second)
	ev := w.EventsOf(EventTrafficObserved)
	if len(ev) != 1 || ev[0].Details["outcome"] != HoldNotFollowed || !strings.Contains(ev[0].Message, "v2 1.0% (weight 10%)") ||
		!strings.Contains(ev[0].Message, "the step goes on") {
		t.Fatalf("traffic.observed events = %+v, want one: not following, going on", ev)
	}
	c := TrafficConditions(w.Endpoint, w.State)
	if len(c) != 1 || c[0].Type != TrafficNotFollowing || !slices.Equal(c[0].Names, []string{"v1", "v2"}) || !strings.Contains(c[0].Message, "v2 took 1.0% (weight 10%)") {
		t.Fatalf("conditions = %+v, want traffic_not_following naming v1 and v2", c)
	}
	// The step's pause begins at max_wait; at its end the next step
	// goes on and holds afresh: the condition was the last step's.
	pauseThenNextStep(t, w, map[string]float64{v1: 880, v2: 120})
}

func TestObservedTrafficThatDoesNotFollowPausesWhenThePolicySaysSo(t *testing.T) {
	w := live(t, observedTrafficEndpoint(OnTimeoutPause), "v1")
	w.Requests = map[string]float64{w.env("v1").ID: 1000}
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	s := DescribeEndpoint(w.Now, w.Endpoint, w.State)
	if s.State != string(PhasePaused) || !strings.Contains(w.EventsOf(EventTrafficObserved)[0].Message, "paused until a person resumes") {
		t.Fatalf("state = %s, events %+v; want paused after max_wait", s.State, w.EventsOf(EventTrafficObserved))
	}
	if r := s.Rollout; r.PausedBy != ActorShifter || !strings.Contains(r.PauseReason, "did not follow its weights within 2m0s") {
		t.Errorf("paused by %q (%q), want the shifter, saying why", r.PausedBy, r.PauseReason)
	}
	w.command(CommandResume)
	if r := w.rollout(); r.PausedBy != "" || r.PauseReason != "" {
		t.Errorf("resumed, still paused by %q (%q)", r.PausedBy, r.PauseReason)
	}
	w.wait(time.Minute)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})
}

func TestObservedTrafficWithNoRequestIsACondition(t *testing.T) {
	w := live(t, observedTrafficEndpoint(OnTimeoutPause), "v1")
	w.release(Production, "v2")
	w.wait(2 * time.Minute)
	ev := w.EventsOf(EventTrafficObserved)
	if len(ev) != 1 || ev[0].Details["outcome"] != HoldUnobserved {
		t.Fatalf("traffic.observed events = %+v, want one: unobserved", ev)
	}
	// No request is no evidence against the new version: even a policy
	// that pauses on traffic not following goes on, and says so.
	if s := DescribeEndpoint(w.Now, w.Endpoint, w.State); s.State != string(PhaseShifting) {
		t.Errorf("state = %s, want shifting: an unobserved step does not pause", s.State)
	}
	c := TrafficConditions(w.Endpoint, w.State)
	if len(c) != 1 || c[0].Type != TrafficUnobserved || !strings.Contains(c[0].Message, "no request counted") {
		t.Fatalf("conditions = %+v, want traffic_unobserved", c)
	}
	w.Requests = map[string]float64{w.env("v1").ID: 90, w.env("v2").ID: 10}
	w.wait(time.Minute)
	if c := TrafficConditions(w.Endpoint, w.State); len(c) != 0 {
		t.Errorf("conditions = %+v, want none once requests are counted", c)
	}
}

func TestPromoteEndsAnObservedTrafficHold(t *testing.T) {
	w := live(t, observedTrafficEndpoint(""), "v1")
	w.release(Production, "v2")
	w.wait(30 * time.Second)
	w.command(CommandPromote)
	wantWeights(t, w, Production, map[string]int{"v1": 50, "v2": 50})
}

func TestObservedTrafficIsNotCountedOnARollbackNorAFirstRelease(t *testing.T) {
	w := newWorld(t, observedTrafficEndpoint(""))
	w.release(Production, "v1")
	if w.rollout().Traffic != nil {
		t.Errorf("a first release counts its traffic: %+v", w.rollout().Traffic)
	}
	w.wait(2 * time.Minute)
	w.RequestsFollow = true
	w.release(Production, "v2")
	w.wait(10 * time.Minute)
	wantPhase(t, w, PhaseComplete)
	w.release(Production, "v1") // a revert: v1 is hot
	wantWeights(t, w, Production, map[string]int{"v1": 100})
	if r := w.rollout(); r.Kind != KindRollback || r.Traffic != nil {
		t.Errorf("rollback %s counted its traffic: %+v", r.Kind, r.Traffic)
	}
}

func TestARolloutKeepsASeriesOfItsCanaryAndStableVersion(t *testing.T) {
	ep := observedTrafficEndpoint("")
	ep.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 5, MinRequests: 10}
	w := live(t, ep, "v1")
	v1 := w.env("v1").ID
	w.Requests = map[string]float64{v1: 1000}
	w.release(Production, "v2")
	w.Metrics = map[string]Metrics{"v1": {Errors5xx: 10, AverageLatency: 40 * time.Millisecond}, "v2": {Errors5xx: 2, AverageLatency: 55 * time.Millisecond}}
	w.RequestsFollow = true // 10 requests a point of weight
	w.wait(10 * time.Minute)
	wantPhase(t, w, PhaseComplete)

	series := w.rollout().Series
	if len(series) < 3 {
		t.Fatalf("series of %d points, want one per read: %+v", len(series), series)
	}
	first := series[0]
	if first.Step != 1 || first.Canary.Weight != 10 || first.Stable.Weight != 90 || first.Canary.Requests != 100 ||
		first.Canary.Errors5xx != 2 || first.Canary.LatencyMS != 55 || first.Stable.LatencyMS != 40 || !first.End.After(first.Start) {
		t.Errorf("first point = %+v, want step 1: canary 10%% with 100 requests, 2 5xx, 55ms; stable 90%%, 40ms", first)
	}
	steps := map[int]bool{}
	for i, p := range series {
		steps[p.Step] = true
		if i > 0 && p.End.Before(series[i-1].End) {
			t.Errorf("point %d ends at %v, before the one before it", i, p.End)
		}
	}
	if !steps[1] || !steps[2] || !steps[3] {
		t.Errorf("series covers steps %v, want 1, 2 and the bake (3)", steps)
	}
	if s := DescribeEndpoint(w.Now, w.Endpoint, w.State).Rollout.Series; len(s) != len(series) {
		t.Errorf("status series has %d points, want %d", len(s), len(series))
	}
}

func TestObservedTrafficOfTooFewRequestsIsTakenAsNone(t *testing.T) {
	ep := observedTrafficEndpoint("")
	ep.Policy.ObservedTraffic.MinRequests = 100
	w := live(t, ep, "v1")
	w.release(Production, "v2")
	w.Requests = map[string]float64{w.env("v1").ID: 9, w.env("v2").ID: 1} // 10%, but of 10 requests
	w.wait(2*time.Minute - time.Second)
	wantWeights(t, w, Production, map[string]int{"v1": 90, "v2": 10})
	if r := w.rollout(); r.Traffic.Hold != HoldWaiting {
		t.Fatalf("hold = %q on 10 requests, want holding: fewer than min_requests tell nothing", r.Traffic.Hold)
	}
	w.wait(time.Second)
	ev := w.EventsOf(EventTrafficObserved)
	if len(ev) != 1 || ev[0].Details["outcome"] != HoldUnobserved || !strings.Contains(ev[0].Message, "only 10 requests counted, fewer than min_requests (100)") {
		t.Fatalf("traffic.observed events = %+v, want one: unobserved on too few requests", ev)
	}
	if c := TrafficConditions(w.Endpoint, w.State); len(c) != 1 || c[0].Type != TrafficUnobserved {
		t.Errorf("conditions = %+v, want traffic_unobserved", c)
	}
}
