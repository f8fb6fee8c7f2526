package rollout

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Plan decides what to do next for one endpoint. It is the shifter's rule
// book (DESIGN §3) as a pure function: no I/O, no clock, the same input always
// gives the same decision. The reconciler stores Decision.State before it runs
// any action, so a crash at any point replays into the same decision.
//
// Traffic follows one mechanism: the planner sets a route's intended weights,
// and the route is written only when every environment gaining traffic is
// observed healthy at its capacity (invariants 2 and 3). Step changes,
// rollbacks, drift repair and recreated environments all go through it.
func Plan(in Input) Decision {
	p := &planner{in: in, now: in.Now, st: in.State.clone()}
	p.trimHot()
	p.provision()
	p.applyCommands()
	if in.Endpoint.Deleting {
		p.teardown()
	} else {
		p.production()
		if in.Endpoint.Traffic.HasPreview() {
			p.preview()
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
		Health:  p.health,
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
	health  []string
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
		}
		if t.Held != nil {
			h := *t.Held
			t.Held = &h
		}
	}
	return c
}

// production applies the planner's rules to the production track.
func (p *planner) production() {
	t := &p.st.Production
	d := p.desired(Production)
	p.verify(Production)
	if r := t.Rollout; r.Active() {
		if d == nil || d.Key == r.Key {
			p.advance(Production, r) // rules 6–10
			return
		}
		p.supersede(Production, r, d.Key) // rules 3, 11
	}
	if d == nil {
		return // rule 1, or a held release: traffic stays as it is
	}
	if stable := p.st.Environment(t.Stable); stable != nil && stable.runs(d.Key) {
		p.routeAll(Production, stable.ID) // rule 2
		return
	}
	if e := p.hot(d.Key.Version, d.Key.TemplateHash); e != nil {
		p.startRollback(e.ID, d.Key, fmt.Sprintf("version %s is still hot: traffic returns to it in one step", e.Version)) // rule 4
		return
	}
	p.start(Production, d) // rule 5
}

// preview gives the preview track's environment 100% of the preview route
// once it is healthy. It never touches production traffic.
func (p *planner) preview() {
	t := &p.st.Preview
	d := p.desired(Preview)
	p.verify(Preview)
	if r := t.Rollout; r.Active() {
		if d == nil || d.Key == r.Key {
			p.advance(Preview, r)
			return
		}
		p.supersede(Preview, r, d.Key)
	}
	if d == nil {
		return
	}
	if cur := p.st.Environment(t.Stable); cur != nil && cur.runs(d.Key) {
		p.routeAll(Preview, cur.ID)
		return
	}
	p.start(Preview, d)
}

// desired returns the track's desired release, or nil when none is declared
// or it is held after ending badly. A hold lasts until the release changes.
func (p *planner) desired(track Track) *Desired {
	t := p.st.Track(track)
	d := p.in.Desired(track)
	if t.Held != nil && (d == nil || d.Key != t.Held.Key) {
		t.Held = nil
	}
	if t.Held != nil {
		return nil
	}
	return d
}

// start records a new rollout of d; it begins in the same pass.
func (p *planner) start(track Track, d *Desired) {
	t := p.st.Track(track)
	steps := p.in.Endpoint.Policy.Steps
	if track == Preview {
		steps = []Step{{Weight: 100}}
	}
	p.st.NextRollout++
	r := &Rollout{
		ID:        p.st.NextRollout,
		Kind:      KindDeploy,
		Key:       d.Key,
		From:      t.Stable,
		Steps:     steps,
		Phase:     PhasePending,
		Step:      -1,
		StartedAt: p.now,
	}
	t.Rollout = r
	p.event(track, r.Key.Version, EventRolloutStarted, fmt.Sprintf("rollout %d of version %s started", r.ID, r.Key.Version),
		"rollout", strconv.Itoa(r.ID), "from", p.versionOf(r.From))
	if track == Production {
		r.Alarming = p.alarming()
		for _, name := range r.Alarming {
			p.event(track, r.Key.Version, EventAlarmReported, fmt.Sprintf("alarm %s was already in ALARM when the rollout started", name), "alarm", name)
		}
	}
	p.advance(track, r)
}

// startRollback moves production to a hot environment in one step: it is
// scaled back to full capacity, and 100% moves once it is healthy.
func (p *planner) startRollback(id string, key Key, reason string) {
	t := &p.st.Production
	e := p.st.Environment(id)
	p.st.NextRollout++
	t.Rollout = &Rollout{
		ID:        p.st.NextRollout,
		Kind:      KindRollback,
		Key:       Key{Version: e.Version, TemplateHash: e.TemplateHash, Retry: key.Retry},
		Target:    e.ID,
		From:      t.Stable,
		Steps:     []Step{{Weight: 100}},
		Phase:     PhaseWaitingHealthy,
		Step:      -1,
		Since:     p.now,
		StartedAt: p.now,
		Reason:    reason,
	}
	p.event(Production, e.Version, EventRolloutStarted, fmt.Sprintf("rollback to version %s started: %s", e.Version, reason),
		"rollout", strconv.Itoa(p.st.NextRollout), "kind", string(KindRollback), "from", p.versionOf(t.Stable))
	p.ensureCapacity(e)
	p.advance(Production, t.Rollout)
}

