package rollout

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEachRuleOfDesign3 has a row per rule of DESIGN §3's table: each builds
// the situation the rule names as one Input, plans once, and checks the
// decision the rule demands. Where the property test shows that no history
// breaks the invariants, this shows that each rule does what it says.
func TestEachRuleOfDesign3(t *testing.T) {
	for _, tc := range []struct {
		name  string
		given func(in *Input)
		then  func(t *testing.T, d Decision)
	}{
		{
			name:  "rule 1: no desired release keeps live traffic as it is",
			given: func(in *Input) { withCanary(in, 0, in.Now); in.Production = nil },
			then: func(t *testing.T, d Decision) {
				noWrite(t, d)
				wantNoAction(t, d)
				if r := d.State.Production.Rollout; r.Phase != PhaseShifting || r.Step != 0 {
					t.Errorf("rollout %s step %d, want it left shifting at step 1", r.Phase, r.Step+1)
				}
			},
		},
		{
			name: "rule 2: desired = stable keeps 100% on stable and expires hot environments past their window",
			given: func(in *Input) {
				withHot(in, "e0", "v0", in.Now.Add(-time.Second))
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100}) // e0 leaves the route before it is deleted
				wantStatus(t, d, "e0", EnvDeleting)
				wantEvent(t, d, EventEnvironmentDeleting)
				if d.State.NextRollout != 1 {
					t.Errorf("a rollout started: next rollout %d", d.State.NextRollout)
				}
			},
		},
		{
			name: "rule 3: desired = stable during a canary returns to stable in one write and tears the canary down",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				in.Production = desire(in.Endpoint, "v1")
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100}) // e2 leaves the route: it goes once AWS shows it off
				wantProductionPhase(t, d, PhaseAborted)
				wantCause(t, d, EventRolloutAborted, CauseSuperseded)
				wantNoAction(t, d, ActionCreateEnvironment)
			},
		},
		{
			name: "rule 4: desired is hot moves 100% to it in one write, with no new environment",
			given: func(in *Input) {
				withHot(in, "e0", "v0", in.Now.Add(time.Minute))
				in.Production = desire(in.Endpoint, "v0")
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e0": 100, "e1": 0})
				wantNoAction(t, d, ActionCreateEnvironment)
				if r := d.State.Production.Rollout; r.Kind != KindRollback || r.Target != "e0" {
					t.Errorf("rollout %s to %s, want a rollback to e0", r.Kind, r.Target)
				}
			},
		},
		{
			name: "rule 4: a rollback says it brings back the configuration the hot version was built from",
			given: func(in *Input) {
				withHot(in, "e0", "v0", in.Now.Add(time.Minute))
				in.State.Environments[0].SpecRevision = 5 // e1, live
				in.State.Environments[1].SpecRevision = 3 // e0, hot
				in.Production = desire(in.Endpoint, "v0")
			},
			then: func(t *testing.T, d Decision) {
				e := wantEvent(t, d, EventRolloutStarted)
				if e.Details["spec_revision"] != "3" || e.Details["from_spec_revision"] != "5" ||
					!strings.Contains(e.Message, "with its configuration (spec revision 3, live runs 5)") {
					t.Errorf("rollback event %q %v, want it to name spec revisions 3 and 5", e.Message, e.Details)
				}
				if r := DescribeEndpoint(ruleNow, testEndpoint(), d.State).Rollout; r.SpecRevision != 3 || r.FromSpecRevision != 5 {
					t.Errorf("rollout status spec revision %d from %d, want 3 from 5", r.SpecRevision, r.FromSpecRevision)
				}
			},
		},
		{
			name: "rule 5: desired has no environment: it is recorded, with the spec revision it is built from, then created",
			given: func(in *Input) {
				in.Endpoint.Revision = 7
				in.Production = desire(in.Endpoint, "v2")
			},
			then: func(t *testing.T, d Decision) {
				e := d.State.Environment("e2")
				if e == nil || e.Version != "v2" || e.Status != EnvProvisioning || e.SpecRevision != 7 {
					t.Fatalf("environment e2 = %+v, want v2 provisioning, built from the spec's revision 7", e)
				}
				wantAction(t, d, Action{Kind: ActionCreateEnvironment, Environment: "e2"})
				wantProductionPhase(t, d, PhaseProvisioning)
				noWrite(t, d)
			},
		},
		{
			name: "rule 5, pinning images: it is recorded and its image resolved first; nothing is created by tag",
			given: func(in *Input) {
				in.PinImages = true
				in.Production = desire(in.Endpoint, "v2")
			},
			then: func(t *testing.T, d Decision) {
				e := d.State.Environment("e2")
				if e == nil || e.Status != EnvProvisioning || e.Digest != "" {
					t.Fatalf("environment e2 = %+v, want provisioning, no digest yet", e)
				}
				if !slices.Equal(d.Resolve, []string{e.Image}) {
					t.Errorf("resolve %v, want %s", d.Resolve, e.Image)
				}
				wantNoAction(t, d, ActionCreateEnvironment)
				wantProductionPhase(t, d, PhaseProvisioning)
			},
		},
		{
			name: "rule 5, pinning images: the digest is recorded with the first ask to create",
			given: func(in *Input) {
				in.PinImages = true
				in.Production = desire(in.Endpoint, "v2")
				in.Observed.Digests = map[string]string{in.Production.Release.ImageFor(in.Endpoint): testDigest}
			},
			then: func(t *testing.T, d Decision) {
				if e := d.State.Environment("e2"); e == nil || e.Digest != testDigest {
					t.Fatalf("environment e2 = %+v, want pinned to %s", e, testDigest)
				}
				wantAction(t, d, Action{Kind: ActionCreateEnvironment, Environment: "e2"})
				if e := wantEvent(t, d, EventEnvironmentCreating); e != nil && e.Details["digest"] != testDigest {
					t.Errorf("environment.creating details %v, want the digest", e.Details)
				}
			},
		},
		{
			name: "rule 5, pinning images: an image given by digest is not resolved",
			given: func(in *Input) {
				in.PinImages = true
				in.Production = desire(in.Endpoint, "v2")
				in.Production.Release.Image = "registry.example.com/app:v2@" + testDigest
			},
			then: func(t *testing.T, d Decision) {
				if e := d.State.Environment("e2"); e == nil || e.Digest != testDigest || e.Runs() != "registry.example.com/app@"+testDigest {
					t.Fatalf("environment e2 = %+v, want it to run registry.example.com/app@%s", e, testDigest)
				}
				if len(d.Resolve) > 0 {
					t.Errorf("resolve %v, want none", d.Resolve)
				}
				wantAction(t, d, Action{Kind: ActionCreateEnvironment, Environment: "e2"})
			},
		},
		{
			name: "rule 6: a healthy environment gets the first step",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				r := in.State.Production.Rollout
				r.Phase, r.Step, r.Since = PhaseWaitingHealthy, -1, in.Now.Add(-time.Minute)
				withRoute(in, Production, map[string]int{"e1": 100, "e2": 0})
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 90, "e2": 10})
				wantProductionPhase(t, d, PhaseShifting)
			},
		},
		{
			name: "rule 6: an environment not healthy yet gets no traffic before healthy_timeout",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				r := in.State.Production.Rollout
				r.Phase, r.Step, r.Since = PhaseWaitingHealthy, -1, in.Now.Add(-time.Minute)
				in.Observed.Environments["e2"] = observedHealthy(2, 1)
				withRoute(in, Production, map[string]int{"e1": 100, "e2": 0})
			},
			then: func(t *testing.T, d Decision) {
				noWrite(t, d)
				wantProductionPhase(t, d, PhaseWaitingHealthy)
				if want := ruleNow.Add(5 * time.Second); !d.WakeAt.Equal(want) {
					t.Errorf("wake at %v, want a poll at %v", d.WakeAt, want)
				}
			},
		},
		{
			name: "rule 6: past healthy_timeout the rollout fails with traffic untouched",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				r := in.State.Production.Rollout
				r.Phase, r.Step, r.Since = PhaseWaitingHealthy, -1, in.Now.Add(-in.Endpoint.Policy.HealthyTimeout.D())
				in.State.Environment("e2").Status = EnvProvisioning
				in.Observed.Environments["e2"] = observedHealthy(2, 0)
				withRoute(in, Production, map[string]int{"e1": 100, "e2": 0})
			},
			then: func(t *testing.T, d Decision) {
				wantProductionPhase(t, d, PhaseFailed)
				wantWrite(t, d, Production, map[string]int{"e1": 100}) // e2 only leaves the route
				wantStatus(t, d, "e2", EnvDeleting)
				if h := d.State.Production.Held; h == nil || h.Key.Version != "v2" {
					t.Errorf("held = %+v, want v2 held", h)
				}
			},
		},
		{
			name: "rule 7: a due step whose metrics pass moves to the next step's weights",
			given: func(in *Input) {
				withCanary(in, 0, in.Now.Add(-time.Minute))
				in.Endpoint.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 5, MinRequests: 10}
				in.Observed.Metrics = map[string]Metrics{"e1": {Requests: 900}, "e2": {Requests: 100, Errors5xx: 1}}
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 50, "e2": 50})
				if r := d.State.Production.Rollout; r.Step != 1 || !r.Since.IsZero() {
					t.Errorf("step %d since %v, want step 2 waiting for its verification", r.Step+1, r.Since)
				}
			},
		},
		{
			name: "rule 8: a step with no pause waits for a promote",
			given: func(in *Input) {
				in.Endpoint.Policy.Steps = []Step{{Weight: 5}, {Weight: 100}}
				withCanary(in, 0, in.Now.Add(-24*time.Hour))
			},
			then: func(t *testing.T, d Decision) {
				wantProductionPhase(t, d, PhasePaused)
				wantEvent(t, d, EventRolloutPaused)
				noWrite(t, d)
			},
		},
		{
			name: "rule 9: the last step verified bakes",
			given: func(in *Input) {
				withCanary(in, 2, time.Time{})
				in.State.Production.Route.Verified = false
			},
			then: func(t *testing.T, d Decision) {
				wantProductionPhase(t, d, PhaseBaking)
				wantEvent(t, d, EventRolloutBaking)
				if want := d.State.Production.Rollout.Since.Add(2 * time.Minute); !d.WakeAt.Equal(want) {
					t.Errorf("wake at %v, want the end of the bake %v", d.WakeAt, want)
				}
			},
		},
		{
			name: "rule 9: baked, the rollout completes and the old stable is hot",
			given: func(in *Input) {
				withCanary(in, 2, in.Now.Add(-2*time.Minute))
				in.State.Production.Rollout.Phase = PhaseBaking
			},
			then: func(t *testing.T, d Decision) {
				wantProductionPhase(t, d, PhaseComplete)
				if d.State.Production.Stable != "e2" {
					t.Errorf("stable = %s, want e2", d.State.Production.Stable)
				}
				if e := d.State.Environment("e1"); !e.HotUntil.Equal(ruleNow.Add(time.Hour)) {
					t.Errorf("e1 hot until %v, want now + retain_previous", e.HotUntil)
				}
			},
		},
		{
			name: "rule 10: an alarm entering ALARM while shifting returns 100% to stable in one write",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				in.Endpoint.Policy.Alarms = []string{"web-5xx"}
				in.Observed.Alarms = map[string]string{"web-5xx": AlarmStateAlarm}
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100})
				wantProductionPhase(t, d, PhaseRolledBack)
				wantCause(t, d, EventRolloutRolledBack, CauseAlarm)
			},
		},
		{
			name: "rule 10: metrics failing in the middle of a pause roll back at once, without waiting for its end",
			given: func(in *Input) {
				withCanary(in, 0, in.Now.Add(-90*time.Second)) // a 5-minute pause, 90 s in
				in.Endpoint.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 5, MinRequests: 10}
				in.Observed.Metrics = map[string]Metrics{"e1": {Requests: 900}, "e2": {Requests: 100, Errors5xx: 20}}
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100})
				wantCause(t, d, EventRolloutRolledBack, CauseMetric)
			},
		},
		{
			name: "rule 10: a canary waiting for a promote is judged every interval, and passing metrics leave it waiting",
			given: func(in *Input) {
				in.Endpoint.Policy.Steps = []Step{{Weight: 10}, {Weight: 100}}
				withCanary(in, 0, in.Now.Add(-90*time.Second))
				in.State.Production.Rollout.Phase = PhasePaused
				in.Endpoint.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 5, MinRequests: 10, Interval: Duration(30 * time.Second)}
				in.Observed.Metrics = map[string]Metrics{"e1": {Requests: 900}, "e2": {Requests: 100, Errors5xx: 1}}
			},
			then: func(t *testing.T, d Decision) {
				if len(d.Actions) != 0 {
					t.Errorf("actions %v, want none", d.Actions)
				}
				r := d.State.Production.Rollout
				if r.Phase != PhasePaused || !r.JudgedAt.Equal(ruleNow) || !d.WakeAt.Equal(ruleNow.Add(30*time.Second)) {
					t.Errorf("rollout %s judged at %v, wake at %v; want paused, judged now, woken in 30s", r.Phase, r.JudgedAt, d.WakeAt)
				}
				if want := "1.00% 5xx of 100 requests, 0s average: passing"; r.Judged != want {
					t.Errorf("judged %q, want %q", r.Judged, want)
				}
				if e := wantEvent(t, d, EventMetricsJudged); e != nil && !strings.HasSuffix(e.Message, r.Judged) {
					t.Errorf("metrics.judged %q, want it to say %q", e.Message, r.Judged)
				}
			},
		},
		{
			name: "rule 10: a policy alarm that does not exist holds the rollout at the end of its step",
			given: func(in *Input) {
				withCanary(in, 1, in.Now.Add(-time.Minute))
				in.Endpoint.Policy.Alarms = []string{"web-5xx", "web-latency"}
				in.Observed.Alarms = map[string]string{"web-5xx": "OK"}
			},
			then: func(t *testing.T, d Decision) {
				if len(d.Actions) != 0 {
					t.Errorf("actions %v, want none: the step must not go on", d.Actions)
				}
				if r := d.State.Production.Rollout; r.Step != 1 || r.Phase != PhaseShifting {
					t.Errorf("rollout at step %d %s, want step 1 shifting", r.Step, r.Phase)
				}
			},
		},
		{
			name: "rule 10: with proceed_without_alarms a missing alarm does not hold the rollout",
			given: func(in *Input) {
				withCanary(in, 1, in.Now.Add(-time.Minute))
				in.Endpoint.Policy.Alarms = []string{"web-5xx", "web-latency"}
				in.Endpoint.Policy.ProceedWithoutAlarms = true
				in.Observed.Alarms = map[string]string{"web-5xx": "OK"}
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 0, "e2": 100}) // the next step; e1 stays attached, hot
			},
		},
		{
			name: "rule 10: a metric check failing at the end of a step returns 100% to stable in one write",
			given: func(in *Input) {
				withCanary(in, 1, in.Now.Add(-time.Minute))
				in.Endpoint.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 5, MinRequests: 10}
				in.Observed.Metrics = map[string]Metrics{"e1": {Requests: 900}, "e2": {Requests: 100, Errors5xx: 20}}
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100})
				wantProductionPhase(t, d, PhaseRolledBack)
				wantCause(t, d, EventRolloutRolledBack, CauseMetric)
			},
		},
		{
			name: "rule 11: another version during a canary returns the canary's share to stable, then rolls the new one",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				in.Production = desire(in.Endpoint, "v3")
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100})
				wantCause(t, d, EventRolloutAborted, CauseSuperseded)
				if r := d.State.Production.Rollout; r.Key.Version != "v3" || r.Phase != PhaseProvisioning {
					t.Errorf("rollout of %s %s, want v3 provisioning", r.Key.Version, r.Phase)
				}
				wantAction(t, d, Action{Kind: ActionCreateEnvironment, Environment: "e3"})
			},
		},
		{
			name: "rule 12: promote moves to the next step now",
			given: func(in *Input) {
				in.Endpoint.Policy.Steps = []Step{{Weight: 5}, {Weight: 100}}
				withCanary(in, 0, in.Now.Add(-time.Hour))
				in.State.Production.Rollout.Phase = PhasePaused
				withCommand(in, Command{Kind: CommandPromote})
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e2": 100, "e1": 0})
			},
		},
		{
			name: "rule 12: pause freezes a step that is due",
			given: func(in *Input) {
				withCanary(in, 0, in.Now.Add(-time.Hour))
				withCommand(in, Command{Kind: CommandPause})
			},
			then: func(t *testing.T, d Decision) {
				noWrite(t, d)
				if r := d.State.Production.Rollout; !r.PausedAt.Equal(ruleNow) || r.Step != 0 {
					t.Errorf("rollout paused at %v at step %d, want paused now at step 1", r.PausedAt, r.Step+1)
				}
			},
		},
		{
			name: "rule 12: resume lets a paused step that is due go on",
			given: func(in *Input) {
				withCanary(in, 0, in.Now.Add(-time.Hour))
				in.State.Production.Rollout.PausedAt = in.Now.Add(-time.Hour)
				withCommand(in, Command{Kind: CommandResume})
			},
			then: func(t *testing.T, d Decision) {
				wantEvent(t, d, EventRolloutResumed)
				noWrite(t, d) // the timer resumes where it was frozen: the step's minute is still to come
				if r := d.State.Production.Rollout; !r.PausedAt.IsZero() || !r.Since.Equal(ruleNow) {
					t.Errorf("rollout paused at %v since %v, want running, its step's clock where it stopped", r.PausedAt, r.Since)
				}
			},
		},
		{
			name: "rule 12: abort returns 100% to stable in one write, as rule 10",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				withCommand(in, Command{Kind: CommandAbort})
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100})
				wantProductionPhase(t, d, PhaseAborted)
				wantCause(t, d, EventRolloutAborted, CauseOperator)
				if h := d.State.Production.Held; h == nil || h.Phase != PhaseAborted {
					t.Errorf("held = %+v, want v2 held as aborted", h)
				}
			},
		},
		{
			name: "rule 12: rollback returns to the hot version in one write and holds the declared release",
			given: func(in *Input) {
				withHot(in, "e0", "v0", in.Now.Add(time.Minute))
				withCommand(in, Command{Kind: CommandRollback})
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e0": 100, "e1": 0})
				if h := d.State.Production.Held; h == nil || h.Key.Version != "v1" || h.Phase != PhaseRolledBack {
					t.Errorf("held = %+v, want v1 held as rolled back", h)
				}
			},
		},
		{
			name: "rule 13: weights changed outside the shifter are rewritten, with an event",
			given: func(in *Input) {
				in.Observed.Routes[Production] = RouteObservation{Exists: true, Weights: map[string]int{"e1": 50, "arn:foreign": 50}}
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 100})
				wantEvent(t, d, EventDriftRepaired)
			},
		},
		{
			name:  "rule 13: a serving environment deleted outside the shifter is recreated, with an event",
			given: func(in *Input) { in.Observed.Environments["e1"] = EnvObservation{} },
			then: func(t *testing.T, d Decision) {
				wantAction(t, d, Action{Kind: ActionCreateEnvironment, Environment: "e1"})
				wantStatus(t, d, "e1", EnvProvisioning)
				wantEvent(t, d, EventEnvironmentMissing)
			},
		},
		{
			name: "rule 13: an environment scaled outside the shifter is scaled back, with an event",
			given: func(in *Input) {
				e := in.State.Environment("e1")
				e.Health.Capacity = e.Capacity // as last observed
				o := in.Observed.Environments["e1"]
				o.Capacity = 5
				in.Observed.Environments["e1"] = o
			},
			then: func(t *testing.T, d Decision) {
				wantAction(t, d, Action{Kind: ActionScaleEnvironment, Environment: "e1", Capacity: d.State.Environment("e1").Capacity})
				wantEvent(t, d, EventEnvironmentRescaled)
				if len(writes(d, Production)) > 0 {
					t.Error("a capacity change outside the shifter moved traffic")
				}
			},
		},
		{
			name: "rule 13: a capacity the shifter's own scale has not reached is not a change outside",
			given: func(in *Input) {
				e := in.State.Environment("e1")
				e.Health.Capacity = e.Capacity - 1 // the scale to e.Capacity is on its way, or failed
				o := in.Observed.Environments["e1"]
				o.Capacity = e.Capacity - 1
				in.Observed.Environments["e1"] = o
			},
			then: func(t *testing.T, d Decision) {
				for _, ev := range d.Events {
					if ev.Type == EventEnvironmentRescaled {
						t.Errorf("a rescaled event for the shifter's own scale: %s", ev.Message)
					}
				}
				for _, a := range d.Actions {
					if a.Kind == ActionScaleEnvironment {
						t.Errorf("scaled again: %+v", a)
					}
				}
			},
		},
		{
			name: "rule 13: a stable environment rebuilt after its rule was lost too is attached at weight 0 until healthy, unverified",
			given: func(in *Input) {
				e := in.State.Environment("e1")
				e.Status = EnvProvisioning // recreated after it went missing
				in.Observed.Environments["e1"] = EnvObservation{Exists: true, Capacity: 2, InService: 2}
				in.Observed.Routes[Production] = RouteObservation{} // the rule is gone
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e1": 0})
				wantEvent(t, d, EventDriftRepaired)
				if d.State.Production.Route.Verified {
					t.Error("the route is still verified, though its rule is gone")
				}
			},
		},
		{
			name: "first release: a healthy environment goes straight to 100%",
			given: func(in *Input) {
				withCanary(in, 0, in.Now)
				in.State.Environments = in.State.Environments[1:] // no e1: nothing was ever live
				delete(in.Observed.Environments, "e1")
				ts := &in.State.Production
				ts.Stable, ts.Rollout.From = "", ""
				ts.Rollout.Phase, ts.Rollout.Step, ts.Rollout.Since = PhaseWaitingHealthy, -1, in.Now
				withRoute(in, Production, map[string]int{"e2": 0})
				in.Observed.Routes[Production] = RouteObservation{Weights: map[string]int{"e2": 0}} // its standby rule
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Production, map[string]int{"e2": 100})
			},
		},
		{
			name: "preview: its environment gets 100% of the preview route once healthy, production untouched",
			given: func(in *Input) {
				in.Preview = desire(in.Endpoint, "v2")
				in.State.Environments = append(in.State.Environments, ruleEnv(in.Endpoint, "e2", "v2"))
				in.Observed.Environments["e2"] = observedHealthy(2, 2)
				in.Observed.Routes[Preview] = RouteObservation{Weights: map[string]int{"e2": 0}}
			},
			then: func(t *testing.T, d Decision) {
				wantWrite(t, d, Preview, map[string]int{"e2": 100})
				if w := writes(d, Production); len(w) > 0 {
					t.Errorf("production written: %v", w)
				}
			},
		},
		{
			name:  "preview: removing its release deletes the preview route and expires its environment",
			given: withPreviewLive,
			then:  previewRetired(reasonPreviewRemoved),
		},
		{
			name: "preview: declaring its release retired deletes the preview route and expires its environment",
			given: func(in *Input) {
				withPreviewLive(in)
				in.Preview = NewDesired(in.Endpoint, Release{Endpoint: in.Endpoint.Name, Track: Preview, Version: "v2", Retired: true})
			},
			then: previewRetired(reasonPreviewDeclaredRetired),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := steady()
			tc.given(&in)
			d := Plan(in)
			tc.then(t, d)
			if t.Failed() {
				t.Logf("actions %+v\nevents %+v", d.Actions, d.Events)
			}
		})
	}
}

