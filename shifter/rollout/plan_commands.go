package rollout

import "time"

// applyCommands is rule 12: what people ask of the production rollout.
func (p *planner) applyCommands() {
	for _, c := range p.in.Commands {
		if c.Seq <= p.st.CommandSeq {
			continue
		}
		p.st.CommandSeq = c.Seq
		if why := p.command(c); why != "" {
			p.commandIgnored(c, why)
		}
	}
}

// command applies one command and returns why it was ignored, or "".
func (p *planner) command(c Command) string {
	r := p.st.Production.Rollout
	switch c.Kind {
	case CommandPromote:
		if !r.Active() || (r.Phase != PhaseShifting && r.Phase != PhasePaused) {
			return ignoredNotShifting
		}
		r.Promote = true
		if !r.PausedAt.IsZero() {
			p.resume(Production, r, c.Actor)
		}
	case CommandPause:
		if !r.Active() {
			return ignoredNotInFlight
		}
		r.PausedAt, r.PausedUntil, r.PausedBy, r.PauseReason = p.now, time.Time{}, c.Actor, c.Reason
		if c.For > 0 {
			r.PausedUntil = p.now.Add(c.For.D())
		}
		p.paused(r, c)
	case CommandResume:
		if !r.Active() || r.PausedAt.IsZero() {
			return ignoredNotPaused
		}
		p.resume(Production, r, c.Actor)
	case CommandAbort:
		if !r.Active() {
			return ignoredNotInFlight
		}
		p.end(Production, r, PhaseAborted, CauseOperator, byOperator("aborted", c))
	case CommandRollback:
		return p.rollbackCommand(c)
	case CommandOverride:
		return p.override(c)
	case CommandLift:
		o := p.st.Production.Override
		if o == nil {
			return ignoredNoOverride
		}
		p.st.Production.Override = nil
		p.overrideEnded(o, "lifted by "+c.Actor)
	}
	return ""
}

// override pins production's traffic to version c.To, live or hot, for
// c.For: what is in flight ends as an operator's rollback does, the desired
// release is held if it is another version, and nothing declared during the
// override rolls out before it ends (overridden).
func (p *planner) override(c Command) string {
	t := &p.st.Production
	stable := p.st.Environment(t.Stable)
	if pinned := stable != nil && stable.Version == c.To && !t.Rollout.Active(); !pinned {
		if why := p.rollbackCommand(c); why != "" {
			return why
		}
	}
	if d := p.in.Production; d != nil && d.Key.Version != c.To && t.Held == nil {
		t.Held = &Hold{Key: d.Key, Phase: PhaseRolledBack, Reason: byOperator("overridden to version "+c.To, c)}
	}
	t.Override = &Override{OverrideStatus: OverrideStatus{Version: c.To, Since: p.now, Until: p.now.Add(c.For.D()), Actor: c.Actor, Reason: c.Reason}}
	p.overrideStarted(t.Override)
	p.wakeAt(t.Override.Until)
	return ""
}

// overridden reports whether an override holds production's traffic, and
// ends one whose time ran out or whose version never took the traffic.
// While it holds, the desired release d waits; a new one is noted once.
func (p *planner) overridden(d *Desired) bool {
	t := &p.st.Production
	o := t.Override
	if o == nil {
		return false
	}
	stable := p.st.Environment(t.Stable)
	switch {
	case !p.now.Before(o.Until):
		t.Override = nil
		p.overrideEnded(o, "its time ran out")
		return false
	case !t.Rollout.Active() && (stable == nil || stable.Version != o.Version):
		t.Override = nil
		p.overrideEnded(o, reasonOverrideNotLive(o.Version, t.Rollout))
		return false
	}
	if d != nil && d.Key.Version != o.Version && d.Key != o.Deferred {
		o.Deferred = d.Key
		p.releaseDeferred(d, o)
	}
	p.wakeAt(o.Until)
	return true
}

// rollbackCommand ends the rollout in flight, or returns to a hot version:
// the one named, or the most recently replaced.
func (p *planner) rollbackCommand(c Command) string {
	t := &p.st.Production
	if r := t.Rollout; r.Active() && r.Kind == KindDeploy {
		p.end(Production, r, PhaseRolledBack, CauseOperator, byOperator("rolled back", c))
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
			return ignoredNotHot(c.To)
		}
		return ignoredNoHot
	}
	key := Key{Version: target.Version, TemplateHash: target.TemplateHash}
	if d := p.in.Production; d != nil {
		key.Retry = d.Key.Retry
		t.Held = &Hold{Key: d.Key, Phase: PhaseRolledBack, Reason: byOperator("rolled back to version "+target.Version, c)}
	}
	p.startRollback(target.ID, key, byOperator("rolled back", c))
	return ""
}

// resume lifts a person's pause; the frozen timers go on where they were.
func (p *planner) resume(track Track, r *Rollout, actor string) {
	if !r.Since.IsZero() {
		r.Since = r.Since.Add(p.now.Sub(r.PausedAt))
	}
	r.PausedAt, r.PausedUntil, r.PausedBy, r.PauseReason = time.Time{}, time.Time{}, "", ""
	p.resumed(track, r, actor)
}