// advance moves an active rollout through its phases.
func (p *planner) advance(track Track, r *Rollout) {
	if !p.watch(track, r) {
		return
	}
	if !r.PausedAt.IsZero() {
		if r.PausedUntil.IsZero() || p.now.Before(r.PausedUntil) {
			p.wakeAt(r.PausedUntil)
			return
		}
		p.resume(track, r, ActorShifter)
	}
	switch r.Phase {
	case PhasePending:
		p.begin(track, r)
	case PhaseProvisioning, PhaseWaitingHealthy:
		p.awaitHealthy(track, r)
	case PhaseShifting, PhasePaused, PhaseBaking:
		p.step(track, r)
	}
}

// begin finds or creates the rollout's environment, unless an alarm that
// the policy says blocks a rollout is in ALARM.
func (p *planner) begin(track Track, r *Rollout) {
	if track == Production && p.in.Endpoint.Policy.BlockOnAlarm && len(r.Alarming) > 0 {
		if now := p.alarming(); len(now) > 0 {
			r.Alarming = now
			r.Reason = fmt.Sprintf("blocked: alarm %s is in ALARM", now[0])
			p.poll()
			return
		}
		r.Alarming, r.Reason = nil, ""
	}
	d := p.in.Desired(track)
	e := p.reusable(r.Key)
	if e == nil {
		e = p.newEnvironment(d)
	} else {
		p.ensureCapacity(e)
	}
	r.Target = e.ID
	r.Phase = PhaseProvisioning
	r.Since = p.now
	p.awaitHealthy(track, r)
}

// awaitHealthy is rule 6: traffic moves only to a healthy environment, and
// one that stays unhealthy past healthy_timeout fails the rollout with traffic
// untouched.
func (p *planner) awaitHealthy(track Track, r *Rollout) {
	t := p.st.Track(track)
	e := p.st.Environment(r.Target)
	if r.Phase == PhaseProvisioning && p.in.Observed.Environments[e.ID].Exists {
		r.Phase = PhaseWaitingHealthy
	}
	if e.Status == EnvReady && p.gate(e) {
		last := len(r.Steps) - 1
		r.Phase, r.Since = PhaseShifting, time.Time{}
		if track == Preview || r.Kind == KindRollback || t.Stable == "" {
			r.Step = last // nothing to shift from, or a one-step return
			p.routeAll(track, e.ID)
			return
		}
		r.Step = 0
		p.setRoute(track, p.split(t.Stable, e.ID, r.Steps[0].Weight))
		return
	}
	deadline := r.Since.Add(p.in.Endpoint.Policy.HealthyTimeout.D())
	if p.now.Before(deadline) {
		p.wakeAt(deadline)
		p.poll()
		return
	}
	p.end(track, r, PhaseFailed, CauseUnhealthy, fmt.Sprintf("environment %s of version %s was not healthy within %s: %s",
		e.ID, e.Version, p.in.Endpoint.Policy.HealthyTimeout, e.Health.Why(e.Capacity)))
}

// step is rules 7–9: a step with a pause moves on when it is due and the
// metrics pass; a step without one waits for a promote; 100% bakes.
func (p *planner) step(track Track, r *Rollout) {
	if r.Since.IsZero() {
		p.poll() // weights being written; verify() starts the clock
		return
	}
	if r.Phase == PhaseBaking {
		due := r.Since.Add(p.in.Endpoint.Policy.BakeTime.D())
		if p.now.Before(due) {
			p.wakeAt(due)
			return
		}
		if p.judge(track, r) {
			p.complete(track, r)
		}
		return
	}
	s := r.Steps[r.Step]
	if r.Promote {
		r.Promote = false
		p.next(track, r)
		return
	}
	if s.Pause == nil {
		if r.Phase != PhasePaused {
			r.Phase = PhasePaused
			p.event(track, r.Key.Version, EventRolloutPaused, fmt.Sprintf("canary at %d%%: waiting for a promote", s.Weight), "weight", strconv.Itoa(s.Weight))
		}
		return
	}
	due := r.Since.Add(s.Pause.D())
	if p.now.Before(due) {
		p.wakeAt(due)
		return
	}
	if p.judge(track, r) {
		p.next(track, r)
	}
}

// next sets the weights of the rollout's next step.
func (p *planner) next(track Track, r *Rollout) {
	t := p.st.Track(track)
	r.Step++
	r.Phase, r.Since = PhaseShifting, time.Time{}
	p.setRoute(track, p.split(t.Stable, r.Target, r.Steps[r.Step].Weight))
}

