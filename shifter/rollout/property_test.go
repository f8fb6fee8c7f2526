package rollout

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestInvariantsHoldUnderRandomHistories drives the planner through random
// histories (new releases, template changes, time, health changes, alarms,
// drift, operator commands, crashes between storing a decision and acting on
// it) and checks DESIGN §4 invariants 1–4 after every pass.
func TestInvariantsHoldUnderRandomHistories(t *testing.T) {
	sequences, ops := 400, 60
	if testing.Short() {
		sequences = 50
	}
	for seed := range uint64(sequences) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x10e0))
			ep := testEndpoint()
			ep.Policy.Alarms = []string{"web-5xx"}
			ep.Policy.RetainCapacityPercent = rng.IntN(3) * 50
			maxHot := rng.IntN(4)
			ep.Policy.MaxHotVersions = &maxHot
			if rng.IntN(2) == 0 {
				ep.Policy.Steps = []Step{{Weight: 20}, {Weight: 60, Pause: DurationPtr(time.Minute)}, {Weight: 100}}
			}
			if seed%3 == 0 {
				// Steps hold for their traffic, which follows the
				// weights in half of these histories and is never
				// counted in the others.
				ep.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(2 * time.Minute), OnTimeout: OnTimeouts[(seed/3)%2]}
			}
			w := newWorld(t, ep)
			w.RequestsFollow = seed%2 == 0
			w.check = checkInvariants
			w.Poll = 30 * time.Second
			w.HealthOnAsk = seed%2 == 1
			for i := range ops {
				op := randomOp(rng, w)
				t.Logf("op %d at %s: %s", i, w.Now.Format(time.TimeOnly), op)
			}
		})
	}
}

// randomOp changes the world at random and returns what it did.
func randomOp(rng *rand.Rand, w *world) string {
	versions := []string{"v1", "v2", "v3", "v4"}
	switch n := rng.IntN(100); {
	case n < 20:
		v := versions[rng.IntN(len(versions))]
		w.release(Production, v)
		return "release " + v
	case n < 25:
		v := versions[rng.IntN(len(versions))]
		w.release(Preview, v)
		return "preview " + v
	case n < 28:
		w.Endpoint.Template.InstanceType = []string{"t3.micro", "t3.small"}[rng.IntN(2)]
		if w.Production != nil {
			w.release(Production, w.Production.Release.Version)
		}
		return "template " + w.Endpoint.Template.InstanceType
	case n < 47:
		d := time.Duration(rng.IntN(1800)) * time.Second
		w.wait(d)
		return "wait " + d.String()
	case n < 50:
		w.wait(2 * time.Hour) // past every rollback window
		return "wait 2h"
	case n < 60:
		id, s := w.randomEnv(rng)
		if s == nil {
			return "no environment to make sick"
		}
		w.Sick[id] = !w.Sick[id]
		if w.Sick[id] {
			s.Healthy = 0
		} else {
			s.Healthy = s.InService
		}
		w.settle()
		return fmt.Sprintf("%s sick=%v", id, w.Sick[id])
	case n < 65:
		w.Alarms["web-5xx"] = []string{"OK", AlarmStateAlarm}[rng.IntN(2)]
		w.settle()
		return "alarm " + w.Alarms["web-5xx"]
	case n < 70:
		if r := w.Routes[Production]; r != nil {
			w.Routes[Production] = map[string]int{"arn:aws:elasticloadbalancing:foreign": 100}
		}
		w.settle()
		return "drift"
	case n < 80:
		kinds := []CommandKind{CommandPromote, CommandPause, CommandResume, CommandAbort, CommandRollback, CommandOverride, CommandLift}
		k := kinds[rng.IntN(len(kinds))]
		if k != CommandOverride {
			w.command(k)
			return "command " + string(k)
		}
		version := "v1"
		if id, _ := w.randomEnv(rng); id != "" {
			version = w.State.Environment(id).Version
		}
		lasts := time.Duration(1+rng.IntN(90)) * time.Minute
		w.command(k, func(c *Command) { c.To, c.For, c.Reason = version, Duration(lasts), "property test" })
		return fmt.Sprintf("override to %s for %s", version, lasts)
	case n < 90:
		// Crash: the decision is stored, its actions never run.
		d := Plan(w.Input())
		w.State = d.State
		w.Events = append(w.Events, d.Events...)
		w.settle()
		return fmt.Sprintf("crash dropping %d actions", len(d.Actions))
	default:
		w.release(Production, "v1")
		return "revert to v1"
	}
}

func (w *world) randomEnv(rng *rand.Rand) (string, *SimEnv) {
	if len(w.State.Environments) == 0 {
		return "", nil
	}
	id := w.State.Environments[rng.IntN(len(w.State.Environments))].ID
	return id, w.Envs[id]
}