var ruleNow = t0.Add(24 * time.Hour)

// steady is the situation every row starts from: v1 (e1) live and stable on
// production, as a completed first release leaves it.
func steady() Input {
	ep := testEndpoint()
	v1 := desire(ep, "v1")
	e1 := ruleEnv(ep, "e1", "v1")
	e1.HeldFull = true
	route := map[string]int{"e1": 100}
	return Input{
		Now:        ruleNow,
		Endpoint:   ep,
		Production: v1,
		Poll:       5 * time.Second,
		State: State{
			Endpoint:        ep.Name,
			Environments:    []Environment{e1},
			NextEnvironment: 1,
			NextRollout:     1,
			Production: TrackState{
				Stable: "e1",
				Route:  Route{Weights: route, Verified: true},
				Rollout: &Rollout{ID: 1, Kind: KindDeploy, Key: v1.Key, Target: "e1", Steps: []Step{{Weight: 100}},
					Phase: PhaseComplete, Step: 0, StartedAt: t0, EndedAt: t0},
			},
		},
		Observed: Observed{
			Environments: map[string]EnvObservation{"e1": observedHealthy(2, 2)},
			Routes:       map[Track]RouteObservation{Production: {Exists: true, Weights: maps.Clone(route)}},
		},
	}
}

// withCanary puts a rollout of v2 (e2, healthy) from e1 at step i of the
// policy, its weights written and read back, verified at since.
func withCanary(in *Input, i int, since time.Time) {
	in.Production = desire(in.Endpoint, "v2")
	in.State.Environments = append(in.State.Environments, ruleEnv(in.Endpoint, "e2", "v2"))
	in.Observed.Environments["e2"] = observedHealthy(2, 2)
	in.State.NextEnvironment, in.State.NextRollout = 2, 2
	steps := in.Endpoint.Policy.Steps
	in.State.Production.Rollout = &Rollout{ID: 2, Kind: KindDeploy, Key: in.Production.Key, Target: "e2", From: "e1",
		Steps: steps, Phase: PhaseShifting, Step: i, Since: since, StartedAt: in.Now.Add(-time.Hour)}
	w := steps[i].Weight
	withRoute(in, Production, map[string]int{"e1": 100 - w, "e2": w})
}