// verify starts a step's clock once its weights were read back from the rule:
// a step is recorded only when it is verified.
func (p *planner) verify(track Track) {
	t := p.st.Track(track)
	o, seen := p.in.Observed.Routes[track]
	if !seen || t.Route.Verified || len(t.Route.Weights) == 0 || !SameRoute(o.Weights, t.Route.Weights) {
		return
	}
	t.Route.Verified = true
	r := t.Rollout
	if !r.Active() || r.Step < 0 || !r.Since.IsZero() {
		return
	}
	r.Since = p.now
	w := r.Steps[r.Step].Weight
	if r.Step < len(r.Steps)-1 {
		p.event(track, r.Key.Version, EventStepApplied, fmt.Sprintf("step %d/%d: %d%% of traffic on version %s, verified", r.Step+1, len(r.Steps), w, r.Key.Version),
			"step", strconv.Itoa(r.Step+1), "weight", strconv.Itoa(w))
		return
	}
	if track == Preview {
		p.event(track, r.Key.Version, EventPreviewRouted, fmt.Sprintf("preview route sends 100%% to version %s", r.Key.Version))
		p.complete(track, r)
		return
	}
	if r.Kind == KindRollback {
		p.complete(track, r)
		return
	}
	r.Phase = PhaseBaking
	p.event(track, r.Key.Version, EventRolloutBaking, fmt.Sprintf("100%% of traffic on version %s, verified; baking for %s", r.Key.Version, p.in.Endpoint.Policy.BakeTime),
		"step", strconv.Itoa(r.Step+1), "weight", "100")
}

// complete makes the rollout's environment the track's stable one. The
// previous production environment stays hot for the rollback window, at the
// capacity the policy keeps.
func (p *planner) complete(track Track, r *Rollout) {
	t := p.st.Track(track)
	e := p.st.Environment(r.Target)
	r.Phase, r.EndedAt = PhaseComplete, p.now
	old := t.Stable
	t.Stable = e.ID
	if track == Production {
		e.HeldFull, e.HotUntil = true, time.Time{}
		if prev := p.st.Environment(old); prev != nil && prev.ID != e.ID {
			prev.HotUntil = p.now.Add(p.in.Endpoint.Policy.RetainPrevious.D())
			keep := (prev.Template.DesiredCapacity*p.in.Endpoint.Policy.RetainCapacityPercent + 99) / 100
			p.scale(prev, keep)
		}
	}
	p.event(track, r.Key.Version, EventRolloutComplete, fmt.Sprintf("version %s is live on %s", e.Version, track),
		"rollout", strconv.Itoa(r.ID), "kind", string(r.Kind))
}

// end finishes a rollout badly (rules 6, 10, 12): traffic returns to the
// stable environment in one write and the release is held.
func (p *planner) end(track Track, r *Rollout, phase Phase, cause, reason string) {
	t := p.st.Track(track)
	r.Phase, r.Reason, r.EndedAt = phase, reason, p.now
	r.Promote, r.PausedAt, r.PausedUntil = false, time.Time{}, time.Time{}
	t.Held = &Hold{Key: r.Key, Phase: phase, Reason: reason}
	p.returnToStable(track, r)
	types := map[Phase]string{PhaseAborted: EventRolloutAborted, PhaseRolledBack: EventRolloutRolledBack, PhaseFailed: EventRolloutFailed}
	p.event(track, r.Key.Version, types[phase], fmt.Sprintf("rollout %d of version %s %s: %s", r.ID, r.Key.Version, phase, reason),
		"rollout", strconv.Itoa(r.ID), "reason", reason, "cause", cause)
}

// supersede ends a rollout whose release changed (rules 3 and 11): the
// canary's share returns to stable at once; the unfinished environment is
// torn down by collect unless the new release uses it.
func (p *planner) supersede(track Track, r *Rollout, next Key) {
	t := p.st.Track(track)
	reason := fmt.Sprintf("superseded by version %s", next.Version)
	if stable := p.st.Environment(t.Stable); stable != nil && stable.runs(next) {
		reason = fmt.Sprintf("reverted to stable version %s", next.Version)
	}
	r.Phase, r.Reason, r.EndedAt = PhaseAborted, reason, p.now
	p.returnToStable(track, r)
	p.event(track, r.Key.Version, EventRolloutAborted, fmt.Sprintf("rollout %d of version %s aborted: %s", r.ID, r.Key.Version, reason),
		"rollout", strconv.Itoa(r.ID), "reason", reason, "cause", CauseSuperseded, "superseded_by", next.Version)
}

// returnToStable gives the stable environment 100% if the rollout's target
// carries traffic. Without a stable environment (a first release) there is
// nothing to return to and traffic stays.
func (p *planner) returnToStable(track Track, r *Rollout) {
	t := p.st.Track(track)
	if t.Stable == "" || t.Route.Weights[r.Target] == 0 || r.Target == t.Stable {
		return
	}
	p.routeAll(track, t.Stable)
}