// checkInvariants asserts DESIGN §4 invariants 1–4 of one planner pass, and
// that the planner is deterministic.
func checkInvariants(w *world, in Input, d Decision) {
	t := w.t
	t.Helper()
	if again := Plan(in); !reflect.DeepEqual(again, d) {
		t.Fatalf("planner is not deterministic:\n%+v\n%+v", d, again)
	}
	ids := map[string]*Environment{}
	for i := range d.State.Environments {
		ids[d.State.Environments[i].ID] = &d.State.Environments[i]
	}
	// 1. Weights sum to 100 and name only the endpoint's environments; a
	// route of zeros only carries no traffic yet.
	checkRoute := func(what string, weights map[string]int) {
		sum := 0
		for id, wt := range weights {
			if ids[id] == nil {
				t.Fatalf("invariant 1: %s routes to %q, not an environment of the endpoint", what, id)
			}
			if wt < 0 || wt > 100 {
				t.Fatalf("invariant 1: %s weight %d", what, wt)
			}
			sum += wt
		}
		if sum != 100 && sum != 0 {
			t.Fatalf("invariant 1: %s weights %v sum to %d", what, weights, sum)
		}
	}
	for _, track := range Tracks {
		checkRoute(string(track)+" route", d.State.Track(track).Route.Weights)
	}
	for _, a := range d.Actions {
		switch a.Kind {
		case ActionSetWeights:
			checkRoute("a weight write", a.Weights)
			// 2 and 3. Traffic only moves to healthy environments with their capacity in service.
			live := in.Observed.Routes[a.Track].Weights
			for id, wt := range a.Weights {
				if wt <= live[id] {
					continue
				}
				o, e := in.Observed.Environments[id], ids[id]
				need := max(1, (e.Capacity*w.Endpoint.Policy.MinHealthyPercent+99)/100)
				if !o.Exists || o.InService < e.Capacity || o.Capacity < e.Capacity || o.Healthy < need {
					t.Fatalf("invariants 2/3: %d%% moved to %s, observed %+v, capacity %d", wt, id, o, e.Capacity)
				}
			}
		case ActionDeleteEnvironment:
			// 4. Nothing serving, nothing a rollout needs, nothing inside its rollback window is deleted;
			// and nothing still on a route, which would lose its health checks (and AWS refuses).
			id := a.Environment
			e := ids[id]
			for _, track := range Tracks {
				if _, on := in.Observed.Routes[track].Weights[id]; on {
					t.Fatalf("invariant 4: deleting %s while the %s route still has it", id, track)
				}
				ts := d.State.Track(track)
				if ts.Route.Weights[id] > 0 || in.Observed.Routes[track].Weights[id] > 0 || ts.Stable == id {
					t.Fatalf("invariant 4: deleting %s, which serves %s", id, track)
				}
				if r := ts.Rollout; r.Active() && r.Target == id {
					t.Fatalf("invariant 4: deleting %s, the target of a rollout in flight", id)
				}
			}
			if e.HeldFull && in.Now.Before(e.HotUntil) {
				t.Fatalf("invariant 4: deleting %s inside its rollback window (until %v)", id, e.HotUntil)
			}
		}
	}
	// 8. Whatever may get traffic is attached to its route, at weight 0 if it carries none: the
	// stable and serving environments, a rollout's target once it exists, and on production every
	// version inside its rollback window.
	for _, track := range Tracks {
		ts := d.State.Track(track)
		if in.Endpoint.Deleting || len(ts.Route.Weights) == 0 {
			continue
		}
		for id, e := range ids {
			target := ts.Rollout.Active() && ts.Rollout.Target == id && (e.Status == EnvReady || in.Observed.Environments[id].Exists)
			hot := track == Production && e.Status == EnvReady && e.HeldFull && id != ts.Stable && in.Now.Before(e.HotUntil)
			if _, on := ts.Route.Weights[id]; !on && (id == ts.Stable || target || hot) {
				t.Fatalf("invariant 8: %s may get %s traffic but is not on the route %v", id, track, ts.Route.Weights)
			}
		}
	}
	hot := 0
	for id, e := range ids {
		if e.Status == EnvReady && e.HeldFull && id != d.State.Production.Stable && in.Now.Before(e.HotUntil) {
			hot++
		}
	}
	if hot > in.Endpoint.Policy.HotVersions() {
		t.Fatalf("%d versions hot, more than max_hot_versions %d", hot, in.Endpoint.Policy.HotVersions())
	}
	// An environment leaves the state only once AWS shows it gone.
	for _, e := range in.State.Environments {
		if ids[e.ID] == nil && !in.Observed.Environments[e.ID].Gone {
			t.Fatalf("environment %s forgotten while it still exists in AWS", e.ID)
		}
	}
}