// withHot adds a previous production version, hot until until, attached to the
// production route at weight 0.
func withHot(in *Input, id, version string, until time.Time) {
	e := ruleEnv(in.Endpoint, id, version)
	e.HeldFull, e.HotUntil = true, until
	in.State.Environments = append(in.State.Environments, e)
	in.Observed.Environments[id] = observedHealthy(2, 2)
	withRoute(in, Production, map[string]int{"e1": 100, id: 0})
}

// withRoute makes weights the track's route, as written and read back.
func withRoute(in *Input, track Track, weights map[string]int) {
	in.State.Track(track).Route = Route{Weights: weights, Verified: true}
	in.Observed.Routes[track] = RouteObservation{Exists: true, Weights: maps.Clone(weights)}
}

// withCommand queues a person's command after those applied.
func withCommand(in *Input, c Command) {
	c.Endpoint, c.Seq, c.Actor, c.Time = in.Endpoint.Name, in.State.CommandSeq+1, "alice", in.Now
	in.Commands = append(in.Commands, c)
}

func desire(ep Endpoint, version string) *Desired {
	return NewDesired(ep, Release{Endpoint: ep.Name, Track: Production, Version: version})
}

// ruleEnv is a ready environment of version at the template's capacity.
func ruleEnv(ep Endpoint, id, version string) Environment {
	d := desire(ep, version)
	template := ep.Template
	return Environment{ID: id, Version: version, TemplateHash: d.Key.TemplateHash, Image: d.Release.ImageFor(ep),
		Template: &template, Status: EnvReady, Capacity: template.DesiredCapacity, CreatedAt: t0}
}