// watch is rule 10: an alarm of the policy entering ALARM while traffic is
// on the new version rolls it back. It reports false when it did.
func (p *planner) watch(track Track, r *Rollout) bool {
	if track != Production || r.Kind != KindDeploy || len(p.in.Endpoint.Policy.Alarms) == 0 {
		return true
	}
	p.poll() // alarms are polled while a rollout is in flight
	watching := r.Phase == PhaseShifting || r.Phase == PhasePaused || r.Phase == PhaseBaking
	for _, name := range p.in.Endpoint.Policy.Alarms {
		state, seen := p.in.Observed.Alarms[name]
		known := slices.Contains(r.Alarming, name)
		switch {
		case !seen:
		case state != AlarmStateAlarm:
			if known {
				r.Alarming = slices.DeleteFunc(slices.Clone(r.Alarming), func(n string) bool { return n == name })
			}
		case known || !watching:
		case !p.in.Endpoint.Policy.AutoRollback || r.From == "":
			why := "auto_rollback is off"
			if r.From == "" {
				why = "there is no previous version to return to"
			}
			r.Alarming = append(slices.Clone(r.Alarming), name)
			p.event(track, r.Key.Version, EventAlarmReported, fmt.Sprintf("alarm %s entered ALARM; not rolling back: %s", name, why), "alarm", name)
		default:
			p.end(track, r, PhaseRolledBack, CauseAlarm, fmt.Sprintf("alarm %s entered ALARM", name))
			return false
		}
	}
	return true
}

// AlarmStateAlarm is the CloudWatch state that rolls a rollout back.
const AlarmStateAlarm = "ALARM"

// alarming returns the policy's alarms observed in ALARM.
func (p *planner) alarming() []string {
	var names []string
	for _, name := range p.in.Endpoint.Policy.Alarms {
		if p.in.Observed.Alarms[name] == AlarmStateAlarm {
			names = append(names, name)
		}
	}
	return names
}

// judge runs the policy's metric checks over the step that is ending. It
// returns true when the rollout may go on; false when it must wait for the
// metrics (Decision.Measure) or was rolled back.
func (p *planner) judge(track Track, r *Rollout) bool {
	mc := p.in.Endpoint.Policy.MetricChecks
	if track != Production || mc == nil || r.From == "" || !p.now.After(r.Since) {
		return true // nothing to judge, or an empty window (a bake of 0s)
	}
	target, seen := p.in.Observed.Metrics[r.Target]
	if !seen {
		p.measure = &Window{Environments: []string{r.Target, r.From}, Start: r.Since, End: p.now}
		return false
	}
	stable, hasStable := p.in.Observed.Metrics[r.From]
	reason := mc.verdict(target, stable, hasStable)
	if reason == "" {
		return true
	}
	if !p.in.Endpoint.Policy.AutoRollback {
		p.event(track, r.Key.Version, EventAlarmReported, "metric check failed; not rolling back: auto_rollback is off: "+reason)
		return true
	}
	p.end(track, r, PhaseRolledBack, CauseMetric, "metric check failed: "+reason)
	return false
}

// verdict returns why the target's metrics fail the checks, or "".
func (mc *MetricChecks) verdict(target, stable Metrics, hasStable bool) string {
	if target.Requests <= 0 || target.Requests < float64(mc.MinRequests) {
		return "" // too little traffic for a verdict
	}
	rate := 100 * target.Errors5xx / target.Requests
	if mc.Max5xxPercent > 0 && rate > mc.Max5xxPercent {
		return fmt.Sprintf("5xx rate %.2f%% is above %.2f%%", rate, mc.Max5xxPercent)
	}
	if mc.MaxLatency > 0 && target.AverageLatency > mc.MaxLatency.D() {
		return fmt.Sprintf("average latency %s is above %s", target.AverageLatency, mc.MaxLatency)
	}
	if mc.MaxRatioToStable == 0 || !hasStable || stable.Requests <= 0 || stable.Requests < float64(mc.MinRequests) {
		return ""
	}
	stableRate := 100 * stable.Errors5xx / stable.Requests
	if stableRate > 0 && rate > stableRate*mc.MaxRatioToStable {
		return fmt.Sprintf("5xx rate %.2f%% is more than %g times the stable version's %.2f%%", rate, mc.MaxRatioToStable, stableRate)
	}
	if stable.AverageLatency > 0 && float64(target.AverageLatency) > float64(stable.AverageLatency)*mc.MaxRatioToStable {
		return fmt.Sprintf("average latency %s is more than %g times the stable version's %s", target.AverageLatency, mc.MaxRatioToStable, stable.AverageLatency)
	}
	return ""
}

