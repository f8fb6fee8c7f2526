package rollout

import "time"

// advance moves an active rollout through its phases (rules 6–10).
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
			r.Reason = reasonBlocked(now[0])
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
	p.end(track, r, PhaseFailed, CauseUnhealthy, reasonUnhealthy(e, p.in.Endpoint.Policy.HealthyTimeout, p.in.PinImages))
}

// step is rules 7–9: a step with a pause moves on when it is due and the
// metrics pass; a step without one waits for a promote; 100% bakes.
func (p *planner) step(track Track, r *Rollout) {
	if r.Since.IsZero() {
		p.poll() // weights being written; verify() starts the clock
		return
	}
	if !p.follow(track, r) {
		return
	}
	if r.Phase == PhaseBaking {
		due := r.Since.Add(p.in.Endpoint.Policy.BakeTime.D())
		if p.now.Before(due) {
			p.wakeAt(due)
			p.judgeSoFar(track, r)
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
			p.canaryWaiting(track, r, s.Weight)
		}
		p.judgeSoFar(track, r)
		return
	}
	due := r.Since.Add(s.Pause.D())
	if p.now.Before(due) {
		p.wakeAt(due)
		p.judgeSoFar(track, r)
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

// verify starts a step's clock once its weights were read back from the rule
// (and the route reads like the spec): a step is recorded only when it is
// verified.
func (p *planner) verify(track Track) {
	t := p.st.Track(track)
	o, seen := p.in.Observed.Routes[track]
	if !seen || t.Route.Verified || len(t.Route.Weights) == 0 || !SameRoute(o.Weights, t.Route.Weights) || o.Unlike != "" {
		return
	}
	t.Route.Verified = true
	r := t.Rollout
	if !r.Active() || r.Step < 0 || !r.Since.IsZero() {
		return
	}
	r.Since = p.now
	p.shifted(track, r)
	w := r.Steps[r.Step].Weight
	if r.Step < len(r.Steps)-1 {
		p.stepApplied(track, r, w)
		return
	}
	if track == Preview {
		p.previewRouted(r)
		p.complete(track, r)
		return
	}
	if r.Kind == KindRollback {
		p.complete(track, r)
		return
	}
	r.Phase = PhaseBaking
	p.baking(track, r)
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
	p.completed(track, r, e)
}

// end finishes a rollout badly (rules 6, 10, 12): traffic returns to the
// stable environment in one write and the release is held.
func (p *planner) end(track Track, r *Rollout, phase Phase, cause, reason string, details ...string) {
	t := p.st.Track(track)
	r.Phase, r.Reason, r.EndedAt = phase, reason, p.now
	r.Promote, r.PausedAt, r.PausedUntil, r.PausedBy, r.PauseReason = false, time.Time{}, time.Time{}, "", ""
	t.Held = &Hold{Key: r.Key, Phase: phase, Reason: reason}
	p.returnToStable(track, r)
	p.ended(track, r, cause, details...)
}