// observedHealthy is an environment observed with its capacity in service
// and healthy targets among it, its target health read in this pass.
func observedHealthy(capacity, healthy int) EnvObservation {
	return EnvObservation{Exists: true, Capacity: capacity, InService: capacity, HealthRead: true,
		TargetHealth: TargetHealth{Targets: capacity, Healthy: healthy, Unhealthy: capacity - healthy}}
}

func writes(d Decision, track Track) []map[string]int {
	var out []map[string]int
	for _, a := range d.Actions {
		if a.Kind == ActionSetWeights && a.Track == track {
			out = append(out, a.Weights)
		}
	}
	return out
}

// wantWrite checks that the decision writes the track's weights once, as
// want.
func wantWrite(t *testing.T, d Decision, track Track, want map[string]int) {
	t.Helper()
	if w := writes(d, track); len(w) != 1 || !maps.Equal(w[0], want) {
		t.Errorf("%s writes %v, want one write of %v", track, w, want)
	}
}

func noWrite(t *testing.T, d Decision) {
	t.Helper()
	for _, track := range Tracks {
		if w := writes(d, track); len(w) > 0 {
			t.Errorf("%s writes %v, want none", track, w)
		}
	}
}

func wantAction(t *testing.T, d Decision, want Action) {
	t.Helper()
	if !slices.ContainsFunc(d.Actions, func(a Action) bool { return a.Kind == want.Kind && a.Environment == want.Environment }) {
		t.Errorf("actions %+v, want %s of %s", d.Actions, want.Kind, want.Environment)
	}
}