// applyCommands is rule 12: what people ask of the production rollout.
func (p *planner) applyCommands() {
	for _, c := range p.in.Commands {
		if c.Seq <= p.st.CommandSeq {
			continue
		}
		p.st.CommandSeq = c.Seq
		if msg := p.command(c); msg != "" {
			p.event(Production, "", EventCommand, fmt.Sprintf("%s by %s ignored: %s", c.Kind, c.Actor, msg), "command", string(c.Kind), "actor", c.Actor)
		}
	}
}

// command applies one command and returns why it was ignored, or "".
func (p *planner) command(c Command) string {
	t := &p.st.Production
	r := t.Rollout
	because := "by " + c.Actor
	if c.Reason != "" {
		because += ": " + c.Reason
	}
	switch c.Kind {
	case CommandPromote:
		if !r.Active() || (r.Phase != PhaseShifting && r.Phase != PhasePaused) {
			return "no rollout is shifting traffic"
		}
		r.Promote = true
		if !r.PausedAt.IsZero() {
			p.resume(Production, r, c.Actor)
		}
	case CommandPause:
		if !r.Active() {
			return "no rollout is in flight"
		}
		r.PausedAt, r.PausedUntil = p.now, time.Time{}
		if c.For > 0 {
			r.PausedUntil = p.now.Add(c.For.D())
		}
		p.event(Production, r.Key.Version, EventRolloutPaused, "rollout paused "+because, "actor", c.Actor)
	case CommandResume:
		if !r.Active() || r.PausedAt.IsZero() {
			return "no rollout is paused"
		}
		p.resume(Production, r, c.Actor)
	case CommandAbort:
		if !r.Active() {
			return "no rollout is in flight"
		}
		p.end(Production, r, PhaseAborted, CauseOperator, "aborted "+because)
	case CommandRollback:
		return p.rollbackCommand(c, because)
	}
	return ""
}

// rollbackCommand ends the rollout in flight, or returns to a hot version:
// the one named, or the most recently replaced.
func (p *planner) rollbackCommand(c Command, because string) string {
	t := &p.st.Production
	if r := t.Rollout; r.Active() && r.Kind == KindDeploy {
		p.end(Production, r, PhaseRolledBack, CauseOperator, "rolled back "+because)
		if stable := p.st.Environment(t.Stable); c.To == "" || (stable != nil && stable.Version == c.To) {
			return ""
		}
	}
	var target *Environment
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		if p.isHot(e) && (c.To == "" || e.Version == c.To) && (target == nil || e.HotUntil.After(target.HotUntil)) {
			target = e
		}
	}
	if target == nil {
		if c.To != "" {
			return fmt.Sprintf("version %s has no hot environment", c.To)
		}
		return "there is no hot previous version"
	}
	key := Key{Version: target.Version, TemplateHash: target.TemplateHash}
	if d := p.in.Production; d != nil {
		key.Retry = d.Key.Retry
		t.Held = &Hold{Key: d.Key, Phase: PhaseRolledBack, Reason: "rolled back to version " + target.Version + " " + because}
	}
	p.startRollback(target.ID, key, "rolled back "+because)
	return ""
}

// resume lifts a person's pause; the frozen timers go on where they were.
func (p *planner) resume(track Track, r *Rollout, actor string) {
	if !r.Since.IsZero() {
		r.Since = r.Since.Add(p.now.Sub(r.PausedAt))
	}
	r.PausedAt, r.PausedUntil = time.Time{}, time.Time{}
	p.event(track, r.Key.Version, EventRolloutResumed, "rollout resumed by "+actor, "actor", actor)
}

// teardown ends everything of a deleted endpoint: rollouts stop, routes go,
// and collect deletes every environment once no rule points at it.
func (p *planner) teardown() {
	for _, track := range Tracks {
		t := p.st.Track(track)
		if r := t.Rollout; r.Active() {
			r.Phase, r.Reason, r.EndedAt = PhaseAborted, "endpoint deleted", p.now
		}
		t.Stable, t.Route = "", Route{}
	}
}

// setRoute sets a track's intended weights; writeRoute writes them.
func (p *planner) setRoute(track Track, weights map[string]int) {
	t := p.st.Track(track)
	if SameWeights(t.Route.Weights, weights) {
		return
	}
	t.Route = Route{Weights: weights}
}

// routeAll sends all of a track's traffic to one environment.
func (p *planner) routeAll(track Track, id string) {
	if w := p.st.Track(track).Route.Weights; len(w) == 1 && w[id] == 100 {
		return // the common steady case: no new map
	}
	p.setRoute(track, map[string]int{id: 100})
}

