package rollout

import (
	"slices"
	"time"
)

// Plan decides what to do next for one endpoint. It is the shifter's rule
// book (DESIGN §3) as a pure function: no I/O, no clock, the same input always
// gives the same decision. The reconciler stores Decision.State before it runs
// any action, so a crash at any point replays into the same decision.
//
// Its stages run in this order, each on what the ones before decided:
//
//  1. Environments (plan_envs.go): hot versions beyond max_hot_versions go
//     cold; each environment takes in its observation: one being created is
//     asked for until it exists and passes its health gate, and a serving one
//     deleted behind the shifter's back is recreated (rule 13).
//  2. Commands (plan_commands.go): promote, pause, resume, abort and rollback
//     (rule 12).
//  3. Tracks (plan_tracks.go): the first of rules 1–5 and 11 that applies
//     picks the production rollout, which moves through its phases
//     (plan_rollout.go: rules 6–9) under judgement (plan_judge.go: the alarms
//     and metric checks of rules 7, 9 and 10); then the preview track's one
//     rule. A deleted endpoint instead ends everything.
//  4. Collection (plan_envs.go): what nothing needs any more is torn down,
//     hot versions at the end of their window among it (rule 2; invariant 4).
//  5. Traffic (plan_traffic.go), per track: what may take traffic is attached
//     at weight 0 (invariant 8), and the route is written once every
//     environment gaining traffic is healthy at its capacity (invariants 2
//     and 3); a rule changed outside the shifter is restored (rule 13).
//
// Traffic follows that one mechanism: the stages before set a route's
// intended weights, and only the last writes them. Step changes, rollbacks,
// drift repair and recreated environments all go through it. What the
// planner says, in events and reasons, is in plan_events.go.
func Plan(in Input) Decision {
	p := &planner{in: in, now: in.Now, st: in.State.clone()}
	p.trimHot()
	p.provision()
	p.applyCommands()
	if in.Endpoint.Deleting {
		p.teardown()
	} else {
		p.track(Production)
		if in.Endpoint.Traffic.HasPreview() {
			p.track(Preview)
		}
	}
	p.collect()
	for _, track := range Tracks {
		p.attach(track)
		p.writeRoute(track)
	}
	return Decision{
		State:   p.st,
		Actions: p.actions,
		Events:  p.events,
		WakeAt:  p.wake,
		Measure: p.measure,
		Traffic: p.traffic,
		Health:  p.health,
		Resolve: p.resolve,
		Gone:    p.gone(),
	}
}

type planner struct {
	in      Input
	now     time.Time
	st      State
	actions []Action
	events  []Event
	wake    time.Time
	measure *Window
	traffic *Window
	health  []string
	resolve []string
}

// clone copies the state deeply enough for the planner, which replaces
// slices and maps instead of changing them in place. A rollout that ended is
// never changed again, so only one in flight is copied.
func (s State) clone() State {
	c := s
	c.Environments = slices.Clone(s.Environments)
	for _, t := range []*TrackState{&c.Production, &c.Preview} {
		if t.Rollout.Active() {
			r := *t.Rollout
			t.Rollout = &r
			if r.Traffic != nil {
				tr := *r.Traffic
				r.Traffic = &tr
			}
			// Series is replaced, never changed in place (addPoint).
		}
		if t.Held != nil {
			h := *t.Held
			t.Held = &h
		}
		if t.Override != nil {
			o := *t.Override
			t.Override = &o
		}
	}
	return c
}

// gone reports whether a deleted endpoint has nothing left.
func (p *planner) gone() bool {
	if !p.in.Endpoint.Deleting || len(p.st.Environments) > 0 {
		return false
	}
	for _, track := range Tracks {
		if o, seen := p.in.Observed.Routes[track]; !seen || o.Exists || len(o.Weights) > 0 {
			return false
		}
	}
	return true
}

func (p *planner) versionOf(id string) string {
	if e := p.st.Environment(id); e != nil {
		return e.Version
	}
	return ""
}

// specRevisionOf returns the spec revision environment id was built from.
func (p *planner) specRevisionOf(id string) int64 {
	if e := p.st.Environment(id); e != nil {
		return e.SpecRevision
	}
	return 0
}

func (p *planner) act(a Action) { p.actions = append(p.actions, a) }

func (p *planner) poll() { p.wakeAt(p.now.Add(p.in.Poll)) }

func (p *planner) wakeAt(t time.Time) {
	if !t.IsZero() && (p.wake.IsZero() || t.Before(p.wake)) {
		p.wake = t
	}
}