// wantNoAction checks that the decision has no action of the kinds given,
// or none at all.
func wantNoAction(t *testing.T, d Decision, kinds ...ActionKind) {
	t.Helper()
	for _, a := range d.Actions {
		if len(kinds) == 0 || slices.Contains(kinds, a.Kind) {
			t.Errorf("action %+v, want none of %v", a, kinds)
		}
	}
}

func wantProductionPhase(t *testing.T, d Decision, want Phase) {
	t.Helper()
	if r := d.State.Production.Rollout; r.Phase != want {
		t.Errorf("production rollout %s, want %s (reason %q)", r.Phase, want, r.Reason)
	}
}

func wantStatus(t *testing.T, d Decision, id string, want EnvStatus) {
	t.Helper()
	if e := d.State.Environment(id); e == nil || e.Status != want {
		t.Errorf("environment %s = %+v, want %s", id, e, want)
	}
}

func wantEvent(t *testing.T, d Decision, typ string) *Event {
	t.Helper()
	for i := range d.Events {
		if d.Events[i].Type == typ {
			return &d.Events[i]
		}
	}
	t.Errorf("no %s event", typ)
	return nil
}

// withPreviewLive has version v2 (environment e2) serving the preview
// route.
func withPreviewLive(in *Input) {
	in.State.Environments = append(in.State.Environments, ruleEnv(in.Endpoint, "e2", "v2"))
	in.Observed.Environments["e2"] = observedHealthy(2, 2)
	in.State.Preview.Stable = "e2"
	withRoute(in, Preview, map[string]int{"e2": 100})
}

// previewRetired checks a decision that retires the preview for why.
func previewRetired(why string) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		wantAction(t, d, Action{Kind: ActionDeleteRoute, Track: Preview})
		if e := wantEvent(t, d, EventPreviewRetired); e != nil && !strings.Contains(e.Message, why) {
			t.Errorf("preview.retired %q, want it to say %q", e.Message, why)
		}
		if ts := d.State.Preview; ts.Stable != "" || len(ts.Route.Weights) != 0 {
			t.Errorf("preview track %+v, want no stable and no route", ts)
		}
		if w := writes(d, Production); len(w) > 0 {
			t.Errorf("production written: %v", w)
		}
	}
}

func wantCause(t *testing.T, d Decision, typ, cause string) {
	t.Helper()
	if e := wantEvent(t, d, typ); e != nil && e.Details["cause"] != cause {
		t.Errorf("%s cause %q, want %q", typ, e.Details["cause"], cause)
	}
}

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