// attach keeps every environment that may get the track's traffic on its
// route, at weight 0 while it carries none, so that the load balancer
// health-checks it (invariant 8): the stable environment, the rollout's
// target once it exists, and on production the hot environments. What is
// being torn down leaves the route first (collect waits for it).
func (p *planner) attach(track Track) {
	if p.in.Endpoint.Deleting {
		return
	}
	t := p.st.Track(track)
	want := make(map[string]int, len(t.Route.Weights)+2)
	for id, w := range t.Route.Weights {
		if w > 0 {
			want[id] = w
		}
	}
	r := t.Rollout
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		if _, ok := want[e.ID]; ok || e.Status == EnvDeleting {
			continue
		}
		target := r.Active() && r.Target == e.ID && (e.Status == EnvReady || p.in.Observed.Environments[e.ID].Exists)
		if e.ID == t.Stable || target || (track == Production && p.isHot(e)) {
			want[e.ID] = 0
		}
	}
	if len(want) == 0 || SameRoute(want, t.Route.Weights) {
		return
	}
	t.Route = Route{Weights: want}
}

// writeRoute writes a track's intended weights when the rule differs from
// them, but only once every environment gaining traffic is healthy at its
// capacity. A difference after the weights were verified is drift (rule 13).
func (p *planner) writeRoute(track Track) {
	t := p.st.Track(track)
	o, seen := p.in.Observed.Routes[track]
	if p.in.Endpoint.Deleting {
		if !seen || o.Exists || len(o.Weights) > 0 { // its standby rule too
			p.act(Action{Kind: ActionDeleteRoute, Track: track})
			p.poll()
		}
		return
	}
	if len(t.Route.Weights) == 0 || (seen && SameRoute(o.Weights, t.Route.Weights)) {
		return
	}
	if !seen {
		p.poll()
		return
	}
	gated := true
	for _, id := range sortedKeys(t.Route.Weights) {
		if t.Route.Weights[id] <= o.Weights[id] {
			continue
		}
		if e := p.st.Environment(id); e == nil || e.Status != EnvReady || !p.gate(e) {
			gated = false // go on: every environment gaining traffic asks for its health at once
		}
	}
	if !gated {
		p.poll()
		return
	}
	if t.Route.Verified {
		p.event(track, "", EventDriftRepaired, fmt.Sprintf("%s rule was changed outside the shifter (%s); restoring %s", track, formatWeights(o.Weights), formatWeights(t.Route.Weights)))
		t.Route.Verified = false
	}
	p.act(Action{Kind: ActionSetWeights, Track: track, Weights: t.Route.Weights})
	p.poll()
}

// split is the route of a step: weight on the target, the rest on stable.
func (p *planner) split(stable, target string, weight int) map[string]int {
	if weight >= 100 {
		return map[string]int{target: 100}
	}
	return map[string]int{stable: 100 - weight, target: weight}
}

// provision follows environments whose resources are being created: each pass
// asks for the missing ones (creation is idempotent) until they exist and
// are healthy. It also recreates serving environments deleted by hand.
func (p *planner) provision() {
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		o, seen := p.in.Observed.Environments[e.ID]
		if seen && o.Exists {
			e.Health.InService = o.InService
			if o.HealthRead {
				e.Health.TargetHealth, e.Health.ReadAt = o.TargetHealth, p.now
			}
		}
		switch {
		case !seen || e.Status == EnvDeleting:
		case e.Status == EnvProvisioning && !o.Exists:
			p.act(Action{Kind: ActionCreateEnvironment, Environment: e.ID})
			p.poll()
		case e.Status == EnvProvisioning && p.gate(e):
			e.Status = EnvReady
			p.event("", e.Version, EventEnvironmentHealthy, fmt.Sprintf("environment %s of version %s is healthy (%d in service, %d healthy targets)", e.ID, e.Version, o.InService, o.Healthy),
				"environment", e.ID)
		case e.Status == EnvProvisioning:
			p.poll()
		case !o.Exists && p.serving(e):
			e.Status = EnvProvisioning
			p.event("", e.Version, EventEnvironmentMissing, fmt.Sprintf("environment %s of version %s is missing in AWS; recreating it", e.ID, e.Version), "environment", e.ID)
			p.act(Action{Kind: ActionCreateEnvironment, Environment: e.ID})
			p.poll()
		case !o.Exists:
			e.Status = EnvDeleting // a hot environment deleted by hand can no longer be returned to
			p.event("", e.Version, EventEnvironmentMissing, fmt.Sprintf("environment %s of version %s is missing in AWS; it is no longer a rollback target", e.ID, e.Version), "environment", e.ID)
		}
	}
}

// collect tears down every environment nothing needs: not serving, not a
// rollout's target, not inside its rollback window (invariant 4). It removes
// an environment from the state once AWS shows none of it.
func (p *planner) collect() {
	p.trimHot()               // a rollout that completed in this pass made one more hot
	envs := p.st.Environments // the planner's own clone: compacted in place
	n := 0
	for i := range envs {
		if !p.keep(&envs[i]) {
			continue
		}
		if n != i {
			envs[n] = envs[i]
		}
		n++
	}
	p.st.Environments = envs[:n]
}

// keep decides the fate of one environment: needed, torn down, or gone
// (false: forget it).
func (p *planner) keep(e *Environment) bool {
	if e.Status != EnvDeleting {
		if p.needed(e) {
			if p.isHot(e) {
				p.wakeAt(e.HotUntil)
			}
			return true
		}
		e.Status = EnvDeleting
		p.event("", e.Version, EventEnvironmentDeleting, fmt.Sprintf("environment %s of version %s is no longer needed (%s); deleting it", e.ID, e.Version, p.whyUnneeded(e)),
			"environment", e.ID)
	}
	if p.in.Observed.Environments[e.ID].Gone {
		p.event("", e.Version, EventEnvironmentDeleted, fmt.Sprintf("environment %s of version %s deleted", e.ID, e.Version), "environment", e.ID)
		return false
	}
	if p.routed(e.ID) {
		p.poll() // attach() leaves it out of the route; it goes once AWS shows it detached
		return true
	}
	// Scaling to zero first lets instances drain through the target
	// group's deregistration delay before the group goes.
	p.scale(e, 0)
	p.act(Action{Kind: ActionDeleteEnvironment, Environment: e.ID})
	p.poll()
	return true
}

// needed reports whether anything still depends on e. Once the endpoint is
// being deleted only traffic does: there is nothing left to roll back to.
func (p *planner) needed(e *Environment) bool {
	if p.serving(e) {
		return true
	}
	if p.in.Endpoint.Deleting {
		return false
	}
	if p.isHot(e) {
		return true
	}
	for _, track := range Tracks {
		if r := p.st.Track(track).Rollout; r.Active() && r.Target == e.ID {
			return true
		}
	}
	return false
}

// serving reports whether e is a track's stable environment or carries (or
// is meant to carry) traffic.
func (p *planner) serving(e *Environment) bool {
	for _, track := range Tracks {
		t := p.st.Track(track)
		if t.Stable == e.ID || t.Route.Weights[e.ID] > 0 || p.in.Observed.Routes[track].Weights[e.ID] > 0 {
			return true
		}
	}
	return false
}

// isHot reports whether e is a previous production version inside its
// rollback window.
func (p *planner) isHot(e *Environment) bool {
	return e.Status == EnvReady && e.HeldFull && e.ID != p.st.Production.Stable && p.now.Before(e.HotUntil)
}

// trimHot ends the rollback window of hot environments beyond the policy's
// max_hot_versions, oldest first (the earliest end of window; the lower ID
// between equals), so that a route never has more to keep attached than a
// load balancer allows.
func (p *planner) trimHot() {
	var hot []*Environment
	for i := range p.st.Environments {
		if e := &p.st.Environments[i]; p.isHot(e) {
			hot = append(hot, e)
		}
	}
	slices.SortFunc(hot, func(a, b *Environment) int {
		return cmp.Or(b.HotUntil.Compare(a.HotUntil), cmp.Compare(b.ID, a.ID))
	})
	for _, e := range hot[min(len(hot), p.in.Endpoint.Policy.HotVersions()):] {
		e.HotUntil = p.now
		p.event("", e.Version, EventEnvironmentCold, fmt.Sprintf("version %s is no longer a rollback target: %d newer versions are hot (policy.max_hot_versions)", e.Version, p.in.Endpoint.Policy.HotVersions()),
			"environment", e.ID)
	}
}

func (p *planner) whyUnneeded(e *Environment) string {
	switch {
	case p.in.Endpoint.Deleting:
		return "endpoint deleted"
	case e.HeldFull:
		return "rollback window ended"
	case e.Status == EnvProvisioning:
		return "its rollout ended before it was healthy"
	}
	return "its rollout did not complete"
}

// hot returns the production environment hot for (version, hash), or nil.
func (p *planner) hot(version, hash string) *Environment {
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		if p.isHot(e) && e.Version == version && e.TemplateHash == hash {
			return e
		}
	}
	return nil
}

// reusable returns an environment running key that is not being torn down,
// such as one built for the preview track.
func (p *planner) reusable(key Key) *Environment {
	for i := range p.st.Environments {
		e := &p.st.Environments[i]
		if e.Status != EnvDeleting && e.runs(key) {
			return e
		}
	}
	return nil
}

// newEnvironment records the intent to create an environment for d before
// anything exists in AWS (invariant 5).
func (p *planner) newEnvironment(d *Desired) *Environment {
	p.st.NextEnvironment++
	template := p.in.Endpoint.Template
	e := Environment{
		ID:           "e" + strconv.Itoa(p.st.NextEnvironment),
		Version:      d.Release.Version,
		TemplateHash: d.Key.TemplateHash,
		Image:        d.Release.ImageFor(p.in.Endpoint),
		Template:     &template,
		Env:          d.Release.Env,
		Status:       EnvProvisioning,
		Capacity:     p.in.Endpoint.Template.DesiredCapacity,
		CreatedAt:    p.now,
	}
	p.st.Environments = append(p.st.Environments, e)
	p.event(d.Release.Track, e.Version, EventEnvironmentCreating, fmt.Sprintf("creating environment %s for version %s (image %s, %d instances)", e.ID, e.Version, e.Image, e.Capacity),
		"environment", e.ID, "template_hash", e.TemplateHash)
	p.act(Action{Kind: ActionCreateEnvironment, Environment: e.ID})
	p.poll()
	return &p.st.Environments[len(p.st.Environments)-1]
}

// ensureCapacity scales an environment back to its template's capacity
// before traffic moves to it (invariant 3).
func (p *planner) ensureCapacity(e *Environment) {
	if e.Capacity < e.Template.DesiredCapacity {
		p.scale(e, e.Template.DesiredCapacity)
	}
}

func (p *planner) scale(e *Environment, capacity int) {
	if e.Capacity == capacity {
		return
	}
	p.event("", e.Version, EventEnvironmentScaled, fmt.Sprintf("environment %s of version %s scaled from %d to %d instances", e.ID, e.Version, e.Capacity, capacity),
		"environment", e.ID, "capacity", strconv.Itoa(capacity))
	e.Capacity = capacity
	p.act(Action{Kind: ActionScaleEnvironment, Environment: e.ID, Capacity: capacity})
}

// gate reports whether e may take traffic: healthy at its capacity as read
// in this pass (invariants 2 and 3). Without a read of its target health it
// asks for one (Decision.Health) and reports false, unless its target group
// is not attached to the load balancer yet, which would not health-check it.
func (p *planner) gate(e *Environment) bool {
	o, seen := p.in.Observed.Environments[e.ID]
	if !seen || !o.Exists {
		return false
	}
	if o.HealthRead {
		return p.healthy(e, o)
	}
	if p.attachedInAWS(e.ID) && !slices.Contains(p.health, e.ID) {
		p.health = append(p.health, e.ID)
	}
	return false
}

// healthy reports whether observation o shows e with its capacity in service
// and enough healthy targets to take traffic.
func (p *planner) healthy(e *Environment, o EnvObservation) bool {
	if e.Capacity < 1 {
		return false
	}
	need := max(1, (e.Capacity*p.in.Endpoint.Policy.MinHealthyPercent+99)/100)
	return o.Capacity >= e.Capacity && o.InService >= e.Capacity && o.Healthy >= need
}

// routed reports whether an environment is on a route, at any weight, as
// observed in AWS or as the planner means to write it.
func (p *planner) routed(id string) bool {
	for _, track := range Tracks {
		if _, ok := p.st.Track(track).Route.Weights[id]; ok {
			return true
		}
	}
	return p.attachedInAWS(id)
}

// attachedInAWS reports whether a route read in this pass has the
// environment, at any weight: its target group is health-checked.
func (p *planner) attachedInAWS(id string) bool {
	for _, track := range Tracks {
		if _, ok := p.in.Observed.Routes[track].Weights[id]; ok {
			return true
		}
	}
	return false
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

func (p *planner) act(a Action) { p.actions = append(p.actions, a) }

func (p *planner) poll() { p.wakeAt(p.now.Add(p.in.Poll)) }

func (p *planner) wakeAt(t time.Time) {
	if !t.IsZero() && (p.wake.IsZero() || t.Before(p.wake)) {
		p.wake = t
	}
}

// event records a decision; details are key, value pairs.
func (p *planner) event(track Track, version, typ, message string, details ...string) {
	e := Event{
		Endpoint: p.in.Endpoint.Name,
		Time:     p.now,
		Actor:    ActorShifter,
		Type:     typ,
		Track:    track,
		Version:  version,
		Message:  message,
	}
	if len(details) > 0 {
		e.Details = make(map[string]string, len(details)/2)
		for i := 0; i+1 < len(details); i += 2 {
			e.Details[details[i]] = details[i+1]
		}
	}
	p.events = append(p.events, e)
}

// runs reports whether e runs key's version and template.
func (e *Environment) runs(k Key) bool {
	return e.Version == k.Version && e.TemplateHash == k.TemplateHash
}

// SameRoute reports whether two routes are alike: the same environments
// attached, with the same weights.
func SameRoute(a, b map[string]int) bool { return maps.Equal(a, b) }

// SameWeights reports whether two routes send the same share to each
// environment; a weight of zero is the same as no entry.
func SameWeights(a, b map[string]int) bool {
	n := 0
	for id, w := range a {
		if w == 0 {
			continue
		}
		if b[id] != w {
			return false
		}
		n++
	}
	if n == len(b) {
		return true // b has an entry for each of a's, so none other
	}
	for _, w := range b {
		if w != 0 {
			n--
		}
	}
	return n == 0
}

func formatWeights(w map[string]int) string {
	keys := sortedKeys(w)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += k + "=" + strconv.Itoa(w[k])
	}
	if s == "" {
		return "no rule"
	}
	return s
}
